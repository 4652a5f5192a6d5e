// One benchmark worker process: opens the datastore, warms up (allocates and releases addresses for a node of its own,
// so the measured run is V8's optimised code, as in a long-running calico-node, without claiming any block of the
// measured node), reports "ready", waits for "go" on stdin, then allocates its share of addresses in-process (under
// the node's host lock when a lock file is given) and prints the elapsed milliseconds. Started by bench/ipam/run.ts.
import { openDatastore } from '../../src/datastore/index.js';
import type { OpenOptions } from '../../src/datastore/open.js';
import type { DatastoreSettings } from '../../src/datastore/settings.js';
import { IpamClient } from '../../src/ipam/client.js';
import { HostLock } from '../../src/ipam/plugin/lock.js';

const [settingsJson, node, countText, tag, lockFile, openJson, warmNode, warmCountText] = process.argv.slice(2);
const settings = JSON.parse(settingsJson) as DatastoreSettings;
const count = Number(countText);

const ds = await openDatastore(settings, { timeoutMs: 30_000, ...(JSON.parse(openJson || '{}') as OpenOptions) });
const ipam = new IpamClient(ds);
for (let i = 0; i < Number(warmCountText ?? 0); i++) {
  const handleId = `warm.${tag}-${i}`;
  await ipam.autoAssign({ num4: 1, num6: 0, handleId, attrs: { node: warmNode }, hostname: warmNode });
  await ipam.releaseByHandle(handleId);
}
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
const start = performance.now();
for (let i = 0; i < count; i++) {
  // As calico-ipam: one host lock per node around each request (optional; correctness never depends on it).
  const lock = lockFile ? await HostLock.acquire(lockFile) : undefined;
  try {
    await ipam.autoAssign({ num4: 1, num6: 0, handleId: `bench.${tag}-${i}`, attrs: { node }, hostname: node });
  } finally {
    await lock?.release();
  }
}
process.stdout.write(`${(performance.now() - start).toFixed(1)}\n`);
await ds.close();
process.exit(0);
