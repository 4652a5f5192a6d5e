// Kubernetes Status objects for failures, worded as kube-apiserver words them (reason, code, details), and the
// ApiError that carries one from wherever a request fails to the response writer.

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
    this.name = 'ApiError';
  }
  get code(): number {
    return this.status.code;
  }
}

function failure(code: number, reason: string, message: string, details?: Status['details']): ApiError {
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

/** What kube-apiserver calls a resource in messages: `pods`, `leases.coordination.k8s.io`. */
const qualified = (plural: string, group: string): string => (group ? `${plural}.${group}` : plural);

export const notFound = (plural: string, group: string, name: string): ApiError =>
  failure(404, 'NotFound', `${qualified(plural, group)} "${name}" not found`, {
    name,
    group: group || undefined,
    kind: plural,
  });

export const alreadyExists = (plural: string, group: string, name: string): ApiError =>
  failure(409, 'AlreadyExists', `${qualified(plural, group)} "${name}" already exists`, {
    name,
    group: group || undefined,
    kind: plural,
  });

export const conflict = (plural: string, group: string, name: string): ApiError =>
  failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(plural, group)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: group || undefined, kind: plural },
  );

export const invalid = (kind: string, group: string, name: string, causes: StatusCause[]): ApiError =>
  failure(
    422,
    'Invalid',
    `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(', ')}`,
    { name, group: group || undefined, kind, causes },
  );

export const badRequest = (message: string): ApiError => failure(400, 'BadRequest', message);
export const unauthorized = (): ApiError => failure(401, 'Unauthorized', 'Unauthorized');
export const methodNotAllowed = (): ApiError =>
  failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
export const pathNotFound = (path: string): ApiError =>
  failure(404, 'NotFound', `the server could not find the requested resource (${path})`, {});
export const unsupportedMediaType = (type: string): ApiError =>
  failure(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got ${type})`,
  );
export const expired = (message: string): ApiError => failure(410, 'Expired', message);
export const tooOldResourceVersion = (requested: number, compacted: number): ApiError =>
  expired(`too old resource version: ${requested} (${compacted})`);
export const internalError = (message: string): ApiError =>
  failure(500, 'InternalError', `Internal error occurred: ${message}`);
