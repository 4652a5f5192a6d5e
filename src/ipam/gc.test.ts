import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDatastore } from '../datastore/memory.js';
import { resourceKey } from '../datastore/keys.js';
import { IpamClient } from './client.js';
import { LeakCollector, datastoreLiveness, DEFAULT_LEAK_GRACE_PERIOD_MS } from './gc.js';
import { putNode, putPool } from '../../test/support/ipam.js';

async function world() {
  const ds = new MemoryDatastore();
  const ipam = new IpamClient(ds);
  await putNode(ds, 'node-a');
  await putNode(ds, 'node-b');
  await putPool(ds, 'p', '10.0.0.0/24');
  const assign = async (host: string, handle: string) =>
    (
      await ipam.autoAssign({
        num4: 1,
        num6: 0,
        handleId: handle,
        attrs: { node: host, pod: handle, namespace: 'd' },
        hostname: host,
      })
    ).ipv4[0].split('/')[0];
  const putWep = async (name: string, ip: string) =>
    ds.put(
      resourceKey('WorkloadEndpoint', name, 'd'),
      JSON.stringify({ metadata: { name, namespace: 'd' }, spec: { node: 'node-a', ipNetworks: [`${ip}/32`] } }),
    );
  return { ds, ipam, assign, putWep };
}

test('a leak is a candidate first and released only after the grace period', async () => {
  const { ds, ipam, assign, putWep } = await world();
  let now = 1_000_000;
  const gc = new LeakCollector(ipam, { now: () => now });
  const live = await assign('node-a', 'live');
  const leak = await assign('node-a', 'leak');
  await putWep('live', live);
  let r = await gc.scan(await datastoreLiveness(ds));
  assert.deepEqual(r.candidates, [leak]);
  assert.deepEqual(r.released, []);
  now += DEFAULT_LEAK_GRACE_PERIOD_MS - 1;
  r = await gc.scan(await datastoreLiveness(ds));
  assert.deepEqual(r.released, [], 'not before 15 minutes');
  now += 1;
  r = await gc.scan(await datastoreLiveness(ds));
  assert.deepEqual(r.released, [leak]);
  assert.equal(await ipam.getAllocation(leak), undefined);
  assert.equal((await ipam.getAllocation(live))?.handleId, 'live');
});

test('a pod being set up is never robbed: its endpoint appearing clears the candidate', async () => {
  const { ds, ipam, assign, putWep } = await world();
  let now = 0;
  const gc = new LeakCollector(ipam, { now: () => now });
  const ip = await assign('node-a', 'slow-pod');
  await gc.scan(await datastoreLiveness(ds)); // candidate: allocated, no endpoint yet
  now += 10 * 60_000;
  await putWep('slow-pod', ip);
  await gc.scan(await datastoreLiveness(ds));
  now += 10 * 60_000;
  const r = await gc.scan(await datastoreLiveness(ds));
  assert.deepEqual(r.released, []);
  assert.equal((await ipam.getAllocation(ip))?.handleId, 'slow-pod');
});

test('an address released and re-used during the grace period is a new allocation, not the old candidate', async () => {
  const { ds, ipam, assign } = await world();
  let now = 0;
  const gc = new LeakCollector(ipam, { now: () => now });
  const ip = await assign('node-a', 'old');
  await gc.scan(await datastoreLiveness(ds));
  await ipam.releaseByHandle('old');
  await ipam.assignIp({ ip, handleId: 'new', attrs: { node: 'node-a' }, hostname: 'node-a' });
  now += DEFAULT_LEAK_GRACE_PERIOD_MS;
  const r = await gc.scan(await datastoreLiveness(ds));
  assert.deepEqual(r.released, [], 'the new allocation starts its own grace period');
  assert.equal((await ipam.getAllocation(ip))?.handleId, 'new');
});

test('allocations of a node that is gone are released at once, then its affinities', async () => {
  const { ds, ipam, assign } = await world();
  const gc = new LeakCollector(ipam, { now: () => 0 });
  const ip = await assign('node-b', 'b1');
  await ipam.ensureTunnelAddress('node-b');
  await ds.delete(resourceKey('Node', 'node-b'));
  const r = await gc.scan(await datastoreLiveness(ds));
  assert.equal(r.released.length, 2);
  assert.ok(r.released.includes(ip));
  assert.deepEqual(r.nodesCleaned, ['node-b']);
  assert.deepEqual(await ipam.store.listAffinities('node-b'), []);
  assert.equal((await ipam.store.listBlocks()).length, 0);
});

test('only pod and tunnel addresses are collected: an allocation without pod attributes stays, and keeps its gone node', async () => {
  const { ds, ipam } = await world();
  let now = 0;
  const gc = new LeakCollector(ipam, { now: () => now });
  const other = (
    await ipam.autoAssign({ num4: 1, num6: 0, handleId: 'manual', attrs: { node: 'node-b' }, hostname: 'node-b' })
  ).ipv4[0].split('/')[0];
  await gc.scan(await datastoreLiveness(ds));
  now += 2 * DEFAULT_LEAK_GRACE_PERIOD_MS;
  let r = await gc.scan(await datastoreLiveness(ds));
  assert.deepEqual([r.candidates, r.released], [[], []]);
  await ds.delete(resourceKey('Node', 'node-b'));
  r = await gc.scan(await datastoreLiveness(ds));
  assert.deepEqual([r.released, r.nodesCleaned], [[], []]);
  assert.equal((await ipam.getAllocation(other))?.handleId, 'manual');
  assert.equal((await ipam.store.listAffinities('node-b')).length, 1);
});

test("a gone node's tunnel address waits while one of its pod addresses is still live", async () => {
  const { ds, ipam, assign, putWep } = await world();
  const gc = new LeakCollector(ipam, { now: () => 0 });
  const ip = await assign('node-b', 'still-running');
  await putWep('still-running', ip);
  await ipam.ensureTunnelAddress('node-b');
  await ds.delete(resourceKey('Node', 'node-b'));
  let r = await gc.scan(await datastoreLiveness(ds));
  assert.deepEqual([r.released, r.nodesCleaned], [[], []]);
  await ds.delete(resourceKey('WorkloadEndpoint', 'still-running', 'd'));
  r = await gc.scan(await datastoreLiveness(ds));
  assert.equal(r.released.length, 2);
  assert.deepEqual(r.nodesCleaned, ['node-b']);
});
