// A minimal OpenAPI v3 description of the served resources: enough for kubectl to see that this server validates
// fields itself (the `fieldValidation` query parameter on PATCH/POST/PUT), so `kubectl apply` validates server-side
// instead of downloading full schemas. Paths per group version, each operation tagged with its group-version-kind.
import { SERVED_RESOURCES, type ServedResource } from './resources.js';

const gvPath = (r: ServedResource): string => (r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`);

export function openApiRoot(): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const r of SERVED_RESOURCES)
    paths[gvPath(r)] = { serverRelativeURL: `/openapi/v3/${gvPath(r)}?hash=calico-ts-1` };
  return { paths };
}

export function openApiGroupVersion(gv: string): object | undefined {
  const served = SERVED_RESOURCES.filter((r) => gvPath(r) === gv);
  if (served.length === 0) return undefined;
  const paths: Record<string, object> = {};
  for (const r of served) {
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const op = (verb: string) => ({
      operationId: `${verb}${r.kind}`,
      'x-kubernetes-action': verb,
      'x-kubernetes-group-version-kind': gvk,
      parameters: [
        { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
        { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
      ],
      responses: { '200': { description: 'OK' } },
    });
    const base = `/${gvPath(r)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}`;
    paths[base] = { get: op('list'), post: op('post') };
    paths[`${base}/{name}`] = { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.30.0-calico-ts' },
    paths,
    components: { schemas: {} },
  };
}
