// `calicoctl delete ippool`: as Calico's clientv3 IPPool delete — disable the pool first (so no new allocation
// starts from it), give in-flight allocations a moment, release every block affinity inside it (empty blocks go,
// blocks still holding addresses become non-affine), then delete the pool object.
//   pool name (+ optional resourceVersion) -> the deleted pool; the datastore's errors pass through unchanged
import type { Resource } from '../../api/resource.js';
import type { ResourceClient } from '../../datastore/resources.js';
import { IpamClient } from '../../ipam/client.js';

/** Calico's pause between disabling a pool and releasing its affinities. */
export const POOL_DELETE_PAUSE_MS = 500;

export async function deletePoolCascade(
  client: ResourceClient,
  name: string,
  resourceVersion?: string,
  pauseMs = POOL_DELETE_PAUSE_MS,
): Promise<Resource> {
  let pool = await client.get('IPPool', name);
  if (resourceVersion && resourceVersion !== pool.metadata.resourceVersion) {
    // A stale version: the compare-and-swap delete reports the conflict and writes nothing.
    return client.delete('IPPool', name, undefined, resourceVersion);
  }
  if (pool.spec?.disabled !== true) {
    pool = await client.update({ ...pool, spec: { ...pool.spec, disabled: true } });
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  await new IpamClient(client.datastore).releasePoolAffinities(String(pool.spec.cidr));
  return client.delete('IPPool', name, undefined, pool.metadata.resourceVersion);
}
