import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Datastore } from '../datastore/types.js';
import { IpamClient } from './client.js';
import { EmptyBlockCollector } from './blockgc.js';
import { checkIpamInvariants, putNode, putPool } from '../../test/support/ipam.js';
import { ipamTestBackends } from '../../test/support/ipam-backends.js';

const GRACE = 15 * 60_000;

for (const backend of ipamTestBackends) {
  describe(`redundant empty-block GC on ${backend.name}`, () => {
    let ds: Datastore;
    let cleanup: () => Promise<void>;
    let now: number;
    let ipam: IpamClient;

    beforeEach(async () => {
      ({ ds, cleanup } = await backend.open());
      now = Date.parse('2026-01-01T00:00:00Z');
      ipam = new IpamClient(ds, { now: () => new Date(now) });
      await putNode(ds, 'node-a');
      await putNode(ds, 'node-b');
      // Blocks of four addresses, so a few assignments make a node claim several.
      await putPool(ds, 'p', '10.30.0.0/24', { blockSize: 30 });
    });
    afterEach(async () => {
      const { violations } = await checkIpamInvariants(ds);
      await cleanup();
      assert.deepEqual(violations, []);
    });

    const assign = async (host: string, handle: string) =>
      (
        await ipam.autoAssign({ num4: 1, num6: 0, handleId: handle, attrs: { node: host }, hostname: host })
      ).ipv4[0].split('/')[0];
    const blocksOf = async (host: string) =>
      (await ipam.store.listBlocks()).filter((b) => b.value.affinity === `host:${host}`).map((b) => b.value.cidr);

    test("a node's spare empty blocks go after the grace period; its last block stays", async () => {
      for (let i = 0; i < 9; i++) await assign('node-a', `h${i}`);
      await assign('node-b', 'other');
      assert.equal((await blocksOf('node-a')).length, 3);
      for (let i = 0; i < 9; i++) await ipam.releaseByHandle(`h${i}`);
      const gc = new EmptyBlockCollector(ipam, { gracePeriodMs: GRACE, now: () => now });

      let r = await gc.scan();
      assert.deepEqual(r.released, []);
      assert.equal(r.waiting.length, 3);
      now += GRACE;
      r = await gc.scan();
      assert.deepEqual(r.released, [], 'exactly the grace period is not yet longer than it');
      now += 1;
      r = await gc.scan();
      assert.equal(r.released.length, 2);
      const left = await blocksOf('node-a');
      assert.equal(left.length, 1, 'the last block stays');
      assert.deepEqual(
        (await ipam.store.listAffinities('node-a')).map((a) => a.cidr),
        left,
        'the released blocks lost their affinity and were deleted',
      );
      assert.equal((await blocksOf('node-b')).length, 1, "node-b's block (in use) is untouched");
      now += 10 * GRACE;
      assert.deepEqual((await gc.scan()).released, []);
      assert.deepEqual(await blocksOf('node-a'), left);
    });

    test('an empty block beside a block in use goes; leakGracePeriod 0 disables the collector', async () => {
      const ips = [];
      for (let i = 0; i < 5; i++) ips.push(await assign('node-a', `h${i}`));
      await ipam.releaseByHandle('h4'); // the second block is empty now, the first is full
      const off = new EmptyBlockCollector(ipam, { gracePeriodMs: 0, now: () => now });
      const gc = new EmptyBlockCollector(ipam, { gracePeriodMs: GRACE, now: () => now });
      await off.scan();
      await gc.scan();
      now += GRACE + 1;
      assert.deepEqual((await off.scan()).released, []);
      const r = await gc.scan();
      assert.equal(r.released.length, 1);
      assert.equal((await blocksOf('node-a')).length, 1);
      for (const ip of ips.slice(0, 4)) assert.equal((await ipam.getAllocation(ip))?.blockAffinity, 'host:node-a');
    });

    test('a block used and emptied again within the grace period starts its wait again', async () => {
      for (let i = 0; i < 5; i++) await assign('node-a', `h${i}`);
      const ip = await assign('node-a', 'h5');
      await ipam.releaseByHandle('h4');
      await ipam.releaseByHandle('h5');
      const gc = new EmptyBlockCollector(ipam, { gracePeriodMs: GRACE, now: () => now });
      await gc.scan();
      now += GRACE - 60_000;
      await ipam.assignIp({ ip, handleId: 'again', attrs: { node: 'node-a' }, hostname: 'node-a' });
      await ipam.releaseByHandle('again');
      now += 60_001;
      const r = await gc.scan();
      assert.deepEqual(r.released, [], 'the block was written 60 s ago');
      assert.equal(r.waiting.length, 1);
      now += GRACE + 1; // counted from the scan that saw it empty again
      assert.equal((await gc.scan()).released.length, 1);
    });

    test('a block whose only addresses cool down is not empty', async () => {
      await ipam.setConfig({ ipCooldownSeconds: 1200 });
      for (let i = 0; i < 5; i++) await assign('node-a', `h${i}`);
      await ipam.releaseByHandle('h4');
      const gc = new EmptyBlockCollector(ipam, { gracePeriodMs: GRACE, now: () => now });
      await gc.scan();
      now += GRACE + 1;
      const r = await gc.scan();
      assert.deepEqual(r, { released: [], waiting: [] });
      assert.equal((await blocksOf('node-a')).length, 2);
    });
  });
}
