// What kube-apiserver does to an object between decoding and storing it: scope checks (name and namespace against
// the URL), defaulting (src/api/k8s: policyTypes, protocol TCP, namespace name label, pod service account) and
// validation, returning 422 Invalid with one cause per field problem.
import {
  defaultKubernetesObject,
  kubernetesObjectProblems,
  isDns1123Subdomain,
  isDns1123Label,
} from '../../api/index.js';
import type { ServedResource } from './resources.js';
import { apiVersionOf } from './resources.js';
import { badRequest, invalid, type StatusCause } from './status.js';

export type KubeObject = Record<string, any> & { metadata: Record<string, any> };

/** Kinds validated by src/api/k8s (the others get the checks below). */
const VALIDATED_BY_API = new Set(['Namespace', 'Pod', 'ServiceAccount', 'Node', 'NetworkPolicy']);

/** Checks apiVersion/kind and URL scope; fills kind/apiVersion/namespace when absent, as kube-apiserver does. */
export function checkEnvelope(
  res: ServedResource,
  body: unknown,
  urlNamespace: string | undefined,
  urlName?: string,
): KubeObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest(`the body of the request must be a ${res.kind} object`);
  const obj = body as KubeObject;
  const apiVersion = apiVersionOf(res);
  if (obj.kind !== undefined && obj.kind !== res.kind)
    throw badRequest(
      `the API version in the data (${obj.apiVersion}) and kind (${obj.kind}) do not match the request (${apiVersion}, ${res.kind})`,
    );
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion)
    throw badRequest(
      `the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersion})`,
    );
  obj.kind = res.kind;
  obj.apiVersion = apiVersion;
  if (typeof obj.metadata !== 'object' || obj.metadata === null) obj.metadata = {};
  const meta = obj.metadata;
  if (res.namespaced) {
    if (meta.namespace && urlNamespace && meta.namespace !== urlNamespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    meta.namespace = meta.namespace || urlNamespace;
  } else if (meta.namespace) {
    delete meta.namespace;
  }
  if (urlName !== undefined && meta.name !== undefined && meta.name !== urlName)
    throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${urlName})`);
  if (urlName !== undefined) meta.name = urlName;
  return obj;
}

/** Defaulting then validation; throws 422 Invalid listing every problem. */
export function admit(res: ServedResource, obj: KubeObject): KubeObject {
  const defaulted = VALIDATED_BY_API.has(res.kind)
    ? (defaultKubernetesObject(obj as any) as KubeObject)
    : structuredClone(obj);
  const causes: StatusCause[] = [];
  const name = String(defaulted.metadata.name ?? '');
  if (VALIDATED_BY_API.has(res.kind)) {
    for (const p of kubernetesObjectProblems(defaulted).problems)
      causes.push({
        reason: /required/i.test(p.reason) ? 'FieldValueRequired' : 'FieldValueInvalid',
        message: p.reason,
        field: p.path || undefined,
      });
  } else {
    if (!name)
      causes.push({
        reason: 'FieldValueRequired',
        message: 'name or generateName is required',
        field: 'metadata.name',
      });
    else if (!isDns1123Subdomain(name))
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`,
        field: 'metadata.name',
      });
    if (res.kind === 'Lease') checkLease(defaulted, causes);
  }
  if (res.namespaced && defaulted.metadata.namespace && !isDns1123Label(defaulted.metadata.namespace))
    causes.push({
      reason: 'FieldValueInvalid',
      message: `Invalid value: "${defaulted.metadata.namespace}"`,
      field: 'metadata.namespace',
    });
  if (causes.length) throw invalid(res.kind, res.group, name, causes);
  return defaulted;
}

function checkLease(obj: KubeObject, causes: StatusCause[]): void {
  const spec = obj.spec ?? {};
  if (typeof spec !== 'object' || Array.isArray(spec)) {
    causes.push({ reason: 'FieldValueInvalid', message: 'must be an object', field: 'spec' });
    return;
  }
  for (const f of ['leaseDurationSeconds', 'leaseTransitions'])
    if (spec[f] !== undefined && spec[f] !== null && (!Number.isInteger(spec[f]) || spec[f] < 0))
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(spec[f])}: must be a non-negative integer`,
        field: `spec.${f}`,
      });
  if (spec.leaseDurationSeconds === 0)
    causes.push({
      reason: 'FieldValueInvalid',
      message: 'Invalid value: 0: must be greater than 0',
      field: 'spec.leaseDurationSeconds',
    });
  if (spec.holderIdentity !== undefined && spec.holderIdentity !== null && typeof spec.holderIdentity !== 'string')
    causes.push({ reason: 'FieldValueInvalid', message: 'must be a string', field: 'spec.holderIdentity' });
  for (const f of ['acquireTime', 'renewTime'])
    if (spec[f] != null && (typeof spec[f] !== 'string' || Number.isNaN(Date.parse(spec[f]))))
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(spec[f])}: must be an RFC 3339 micro time`,
        field: `spec.${f}`,
      });
}

/** Fields an update may not change (kube-apiserver's immutability rules for what this server stores). */
export function checkImmutable(res: ServedResource, old: KubeObject, next: KubeObject): void {
  const causes: StatusCause[] = [];
  if (res.kind === 'Pod') {
    const before = old.spec?.nodeName;
    if (before && next.spec?.nodeName !== before)
      causes.push({
        reason: 'FieldValueForbidden',
        message: 'Forbidden: field is immutable once set',
        field: 'spec.nodeName',
      });
    if (
      JSON.stringify(old.spec?.containers?.map((c: any) => c.name)) !==
      JSON.stringify(next.spec?.containers?.map((c: any) => c.name))
    )
      causes.push({
        reason: 'FieldValueForbidden',
        message: 'Forbidden: pod updates may not add or remove containers',
        field: 'spec.containers',
      });
  }
  if (causes.length) throw invalid(res.kind, res.group, String(next.metadata.name), causes);
}
