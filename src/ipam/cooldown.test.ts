import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Datastore } from '../datastore/types.js';
import { blockKey, handleKey } from '../datastore/keys.js';
import { IpamClient } from './client.js';
import { runIpamCheck } from './check.js';
import { AffinityNotEmptyError, HandleNotFoundError, NoFreeAddressesError } from './errors.js';
import { AddressCoolingDownError, decodeBlock } from './core/block.js';
import { checkIpamInvariants, putNode, putPool } from '../../test/support/ipam.js';
import { ipamTestBackends } from '../../test/support/ipam-backends.js';

for (const backend of ipamTestBackends) {
  describe(`IP cooldown (ipCooldownSeconds) on ${backend.name}`, () => {
    let ds: Datastore;
    let cleanup: () => Promise<void>;
    let clock: Date;
    let ipam: IpamClient;
    const later = (seconds: number) => (clock = new Date(clock.getTime() + seconds * 1000));

    beforeEach(async () => {
      ({ ds, cleanup } = await backend.open());
      clock = new Date('2026-01-01T00:00:00Z');
      ipam = new IpamClient(ds, { now: () => clock });
      await putNode(ds, 'node-a');
      // One block of four addresses: what the pool can give is easy to exhaust.
      await putPool(ds, 'tiny', '10.20.0.0/30', { blockSize: 30 });
    });
    afterEach(async () => {
      const { violations } = await checkIpamInvariants(ds);
      await cleanup();
      assert.deepEqual(violations, []);
    });

    const assign = async (handle: string) =>
      (
        await ipam.autoAssign({
          num4: 1,
          num6: 0,
          handleId: handle,
          attrs: { node: 'node-a', namespace: 'default', pod: handle },
          hostname: 'node-a',
        })
      ).ipv4[0].split('/')[0];

    test('a released address is held by no handle and not handed out again until the cooldown has passed', async () => {
      await ipam.setConfig({ ipCooldownSeconds: 60 });
      const ips = [await assign('h1'), await assign('h2'), await assign('h3'), await assign('h4')];
      assert.deepEqual(await ipam.releaseByHandle('h1'), [ips[0]]);

      // Released: the handle is gone, the address is not held, but it is not free either.
      assert.equal(await ds.get(handleKey('h1')), undefined);
      await assert.rejects(ipam.releaseByHandle('h1'), HandleNotFoundError);
      assert.equal(await ipam.getAllocation(ips[0]), undefined);
      const cooling = await ipam.getCooling(ips[0]);
      assert.equal(cooling?.handleId, 'h1');
      assert.equal(cooling?.releasedAt, '2026-01-01T00:00:00.000Z');
      assert.equal(cooling?.availableAt, '2026-01-01T00:01:00.000Z');
      const raw = decodeBlock((await ds.get(blockKey('10.20.0.0/30')))!.value);
      assert.notEqual(raw.allocations[0], null, 'the ordinal stays in allocations');
      assert.equal(raw.attributes[raw.allocations[0]!]!.releasedAt, '2026-01-01T00:00:00.000Z');
      assert.ok(!raw.unallocated.includes(0));

      await assert.rejects(assign('h5'), NoFreeAddressesError, 'the cooling address is not given');
      later(59);
      await assert.rejects(assign('h5'), NoFreeAddressesError, 'one second short of the cooldown');
      later(1);
      assert.equal(await assign('h5'), ips[0], 'given again once the cooldown has passed');
      assert.equal(await ipam.getCooling(ips[0]), undefined);
      assert.equal((await ipam.getAllocation(ips[0]))?.handleId, 'h5');
    });

    test('releasing a cooling address again reports it unallocated; a specific request for it says it cools down', async () => {
      await ipam.setConfig({ ipCooldownSeconds: 30 });
      const ip = await assign('h1');
      assert.deepEqual(await ipam.releaseIps([{ ip }]), []);
      assert.deepEqual(await ipam.releaseIps([{ ip, handleId: 'h1' }]), [ip]);
      await assert.rejects(
        ipam.assignIp({ ip, handleId: 'h2', attrs: { node: 'node-a' }, hostname: 'node-a' }),
        (e: unknown) => e instanceof AddressCoolingDownError && /cooling down/.test((e as Error).message),
      );
      assert.equal(await ds.get(handleKey('h2')), undefined, 'the refused request wrote nothing');
      later(30);
      assert.equal(
        await ipam.assignIp({ ip, handleId: 'h2', attrs: { node: 'node-a' }, hostname: 'node-a' }),
        `${ip}/30`,
      );
    });

    test('a block whose only entries cool down is not empty: its affinity stays and it is deleted only once they are freed', async () => {
      await ipam.setConfig({ ipCooldownSeconds: 120 });
      await assign('h1');
      await ipam.releaseByHandle('h1');
      await assert.rejects(
        ipam.releaseBlockAffinity('node-a', '10.20.0.0/30', { mustBeEmpty: true }),
        AffinityNotEmptyError,
      );
      // Node deletion releases the affinity anyway: the block lives on without affinity while the address cools.
      await ipam.releaseHostAffinities('node-a', false);
      assert.deepEqual(await ipam.store.listAffinities(), []);
      assert.equal((await ipam.store.listBlocks()).length, 1);
      assert.deepEqual(await ipam.reclaimCooledAddresses(), { freed: 0, blocksDeleted: 0 });
      later(120);
      assert.deepEqual(await ipam.reclaimCooledAddresses(), { freed: 1, blocksDeleted: 1 });
      assert.deepEqual(await ipam.store.listBlocks(), []);
    });

    test('an affine block trimmed of its cooled addresses keeps its affinity; with mustBeEmpty it may then go', async () => {
      await ipam.setConfig({ ipCooldownSeconds: 10 });
      await assign('h1');
      await ipam.releaseByHandle('h1');
      later(10);
      assert.deepEqual(await ipam.reclaimCooledAddresses(), { freed: 1, blocksDeleted: 0 });
      assert.equal((await ipam.store.listAffinities()).length, 1);
      const b = decodeBlock((await ds.get(blockKey('10.20.0.0/30')))!.value);
      assert.deepEqual(b.unallocated, [1, 2, 3, 0], 'the freed ordinal joins the end of the free list');
      await ipam.releaseBlockAffinity('node-a', '10.20.0.0/30', { mustBeEmpty: true });
      assert.deepEqual(await ipam.store.listBlocks(), []);
    });

    test('a client that read the configuration before the cooldown was set re-reads it at its release', async () => {
      const ip1 = await assign('h1');
      const ip2 = await assign('h2');
      await ipam.releaseByHandle('h1'); // cooldown 0: freed at once, and the client remembers the configuration
      assert.equal(await ipam.getCooling(ip1), undefined);
      await new IpamClient(ds, { now: () => clock }).setConfig({ ipCooldownSeconds: 45 });
      await ipam.releaseByHandle('h2');
      assert.equal((await ipam.getCooling(ip2))?.availableAt, '2026-01-01T00:00:45.000Z');
    });

    test('turning the cooldown off frees cooling addresses at the next write of their block', async () => {
      await ipam.setConfig({ ipCooldownSeconds: 600 });
      const ips = [await assign('h1'), await assign('h2'), await assign('h3'), await assign('h4')];
      await ipam.releaseByHandle('h2');
      await ipam.setConfig({ ipCooldownSeconds: 0 });
      assert.equal(await assign('h5'), ips[1]);
    });

    test('ipam check lists cooling addresses as coolingDown, not as leaks; a releasedAt in the future is invalid', async () => {
      await ipam.setConfig({ ipCooldownSeconds: 60 });
      const ip = await assign('h1');
      await ipam.releaseByHandle('h1');
      const r = await runIpamCheck(ds, { now: () => clock });
      assert.equal(r.problems, 0, r.lines.join('\n'));
      assert.equal(r.report.allocations[ip]?.[0]?.coolingDown, true);
      assert.equal(r.report.allocations[ip]?.[0]?.handle, 'h1');
      assert.deepEqual(r.report.leakedHandles, []);
      // Seen from two minutes before the release, the releasedAt lies in the future: the block is invalid.
      const early = new Date(clock.getTime() - 120_000);
      const r2 = await runIpamCheck(ds, { now: () => early });
      assert.equal(r2.problems, 1);
      assert.ok(r2.lines.some((l) => /releasedAt .* in the future/.test(l)));
    });
  });
}
