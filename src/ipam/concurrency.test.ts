// Property test: several IpamClients work on one datastore at once. fast-check's scheduler decides the order in which
// every awaited datastore call runs (so reads and CAS writes of different clients interleave arbitrarily), and a
// generated subset of writes fails with a forced CAS conflict. Whatever the interleaving, the invariants hold.
// Each client lives through its whole plan, so what it caches (blocks and handles as last seen, the pools, node and
// reservations its last assignment decided from) goes stale under the others' writes; forced txn conflicts report
// a current value that is sometimes genuine and sometimes an older version (which the compare-and-swap must catch),
// and nodes are relabelled mid-run (a cached context must notice). Half the runs have an IP cooldown and a shared
// clock the plans advance: no address released at time t is handed out again before t + ipCooldownSeconds. The
// controllers' collectors run as plan steps too (spare empty blocks released, cooled-down addresses freed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryDatastore } from '../datastore/memory.js';
import {
  ConflictError,
  TxnConflictError,
  type Datastore,
  type KVPair,
  type TxnCondition,
  type TxnOperation,
} from '../datastore/types.js';
import { resourceKey } from '../datastore/keys.js';
import { IpamClient } from './client.js';
import { EmptyBlockCollector } from './blockgc.js';
import { IpamError } from './errors.js';
import { AddressInUseError, ReleaseConflictError } from './core/block.js';
import { PoolChoiceError } from './core/pool.js';
import { checkIpamInvariants, putNode, putPool, putReservation } from '../../test/support/ipam.js';

/** Every call waits for the scheduler's go; listed writes fail with a ConflictError instead of writing. */
function scheduledDatastore(mem: MemoryDatastore, s: fc.Scheduler, conflicts: boolean[]): Datastore {
  let writes = 0;
  // The first writes fail where the generated list says so; later ones never, so every client can make progress.
  const forced = () => conflicts[writes++] === true;
  // Versions each key had, so a forced txn conflict can report an older one.
  const history = new Map<string, KVPair[]>();
  const remember = async (keys: string[]) => {
    for (const k of keys) {
      const kv = await mem.get(k);
      if (kv) history.set(k, [...(history.get(k) ?? []).slice(-3), kv]);
    }
  };
  const gate = async (label: string) => {
    await s.schedule(Promise.resolve(), label);
  };
  return {
    description: 'scheduled memory',
    get: async (k) => (await gate(`get ${k}`), mem.get(k)),
    list: async (p) => (await gate(`list ${p}`), mem.list(p)),
    create: async (k, v, o) => (await gate(`create ${k}`), mem.create(k, v, o)),
    put: async (k, v, o) => (await gate(`put ${k}`), mem.put(k, v, o)),
    update: async (k, v, rev, o) => {
      await gate(`update ${k}`);
      if (forced()) throw new ConflictError(`forced conflict on ${k}`, k);
      return mem.update(k, v, rev, o);
    },
    delete: async (k, rev) => {
      await gate(`delete ${k}`);
      if (rev !== undefined && forced()) throw new ConflictError(`forced conflict on ${k}`, k);
      return mem.delete(k, rev);
    },
    txn: async (c: TxnCondition[], o: TxnOperation[]) => {
      await gate(`txn ${o.map((x) => x.key).join(',')}`);
      if (forced()) {
        // Alternately: no detail, the first condition key's true current value, or an older version of it.
        const key = c[0]?.key;
        const kind = writes % 3;
        if (!key || kind === 0) throw new ConflictError('forced txn conflict');
        const current = kind === 1 ? await mem.get(key) : history.get(key)?.[0];
        throw new TxnConflictError(`forced txn conflict on ${key}`, key, current);
      }
      const r = await mem.txn(c, o);
      await remember(o.map((x) => x.key));
      return r;
    },
    watch: (p, r, cb) => mem.watch(p, r, cb),
    currentRevision: () => mem.currentRevision(),
    compact: (r) => mem.compact(r),
    close: async () => undefined,
  };
}

type Op =
  | { kind: 'alloc'; host: string; n4: number; n6: number }
  | { kind: 'release'; pick: number }
  | { kind: 'releaseIp'; pick: number }
  | { kind: 'assignIp'; offset: number; host: string }
  | { kind: 'relabel'; host: string; zone: number }
  | { kind: 'tick' }
  | { kind: 'gc' };

const hosts = ['node-a', 'node-b', 'node-c'];
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('alloc' as const),
      host: fc.constantFrom(...hosts),
      n4: fc.integer({ min: 0, max: 3 }),
      n6: fc.integer({ min: 0, max: 1 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('releaseIp' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('relabel' as const),
      host: fc.constantFrom(...hosts),
      zone: fc.integer({ min: 0, max: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('gc' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('assignIp' as const),
      offset: fc.integer({ min: 0, max: 31 }),
      host: fc.constantFrom(...hosts),
    }),
  },
);

const expectedError = (e: unknown): boolean =>
  e instanceof IpamError ||
  e instanceof AddressInUseError ||
  e instanceof ReleaseConflictError ||
  e instanceof PoolChoiceError;

test('concurrent allocate / release / claim / node-delete keep the IPAM invariants under any interleaving', async () => {
  let lastFailure = '';
  await fc
    .assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.array(opArb, { minLength: 1, maxLength: 6 }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.boolean(), { minLength: 0, maxLength: 40 }),
        fc.boolean(),
        fc.constantFrom(0, 30),
        async (s, plans, conflicts, strict, cooldown) => {
          const mem = new MemoryDatastore();
          // A small world so blocks fill, get borrowed from and run out: 8 blocks of 4 addresses, 2 reserved.
          await putPool(mem, 'v4', '10.9.0.0/27', { blockSize: 30 });
          await putPool(mem, 'v6', 'fd00:9::/124', { blockSize: 126 });
          await putReservation(mem, 'r', ['10.9.0.6/31']);
          for (const h of [...hosts, 'gone']) await putNode(mem, h);
          await mem.put(
            '/calico/ipam/v2/config',
            JSON.stringify({ strict_affinity: strict, auto_allocate_blocks: true, ipCooldownSeconds: cooldown }),
          );
          // The clock every client reads; a `tick` moves it 20 s on.
          let clockMs = Date.parse('2026-01-01T00:00:00Z');
          const now = () => new Date(clockMs);
          /** Address -> the clock when a release of it began (its releasedAt is no earlier). */
          const releaseBegan = new Map<string, number>();
          const early: string[] = [];
          const given = (ips: string[], handle: string) => {
            for (const ip of ips) {
              const began = releaseBegan.get(ip);
              // Handed out when this call returned at the latest: that must be after the cooldown.
              if (began !== undefined && clockMs < began + cooldown * 1000)
                early.push(`${ip} released at ${began} given to ${handle} at ${clockMs} (cooldown ${cooldown} s)`);
              releaseBegan.delete(ip);
            }
          };
          // The node to be deleted holds addresses first (its blocks are then borrowed from or reclaimed by others).
          const setup = new IpamClient(mem, { now });
          await setup.autoAssign({ num4: 3, num6: 1, handleId: 'gone-1', attrs: { node: 'gone' }, hostname: 'gone' });

          const ds = scheduledDatastore(mem, s, conflicts);
          // One collector, as kube-controllers runs one; its clock moves 1 s per scan, so a spare block found
          // empty by one scan is released by the next.
          let gcClock = 0;
          const blockGc = new EmptyBlockCollector(new IpamClient(ds, { now }), {
            gracePeriodMs: 500,
            now: () => (gcClock += 1000),
          });
          const held = new Map<string, string[]>([['gone-1', (await setup.ipsByHandle('gone-1')).sort()]]);
          const released = new Set<string>();
          let seq = 0;
          const unexpected: string[] = [];
          const runClient = async (plan: Op[], idx: number) => {
            const ipam = new IpamClient(ds, { now });
            for (const op of plan) {
              try {
                if (op.kind === 'alloc') {
                  const handle = `c${idx}-${seq++}`;
                  const r = await ipam.autoAssign({
                    num4: op.n4,
                    num6: op.n6,
                    handleId: handle,
                    attrs: { node: op.host },
                    hostname: op.host,
                  });
                  held.set(handle, [...r.ipv4, ...r.ipv6].map((x) => x.split('/')[0]).sort());
                  given(held.get(handle)!, handle);
                } else if (op.kind === 'assignIp') {
                  const handle = `c${idx}-${seq++}`;
                  const ip = `10.9.0.${op.offset}`;
                  const r = await ipam.assignIp({ ip, handleId: handle, attrs: { node: op.host }, hostname: op.host });
                  held.set(handle, [r.split('/')[0]]);
                  given(held.get(handle)!, handle);
                } else if (op.kind === 'tick') {
                  clockMs += 20_000;
                } else if (op.kind === 'gc') {
                  await ipam.reclaimCooledAddresses();
                  await blockGc.scan();
                } else if (op.kind === 'relabel') {
                  // A new Node revision: cached contexts that relied on the old one must be re-read.
                  await putNode(ds, op.host, { zone: `z${op.zone}` });
                } else {
                  const mine = [...held.keys()].filter((h) => h.startsWith(`c${idx}-`) && !released.has(h));
                  if (!mine.length) continue;
                  const h = mine[op.pick % mine.length];
                  released.add(h);
                  for (const ip of held.get(h)!) releaseBegan.set(ip, clockMs);
                  if (op.kind === 'release') await ipam.releaseByHandle(h);
                  else await ipam.releaseIps(held.get(h)!.map((ip) => ({ ip, handleId: h })));
                }
              } catch (e) {
                if (!expectedError(e)) unexpected.push(`${op.kind}: ${(e as Error).stack}`);
              }
            }
            if (idx === 0) {
              // Node deletion, concurrent with the other clients' work.
              await ds.delete(resourceKey('Node', 'gone'));
              await ipam.removeIpamHost('gone');
            }
          };
          await s.waitFor(Promise.all(plans.map((p, i) => runClient(p, i))));

          const checkOutcome = async () => {
            assert.deepEqual(unexpected, []);
            assert.deepEqual(early, [], 'an address was handed out again within its cooldown');
            const { owners, violations } = await checkIpamInvariants(mem);
            assert.deepEqual(violations, []);
            // Every handle holds exactly what it was given, released handles hold nothing.
            const byHandle = new Map<string, string[]>();
            for (const [ip, h] of owners) byHandle.set(h!, [...(byHandle.get(h!) ?? []), ip]);
            for (const [h, ips] of held) {
              const now = (byHandle.get(h) ?? []).sort();
              assert.deepEqual(now, released.has(h) ? [] : ips, `handle ${h}`);
            }
            for (const h of byHandle.keys()) assert.ok(held.has(h), `unknown holder ${h}`);
            const store = new IpamClient(mem).store;
            assert.deepEqual(await store.listAffinities('gone'), [], 'a deleted node keeps no affinity');
            if (strict) {
              for (const [ip, h] of owners) {
                const a = await new IpamClient(mem).getAllocation(ip);
                if (h!.startsWith('c') && a?.attrs.node && a.blockAffinity) {
                  assert.equal(a.blockAffinity, `host:${a.attrs.node}`, `strict affinity: ${ip} borrowed`);
                }
              }
            }
          };
          try {
            await checkOutcome();
          } catch (e) {
            lastFailure = (e as Error).message;
            throw e;
          }
        },
      ),
      { numRuns: Number(process.env.IPAM_PROPERTY_RUNS ?? 60) },
    )
    .catch((e: Error) => {
      throw new Error(`${lastFailure}\n${e.message}`);
    });
});
