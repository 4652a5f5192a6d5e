import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { Datastore } from '../datastore/types.js';
import { blockAffinityKey, blockKey, handleKey, resourceKey } from '../datastore/keys.js';
import { IpamClient } from './client.js';
import {
  AddressNotInPoolError,
  BlockLimitError,
  HandleNotFoundError,
  NoFreeAddressesError,
  NodeNotFoundError,
  ReservedAddressError,
  StrictAffinityError,
} from './errors.js';
import { PoolChoiceError } from './core/pool.js';
import { AddressInUseError, ReleaseConflictError, decodeBlock } from './core/block.js';
import { checkIpamInvariants, putNode, putPool, putReservation } from '../../test/support/ipam.js';
import { ipamTestBackends } from '../../test/support/ipam-backends.js';

const attrs = (node: string, pod = 'p') => ({ node, namespace: 'default', pod });

for (const backend of ipamTestBackends) {
  describe(`IpamClient on ${backend.name}`, () => {
    let ds: Datastore;
    let cleanup: () => Promise<void>;
    let clock = new Date('2026-01-01T00:00:00Z');
    let ipam: IpamClient;

    beforeEach(async () => {
      ({ ds, cleanup } = await backend.open());
      clock = new Date('2026-01-01T00:00:00Z');
      ipam = new IpamClient(ds, { now: () => clock });
      await putNode(ds, 'node-a', { zone: 'a' });
      await putNode(ds, 'node-b', { zone: 'b' });
    });
    afterEach(async () => {
      const { violations } = await checkIpamInvariants(ds);
      await cleanup();
      assert.deepEqual(violations, []);
    });

    const assign = (host: string, handle: string, extra: Partial<Parameters<IpamClient['autoAssign']>[0]> = {}) =>
      ipam.autoAssign({ num4: 1, num6: 0, handleId: handle, attrs: attrs(host, handle), hostname: host, ...extra });

    test('assigns <ip>/<block prefix> from a block claimed for the node, with a confirmed affinity', async () => {
      await putPool(ds, 'p1', '10.10.0.0/16');
      const r = await assign('node-a', 'net.c1');
      assert.match(r.ipv4[0], /^10\.10\.\d+\.\d+\/26$/);
      const ip = r.ipv4[0].split('/')[0];
      const info = await ipam.getAllocation(ip);
      assert.equal(info?.handleId, 'net.c1');
      assert.equal(info?.blockAffinity, 'host:node-a');
      assert.deepEqual(info?.attrs, attrs('node-a', 'net.c1'));
      const aff = await ds.get(blockAffinityKey('node-a', info!.block));
      assert.deepEqual(JSON.parse(aff!.value), { state: 'confirmed', deleted: false });
      const h = await ds.get(handleKey('net.c1'));
      assert.deepEqual(JSON.parse(h!.value), { block: { [info!.block]: 1 }, deleted: false });
      // The next address for the node comes from the same block; another node gets a block of its own.
      const r2 = await assign('node-a', 'net.c2');
      assert.equal((await ipam.getAllocation(r2.ipv4[0].split('/')[0]))?.block, info!.block);
      const r3 = await assign('node-b', 'net.c3');
      assert.notEqual((await ipam.getAllocation(r3.ipv4[0].split('/')[0]))?.block, info!.block);
    });

    test('released addresses go to the end of the free list (FIFO reuse) and the empty block keeps its affinity', async () => {
      await putPool(ds, 'p1', '10.10.0.0/16');
      const first = (await assign('node-a', 'h1')).ipv4[0];
      const second = (await assign('node-a', 'h2')).ipv4[0];
      assert.deepEqual(await ipam.releaseByHandle('h1'), [first.split('/')[0]]);
      const third = (await assign('node-a', 'h3')).ipv4[0];
      assert.notEqual(third, first, 'a just-released address is not reused before the rest of the block');
      await ipam.releaseByHandle('h2');
      await ipam.releaseByHandle('h3');
      const block = (await ipam.getAllocation(second.split('/')[0])) ?? undefined;
      assert.equal(block, undefined);
      const blocks = await ipam.store.listBlocks(4);
      assert.equal(blocks.length, 1, 'the empty affine block still exists');
      assert.equal(blocks[0].value.affinity, 'host:node-a');
      assert.equal(await ds.get(handleKey('h1')), undefined, 'handles are deleted when they hold nothing');
    });

    test('borrows from another node’s block when no block is free, unless strictAffinity is on', async () => {
      await putPool(ds, 'tiny', '10.20.0.0/26'); // exactly one block
      await assign('node-a', 'a1');
      const borrowed = await assign('node-b', 'b1');
      const info = await ipam.getAllocation(borrowed.ipv4[0].split('/')[0]);
      assert.equal(info?.blockAffinity, 'host:node-a');
      assert.equal(info?.attrs.node, 'node-b');
      await ipam.setConfig({ strictAffinity: true });
      const rev = await ds.currentRevision();
      await assert.rejects(assign('node-b', 'b2'), (e: Error) => {
        assert.ok(e instanceof NoFreeAddressesError, e.message);
        assert.match(
          e.message,
          /^Assigned 0 out of 1 requested IPv4 addresses; No IPs available in pools: \[10\.20\.0\.0\/26\]/,
        );
        assert.match(e.message, /pools tried: tiny/);
        assert.match(e.message, /strictAffinity/);
        return true;
      });
      assert.equal(await ds.currentRevision(), rev, 'a failed request writes nothing');
    });

    test('the block limit is fatal: no borrowing once the node has its blocks', async () => {
      await putPool(ds, 'p', '10.30.0.0/24', { blockSize: 30 });
      for (let i = 0; i < 4; i++) await assign('node-a', `a${i}`, { maxBlocksPerHost: 1 });
      await assign('node-b', 'b0');
      const rev = await ds.currentRevision();
      await assert.rejects(assign('node-a', 'a-over', { maxBlocksPerHost: 1 }), (e: Error) => {
        assert.ok(e instanceof BlockLimitError);
        assert.match(e.message, /limit of 1 blocks reached for this node/);
        return true;
      });
      assert.equal(await ds.currentRevision(), rev);
      // maxBlocksPerHost in the IPAM config needs strictAffinity, as Calico's SetIPAMConfig.
      await assert.rejects(ipam.setConfig({ maxBlocksPerHost: 2 }), /requires strictAffinity/);
      await ipam.setConfig({ strictAffinity: true, maxBlocksPerHost: 2 });
      await assign('node-a', 'a4');
      assert.equal((await ipam.store.listAffinities('node-a')).length, 2);
    });

    test('exhaustion names the pools tried and writes nothing', async () => {
      await putPool(ds, 'small', '10.40.0.0/30', { blockSize: 30 });
      for (let i = 0; i < 4; i++) await assign('node-a', `a${i}`);
      const rev = await ds.currentRevision();
      // Calico's text (PartialFulfillmentError), pools by CIDR; then which pools by name and why.
      await assert.rejects(
        assign('node-b', 'b'),
        /: Assigned 0 out of 1 requested IPv4 addresses; No IPs available in pools: \[10\.40\.0\.0\/30\] \(.*pools tried: small\)$/,
      );
      assert.equal(await ds.currentRevision(), rev);
    });

    test('IPReservations are never handed out; a wholly reserved block is never claimed', async () => {
      await putPool(ds, 'p', '10.50.0.0/28', { blockSize: 29 });
      await putReservation(ds, 'r', ['10.50.0.0/30', '10.50.0.8/29']);
      const got: string[] = [];
      for (let i = 0; i < 4; i++) got.push((await assign('node-a', `h${i}`)).ipv4[0]);
      assert.deepEqual(got.sort(), ['10.50.0.4/29', '10.50.0.5/29', '10.50.0.6/29', '10.50.0.7/29']);
      await assert.rejects(assign('node-a', 'h5'), NoFreeAddressesError);
      await assert.rejects(
        ipam.assignIp({ ip: '10.50.0.1', handleId: 'x', attrs: {}, hostname: 'node-a' }),
        ReservedAddressError,
      );
      assert.equal(await ds.get(blockKey('10.50.0.8/29')), undefined);
    });

    test('pool choice: named pools (name or CIDR) whatever their selectors; Manual pools only when named', async () => {
      await putPool(ds, 'auto', '10.60.0.0/24');
      await putPool(ds, 'manual', '10.61.0.0/24', { assignmentMode: 'Manual' });
      await putPool(ds, 'zone-b', '10.62.0.0/24', { nodeSelector: 'zone == "b"' });
      assert.match((await assign('node-a', 'h1')).ipv4[0], /^10\.60\./);
      assert.match((await assign('node-a', 'h2', { ipv4Pools: ['manual'] })).ipv4[0], /^10\.61\./);
      assert.match((await assign('node-a', 'h3', { ipv4Pools: ['10.62.0.0/24'] })).ipv4[0], /^10\.62\./);
      assert.match((await assign('node-b', 'h4')).ipv4[0], /^10\.6[02]\./);
      const rev = await ds.currentRevision();
      await assert.rejects(assign('node-a', 'h5', { ipv4Pools: ['nope'] }), (e: Error) => {
        assert.ok(e instanceof PoolChoiceError);
        assert.match(e.message, /the given pool \(nope\) does not exist, or is not enabled/);
        return true;
      });
      assert.equal(await ds.currentRevision(), rev);
    });

    test('disabled pools never serve new addresses; a pool choice error names every pool and why', async () => {
      await putPool(ds, 'off', '10.70.0.0/24', { disabled: true });
      await putPool(ds, 'zone-b', '10.71.0.0/24', { nodeSelector: 'zone == "b"' });
      await putPool(ds, 'tunnels', '10.72.0.0/24', { allowedUses: ['Tunnel'] });
      await putPool(ds, 'team', '10.73.0.0/24', { namespaceSelector: 'team == "x"' });
      const rev = await ds.currentRevision();
      await assert.rejects(assign('node-a', 'h'), (e: Error) => {
        assert.ok(e instanceof PoolChoiceError);
        assert.match(e.message, /off \(10\.70\.0\.0\/24\): disabled/);
        assert.match(
          e.message,
          /zone-b \(10\.71\.0\.0\/24\): nodeSelector "zone == \\?"b\\?"" does not match node node-a/,
        );
        assert.match(e.message, /team \(10\.73\.0\.0\/24\): namespaceSelector/);
        assert.match(e.message, /tunnels \(10\.72\.0\.0\/24\): allowedUses \[Tunnel\] excludes Workload/);
        return true;
      });
      await assert.rejects(
        assign('node-a', 'h', { ipv4Pools: ['off'] }),
        /the given pool \(off\) does not exist, or is not enabled/,
      );
      await assert.rejects(
        ipam.assignIp({ ip: '10.70.0.5', handleId: 'h', attrs: {}, hostname: 'node-a' }),
        (e: Error) =>
          e instanceof AddressNotInPoolError && /off \(10\.70\.0\.0\/24\) contains it but is disabled/.test(e.message),
      );
      assert.equal(await ds.currentRevision(), rev);
      // The namespace selector matches when the namespace carries the label.
      const r = await assign('node-a', 'h', { namespace: { name: 'x', labels: { team: 'x' } } });
      assert.match(r.ipv4[0], /^10\.73\./);
    });

    test('assignIp: a specific free address in a pool; taken or outside every pool is refused without writing', async () => {
      await putPool(ds, 'p', '10.80.0.0/24');
      assert.equal(
        await ipam.assignIp({ ip: '10.80.0.77', handleId: 'h1', attrs: {}, hostname: 'node-a' }),
        '10.80.0.77/26',
      );
      assert.equal((await ipam.getAllocation('10.80.0.77'))?.blockAffinity, 'host:node-a');
      const rev = await ds.currentRevision();
      await assert.rejects(
        ipam.assignIp({ ip: '10.80.0.77', handleId: 'h2', attrs: {}, hostname: 'node-a' }),
        (e: Error) =>
          e instanceof AddressInUseError &&
          /^resource already exists: 10\.80\.0\.77 \(Address already assigned in block; held by handle h1\)$/.test(
            e.message,
          ),
      );
      await assert.rejects(
        ipam.assignIp({ ip: '192.168.9.9', handleId: 'h2', attrs: {}, hostname: 'node-a' }),
        /: The provided IP address is not in a configured pool \(192\.168\.9\.9: /,
      );
      assert.equal(await ds.currentRevision(), rev);
      await ipam.setConfig({ strictAffinity: true });
      await assert.rejects(
        ipam.assignIp({ ip: '10.80.0.78', handleId: 'h3', attrs: {}, hostname: 'node-b' }),
        StrictAffinityError,
      );
    });

    test('releaseIps checks handle and sequence number, so a re-used address is not freed', async () => {
      await putPool(ds, 'p', '10.90.0.0/24');
      const ip = (await assign('node-a', 'h1')).ipv4[0].split('/')[0];
      const before = await ipam.getAllocation(ip);
      await assert.rejects(ipam.releaseIps([{ ip, handleId: 'other' }]), ReleaseConflictError);
      await assert.rejects(
        ipam.releaseIps([{ ip, sequenceNumber: before!.sequenceNumber! + 5n }]),
        ReleaseConflictError,
      );
      assert.equal((await ipam.getAllocation(ip))?.handleId, 'h1');
      assert.deepEqual(await ipam.releaseIps([{ ip, handleId: 'h1', sequenceNumber: before!.sequenceNumber }]), []);
      assert.deepEqual(await ipam.releaseIps([{ ip }]), [ip], 'a second release reports it unallocated');
      await assert.rejects(ipam.releaseByHandle('h1'), HandleNotFoundError);
    });

    test('a handle holding addresses in several blocks is released exactly', async () => {
      await putPool(ds, 'p', '10.91.0.0/24', { blockSize: 30 });
      const r = await ipam.autoAssign({ num4: 6, num6: 0, handleId: 'multi', attrs: {}, hostname: 'node-a' });
      const keep = await assign('node-a', 'keep');
      assert.equal(r.ipv4.length, 6);
      const h = JSON.parse((await ds.get(handleKey('multi')))!.value);
      assert.equal(Object.keys(h.block).length, 2);
      const freed = await ipam.releaseByHandle('multi');
      assert.deepEqual(freed.sort(), r.ipv4.map((x) => x.split('/')[0]).sort());
      assert.equal((await ipam.getAllocation(keep.ipv4[0].split('/')[0]))?.handleId, 'keep');
    });

    test('IPv6: /122 blocks by default, both families in one request', async () => {
      await putPool(ds, 'v4', '10.100.0.0/16');
      await putPool(ds, 'v6', 'fd00:10::/64');
      const r = await ipam.autoAssign({ num4: 1, num6: 1, handleId: 'dual', attrs: {}, hostname: 'node-a' });
      assert.match(r.ipv4[0], /\/26$/);
      assert.match(r.ipv6[0], /^fd00:10::[0-9a-f:]*\/122$/);
      assert.equal((await ipam.store.listAffinities('node-a', 6)).length, 1);
      await ipam.releaseByHandle('dual');
      assert.equal(await ds.get(handleKey('dual')), undefined);
    });

    test('a missing Node is an error naming it', async () => {
      await putPool(ds, 'p', '10.110.0.0/16');
      await assert.rejects(assign('ghost', 'h'), NodeNotFoundError);
    });

    test('an affine block whose pool no longer selects the node loses its affinity once empty', async () => {
      await putPool(ds, 'a-only', '10.120.0.0/24', { nodeSelector: 'zone == "a"' });
      await putPool(ds, 'all', '10.121.0.0/24');
      const ip = (await assign('node-a', 'h1', { ipv4Pools: ['a-only'] })).ipv4[0];
      await putNode(ds, 'node-a', { zone: 'moved' });
      await ipam.releaseByHandle('h1');
      assert.equal((await ipam.store.listAffinities('node-a')).length, 0, 'released after the last address went');
      assert.equal(await ds.get(blockKey(`${ip.split('.').slice(0, 3).join('.')}.0/26`)), undefined);
    });

    test('node deletion releases its affinities; blocks with addresses live on without affinity', async () => {
      await putPool(ds, 'p', '10.130.0.0/24', { blockSize: 28 });
      const tunnel = await ipam.ensureTunnelAddress('node-a');
      assert.equal(await ipam.ensureTunnelAddress('node-a'), tunnel, 'the tunnel address is kept');
      assert.equal((await ipam.getAllocation(tunnel))?.attrs.type, 'vxlanTunnelAddress');
      assert.equal((await ipam.getAllocation(tunnel))?.handleId, 'vxlan-tunnel-addr-node-a');
      const pods: string[] = [];
      // The tunnel address and h0..h14 fill the first /28; h15 opens a second block.
      for (let i = 0; i < 16; i++) pods.push((await assign('node-a', `h${i}`)).ipv4[0].split('/')[0]);
      await ipam.releaseByHandle('h15'); // the second block is now empty
      await ds.delete(resourceKey('Node', 'node-a'));
      await ipam.removeIpamHost('node-a');
      assert.deepEqual(await ipam.store.listAffinities('node-a'), []);
      assert.equal(await ipam.getAllocation(tunnel), undefined, 'tunnel address freed');
      const blocks = await ipam.store.listBlocks(4);
      assert.equal(blocks.length, 1, 'the empty block is deleted');
      assert.equal(blocks[0].value.affinity, null);
      assert.equal((await ipam.getAllocation(pods[0]))?.handleId, 'h0');
      // Releasing the last address of a non-affine block deletes the block.
      for (let i = 0; i < 15; i++) await ipam.releaseByHandle(`h${i}`);
      assert.equal((await ipam.store.listBlocks(4)).length, 0);
    });

    test('an empty block of another node is reclaimed only when its claim is over a minute old', async () => {
      await putPool(ds, 'one', '10.140.0.0/26');
      await assign('node-a', 'a');
      await ipam.releaseByHandle('a');
      await ipam.setConfig({ strictAffinity: true });
      await assert.rejects(assign('node-b', 'b'), NoFreeAddressesError);
      clock = new Date(clock.getTime() + 61_000);
      const r = await assign('node-b', 'b');
      assert.equal((await ipam.getAllocation(r.ipv4[0].split('/')[0]))?.blockAffinity, 'host:node-b');
      assert.deepEqual(await ipam.store.listAffinities('node-a'), []);
    });

    test('at the next assignment, empty affine blocks of pools that no longer select the node are released', async () => {
      await putPool(ds, 'zoned', '10.160.0.0/24', { nodeSelector: 'zone == "a"' });
      await putPool(ds, 'all', '10.161.0.0/24');
      await assign('node-a', 'h1', { ipv4Pools: ['zoned'] });
      await ipam.releaseByHandle('h1');
      assert.equal((await ipam.store.listAffinities('node-a')).length, 1, 'an empty affine block keeps its affinity');
      await putNode(ds, 'node-a', { zone: 'elsewhere' });
      await assign('node-a', 'h3');
      assert.deepEqual(
        (await ipam.store.listAffinities('node-a')).map((a) => a.cidr.startsWith('10.161.')),
        [true],
        'the zoned block went at the next assignment',
      );
      assert.equal((await ipam.store.listBlocks()).length, 1);
    });

    test('pool deletion releases every affinity in the pool; blocks in use stay without affinity', async () => {
      await putPool(ds, 'doomed', '10.170.0.0/24');
      const kept = (await assign('node-a', 'h1')).ipv4[0].split('/')[0];
      await assign('node-b', 'h2');
      await ipam.releaseByHandle('h2');
      await ipam.releasePoolAffinities('10.170.0.0/24');
      assert.deepEqual(await ipam.store.listAffinities(), []);
      const blocks = await ipam.store.listBlocks();
      assert.equal(blocks.length, 1, "node-b's empty block is gone");
      assert.equal((await ipam.getAllocation(kept))?.blockAffinity, null);
    });

    test('block JSON keeps 64-bit sequence numbers exactly', async () => {
      await putPool(ds, 'p', '10.150.0.0/24');
      const ip = (await assign('node-a', 'h')).ipv4[0].split('/')[0];
      const info = await ipam.getAllocation(ip);
      const raw = (await ds.get(blockKey(info!.block)))!.value;
      const seq = /"sequenceNumber":(\d+)/.exec(raw)![1];
      assert.ok(seq.length >= 19, `nanosecond clock seed: ${seq}`);
      assert.equal(decodeBlock(raw).sequenceNumber.toString(), seq);
      assert.equal(info!.sequenceNumber!.toString(), (BigInt(seq) - 1n).toString());
    });
  });
}
