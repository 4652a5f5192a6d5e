// `calico-lab apply|delete -f FILE`: Kubernetes kinds go to the lab's API server (create, or replace when present,
// as kubectl's object API does), projectcalico.org/v3 kinds to the datastore. The whole input is checked first —
// every document valid, every pod's namespace present, every IP pool a pod annotation names present — and nothing is
// written when anything is wrong. Pods without spec.nodeName are scheduled round-robin over the lab's nodes.
// Runs inside the underlay namespace, where the API server and the datastore are reachable.
import { KubeRest, KubeRestError, loadKubeconfig, objectPaths } from './kube-rest.js';
import { parseResources, isKubernetesKind, type KubernetesObject, type Resource } from '../api/index.js';
import { openDatastore, datastoreSettingsFromEnv, ResourceClient, ensureInitialized } from '../datastore/index.js';

export interface ApplyContext {
  kubeconfig: string;
  nodeNames: string[];
  env: Record<string, string | undefined>;
}

type AnyObject = KubernetesObject | Resource;

const isK8s = (o: AnyObject) => o.apiVersion !== 'projectcalico.org/v3' && isKubernetesKind(o.kind);
const POOL_ANNOTATIONS = ['cni.projectcalico.org/ipv4pools', 'cni.projectcalico.org/ipv6pools'];

export class LabInputError extends Error {}

export async function labApply(text: string, ctx: ApplyContext, mode: 'apply' | 'delete'): Promise<string[]> {
  let objects: AnyObject[];
  try {
    objects = parseResources(text, { kubernetes: true }) as AnyObject[];
  } catch (e) {
    throw new LabInputError(e instanceof Error ? e.message : String(e));
  }
  const api = new KubeRest(loadKubeconfig(ctx.kubeconfig));
  const datastore = await openDatastore(datastoreSettingsFromEnv(ctx.env), { timeoutMs: 10_000 });
  const calico = new ResourceClient(datastore);
  try {
    if (mode === 'apply') await checkReferences(objects, api, calico);
    const out: string[] = [];
    if (mode === 'apply') {
      await ensureInitialized(calico).catch(() => undefined);
      const pods = await api.request<{ items: unknown[] }>('GET', '/api/v1/pods');
      let next = pods.items.length;
      for (const o of objects) {
        if (isK8s(o)) {
          const obj = structuredClone(o) as KubernetesObject & { spec?: { nodeName?: string } };
          if (o.kind === 'Pod' && !obj.spec?.nodeName) {
            obj.spec = { ...obj.spec, nodeName: ctx.nodeNames[next++ % ctx.nodeNames.length] };
          }
          out.push(await applyKubernetes(api, obj as KubernetesObject));
        } else {
          await calico.apply(o as Resource);
          out.push(`${o.kind.toLowerCase()}.projectcalico.org/${o.metadata.name} applied`);
        }
      }
    } else {
      for (const o of [...objects].reverse()) {
        const deleted = isK8s(o)
          ? await api.request('DELETE', objectPaths(o).item).then(
              () => true,
              (e: unknown) => (isNotFound(e) ? false : Promise.reject(e)),
            )
          : await calico.delete(o.kind, o.metadata.name, o.metadata.namespace).then(
              () => true,
              (e: unknown) => (e instanceof Error && /does not exist/.test(e.message) ? false : Promise.reject(e)),
            );
        out.push(`${o.kind.toLowerCase()}/${o.metadata.name} ${deleted ? 'deleted' : 'not found'}`);
      }
    }
    return out;
  } finally {
    await datastore.close();
  }
}

async function applyKubernetes(api: KubeRest, obj: KubernetesObject): Promise<string> {
  const name = `${obj.kind.toLowerCase()}/${obj.metadata.name}`;
  const paths = objectPaths(obj);
  try {
    await api.request('POST', paths.collection, obj);
    return `${name} created`;
  } catch (e) {
    if (!isConflict(e)) throw e;
  }
  const current = await api.request<KubernetesObject & { spec?: { nodeName?: string } }>('GET', paths.item);
  obj.metadata = { ...obj.metadata, resourceVersion: current.metadata?.resourceVersion };
  // A pod stays on the node it was scheduled to (spec.nodeName is immutable in Kubernetes).
  const currentNode = current.spec?.nodeName;
  if (obj.kind === 'Pod' && currentNode) (obj as { spec?: { nodeName?: string } }).spec!.nodeName = currentNode;
  await api.request('PUT', paths.item, obj);
  return `${name} configured`;
}

const isConflict = (e: unknown) => e instanceof KubeRestError && e.status === 409;
const isNotFound = (e: unknown) => e instanceof KubeRestError && e.status === 404;

/** Every pod's namespace exists (in the API or in the input) and every pool a pod annotation names exists. */
async function checkReferences(objects: AnyObject[], api: KubeRest, calico: ResourceClient): Promise<void> {
  const problems: string[] = [];
  const list = await api.request<{ items: KubernetesObject[] }>('GET', '/api/v1/namespaces');
  const namespaces = new Set(list.items.map((n) => n.metadata.name));
  for (const o of objects) if (o.kind === 'Namespace') namespaces.add(o.metadata.name);
  const pools = (await calico.list('IPPool')).items;
  const poolNames = new Set<string>();
  for (const p of pools) poolNames.add(p.metadata.name).add(String(p.spec.cidr));
  for (const o of objects)
    if (o.kind === 'IPPool') poolNames.add(o.metadata.name).add(String((o as Resource).spec.cidr));
  for (const o of objects) {
    if (o.kind !== 'Pod' || !isK8s(o)) continue;
    const ns = o.metadata.namespace ?? 'default';
    if (!namespaces.has(ns)) problems.push(`Pod "${ns}/${o.metadata.name}": namespace "${ns}" does not exist`);
    for (const key of POOL_ANNOTATIONS) {
      const value = o.metadata.annotations?.[key];
      if (value === undefined) continue;
      let names: unknown;
      try {
        names = JSON.parse(value);
      } catch {
        problems.push(`Pod "${ns}/${o.metadata.name}": metadata.annotations["${key}"]: not a JSON list: ${value}`);
        continue;
      }
      if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
        problems.push(
          `Pod "${ns}/${o.metadata.name}": metadata.annotations["${key}"]: must be a JSON list of pool names or CIDRs`,
        );
        continue;
      }
      for (const n of names as string[]) {
        if (!poolNames.has(n))
          problems.push(
            `Pod "${ns}/${o.metadata.name}": metadata.annotations["${key}"]: IP pool "${n}" does not exist`,
          );
      }
    }
  }
  if (problems.length) throw new LabInputError(problems.join('\n'));
}
