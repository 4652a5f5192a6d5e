// The datastore side of Calico's pool placement checks: reads the other pools and the existing blocks for a pool
// about to be written, so a writer (calicoctl create/apply/replace) can refuse overlaps before writing anything.
//   IPPool resource + datastore -> problems (field, reason)
import type { Datastore } from '../datastore/types.js';
import { parseCidr } from '../net/ip.js';
import { IpamStore } from './store.js';
import { poolPlacementProblems, type PoolPlacementProblem } from './core/pool.js';

export async function poolPlacementProblemsFor(
  ds: Datastore,
  pool: { metadata: { name: string }; spec?: Record<string, unknown> },
): Promise<PoolPlacementProblem[]> {
  const text = pool.spec?.cidr;
  if (typeof text !== 'string') return [];
  let cidr;
  try {
    cidr = parseCidr(text);
  } catch {
    return []; // The resource's own validation names a bad CIDR.
  }
  const blockSize = Number(pool.spec?.blockSize ?? (cidr.family === 4 ? 26 : 122));
  const store = new IpamStore(ds);
  const [others, blocks] = await Promise.all([store.listPools(), store.listBlocks(cidr.family)]);
  return poolPlacementProblems(
    { name: pool.metadata.name, cidr, blockSize },
    others,
    blocks.map((b) => parseCidr(b.value.cidr)),
  );
}
