// One conformance suite, run unchanged against the memory, SQLite and etcd v3 backends: CAS conflicts, create races,
// transactions, watch order, resync after compaction, TTL, N processes x M CAS increments, watchers in other
// processes, and an unreachable datastore failing within a bounded timeout that names the store and endpoint.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AlreadyExistsError,
  ConflictError,
  MemoryDatastore,
  NotFoundError,
  TxnConflictError,
  UnreachableError,
  ResourceClient,
  ensureClusterInformation,
  openDatastore,
  type Datastore,
  type DatastoreSettings,
  type OpenOptions,
  type WatchEvent,
} from '../../../src/datastore/index.js';
import { startEtcd, freePort, type TestEtcd } from '../../support/etcd.js';
import { startWorker, type WorkerHandle } from '../../support/datastore-workers.js';

interface Backend {
  name: string;
  /** Settings child processes open; undefined for the in-process memory store. */
  settings?: DatastoreSettings;
  /** A new connection to the same store. */
  connect(): Promise<Datastore>;
  /** Settings of a store that cannot be reached, and the endpoint its errors must name. */
  unreachable(): Promise<{ settings: DatastoreSettings; names: string }>;
  teardown(): Promise<void>;
  /** Options every open of this backend passes (the etcd JSON-gateway client). */
  openOptions?: OpenOptions;
}

async function memoryBackend(): Promise<Backend> {
  const store = new MemoryDatastore('conformance');
  return {
    name: 'memory',
    // Every "connection" shares the one store; closing one must not close the store.
    connect: async () => ({
      description: store.description,
      get: (k) => store.get(k),
      list: (pfx) => store.list(pfx),
      create: (k, v, o) => store.create(k, v, o),
      update: (k, v, r, o) => store.update(k, v, r, o),
      put: (k, v, o) => store.put(k, v, o),
      delete: (k, r) => store.delete(k, r),
      txn: (c, o) => store.txn(c, o),
      watch: (pfx, r, cb) => store.watch(pfx, r, cb),
      currentRevision: () => store.currentRevision(),
      compact: (r) => store.compact(r),
      close: async () => undefined,
    }),
    unreachable: async () => {
      throw new Error('memory store cannot be unreachable');
    },
    teardown: () => store.close(),
  };
}

async function sqliteBackend(): Promise<Backend> {
  const dir = mkdtempSync(path.join(tmpdir(), 'td-sqlite-'));
  const settings: DatastoreSettings = { type: 'sqlite', sqlitePath: path.join(dir, 'calico.db') };
  return {
    name: 'sqlite',
    settings,
    connect: () => openDatastore(settings, { timeoutMs: 5000 }),
    unreachable: async () => {
      const p = path.join(dir, 'no-such-dir', 'calico.db');
      return { settings: { type: 'sqlite', sqlitePath: p }, names: `sqlite ${p}` };
    },
    teardown: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function etcdBackend(): Promise<Backend> {
  const etcd: TestEtcd = await startEtcd();
  const settings: DatastoreSettings = { type: 'etcdv3', etcdEndpoints: [etcd.endpoint] };
  return {
    name: 'etcdv3',
    settings,
    connect: () => openDatastore(settings, { timeoutMs: 5000 }),
    unreachable: async () => {
      const endpoint = `http://127.0.0.1:${await freePort()}`;
      return { settings: { type: 'etcdv3', etcdEndpoints: [endpoint] }, names: `etcdv3 ${endpoint}` };
    },
    teardown: () => etcd.stop(),
  };
}

/** The same etcd through its JSON gateway (etcd-json.ts, the client of short-lived processes such as calico-ipam). */
async function etcdJsonBackend(): Promise<Backend> {
  const b = await etcdBackend();
  const openOptions: OpenOptions = { etcdTransport: 'json' };
  return {
    ...b,
    name: 'etcdv3 (JSON gateway)',
    openOptions,
    connect: () => openDatastore(b.settings!, { ...openOptions, timeoutMs: 5000 }),
  };
}

/** Collects watch events; `until` waits for a condition on them. */
function collector(): { events: WatchEvent[]; on: (e: WatchEvent) => void; until: (n: number) => Promise<void> } {
  const events: WatchEvent[] = [];
  return {
    events,
    on: (e) => events.push(e),
    until: async (n) => {
      const end = Date.now() + 10000;
      while (events.length < n) {
        if (Date.now() > end)
          throw new Error(`only ${events.length} of ${n} watch events arrived: ${JSON.stringify(events)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}

const brief = (e: WatchEvent): string =>
  e.type === 'put' ? `put ${e.key}=${e.value}` : e.type === 'delete' ? `delete ${e.key}` : e.type;

for (const makeBackend of [memoryBackend, sqliteBackend, etcdBackend, etcdJsonBackend]) {
  describe(`datastore conformance: ${makeBackend.name.replace('Backend', '')}`, () => {
    let backend: Backend;
    let ds: Datastore;
    let other: Datastore;
    let n = 0;
    /** A fresh key prefix per test, so tests never see each other's keys. */
    const fresh = (): string => `/calico/test/${++n}-${Date.now()}/`;

    before(async () => {
      backend = await makeBackend();
      ds = await backend.connect();
      other = await backend.connect();
    });
    after(async () => {
      await ds?.close();
      await other?.close();
      await backend?.teardown();
    });

    test('create, get, update, delete with CAS and Calico-worded errors', async () => {
      const p = fresh();
      const a = await ds.create(`${p}a`, '{"v":1}');
      assert.equal(a.value, '{"v":1}');
      assert.deepEqual(await other.get(`${p}a`), { key: `${p}a`, value: '{"v":1}', revision: a.revision });
      await assert.rejects(
        ds.create(`${p}a`, 'x'),
        (e: Error) => e instanceof AlreadyExistsError && /resource already exists: .*\/a$/.test(e.message),
      );
      const b = await other.update(`${p}a`, '{"v":2}', a.revision);
      assert.ok(b.revision > a.revision);
      await assert.rejects(
        ds.update(`${p}a`, 'stale', a.revision),
        (e: Error) => e instanceof ConflictError && e.message.includes(`${p}a`),
      );
      await assert.rejects(
        ds.update(`${p}missing`, 'x', 1),
        (e: Error) => e instanceof NotFoundError && /resource does not exist/.test(e.message),
      );
      await assert.rejects(ds.delete(`${p}a`, a.revision), ConflictError);
      const gone = await ds.delete(`${p}a`, b.revision);
      assert.equal(gone.value, '{"v":2}');
      assert.equal(await other.get(`${p}a`), undefined);
      await assert.rejects(ds.delete(`${p}a`), NotFoundError);
      const c = await ds.put(`${p}c`, '1');
      const d = await ds.put(`${p}c`, '2');
      assert.ok(d.revision > c.revision);
      assert.equal((await ds.delete(`${p}c`)).value, '2');
    });

    test('revisions are global: each write takes the next store revision', async () => {
      const p = fresh();
      const r0 = await ds.currentRevision();
      const a = await ds.put(`${p}a`, '1');
      const b = await other.put(`${p}b`, '1');
      assert.equal(a.revision, r0 + 1);
      assert.equal(b.revision, r0 + 2);
      assert.equal(await other.currentRevision(), r0 + 2);
      const list = await other.list(p);
      assert.equal(list.revision, r0 + 2);
    });

    test('list returns exactly the prefix, sorted by key, at one revision', async () => {
      const p = fresh();
      for (const k of ['b', 'a/2', 'a/1', 'c']) await ds.put(`${p}${k}`, k);
      await ds.put(`${p.slice(0, -1)}x`, 'sibling, not under the prefix');
      const list = await other.list(`${p}a/`);
      assert.deepEqual(
        list.items.map((kv) => kv.key),
        [`${p}a/1`, `${p}a/2`],
      );
      assert.deepEqual(
        (await other.list(p)).items.map((kv) => kv.value),
        ['a/1', 'a/2', 'b', 'c'],
      );
    });

    test('concurrent CAS updates from two clients: exactly one wins per revision', async () => {
      const p = fresh();
      const start = await ds.create(`${p}k`, '0');
      const results = await Promise.allSettled([
        ds.update(`${p}k`, 'from-ds', start.revision),
        other.update(`${p}k`, 'from-other', start.revision),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(loser.reason instanceof ConflictError, String(loser.reason));
    });

    test('create race: 20 concurrent creates of one key, one succeeds', async () => {
      const p = fresh();
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? ds : other).create(`${p}race`, String(i))),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof AlreadyExistsError);
      assert.equal(
        (await ds.get(`${p}race`))?.value,
        (won[0] as PromiseFulfilledResult<{ value: string }>).value.value,
      );
    });

    test('txn conflict: the error carries what the store held for the failing key', async () => {
      const p = fresh();
      const a = await ds.create(`${p}a`, 'a1');
      const a2 = await ds.update(`${p}a`, 'a2', a.revision);
      await assert.rejects(
        other.txn(
          [{ key: `${p}a`, kind: 'revision', revision: a.revision }],
          [{ kind: 'put', key: `${p}a`, value: 'x' }],
        ),
        (e: Error) =>
          e instanceof TxnConflictError &&
          e.key === `${p}a` &&
          e.current?.value === 'a2' &&
          e.current.revision === a2.revision,
      );
      await assert.rejects(
        other.txn([{ key: `${p}a`, kind: 'absent' }], [{ kind: 'put', key: `${p}a`, value: 'x' }]),
        (e: Error) => e instanceof TxnConflictError && e.current?.value === 'a2',
      );
      await assert.rejects(
        other.txn(
          [{ key: `${p}gone`, kind: 'revision', revision: a.revision }],
          [{ kind: 'put', key: `${p}b`, value: 'x' }],
        ),
        (e: Error) => e instanceof TxnConflictError && e.key === `${p}gone` && e.current === undefined,
      );
      assert.equal((await ds.get(`${p}a`))?.value, 'a2');
    });

    test('txn unchangedSince: holds until a key under the prefix is created or modified (deletions unseen)', async () => {
      const p = fresh();
      const out = `${p}-outside`;
      const unchanged = (revision: number) => [{ key: `${p}dir/`, kind: 'unchangedSince' as const, revision }];
      // An empty prefix holds.
      await other.txn(unchanged(0), [{ kind: 'put', key: out, value: '0' }]);
      const a = await ds.create(`${p}dir/a`, 'a');
      const listed = await ds.list(`${p}dir/`);
      await other.txn(unchanged(listed.revision), [{ kind: 'put', key: out, value: '1' }]);
      await assert.rejects(
        other.txn(unchanged(a.revision - 1), [{ kind: 'put', key: out, value: 'x' }]),
        (e: Error) => e instanceof TxnConflictError && e.key === `${p}dir/` && e.current?.key === `${p}dir/a`,
      );
      // A key created under the prefix, and one modified, each break it; the error names the newest change.
      const b = await ds.create(`${p}dir/b`, 'b');
      await assert.rejects(
        other.txn(unchanged(listed.revision), [{ kind: 'put', key: out, value: 'x' }]),
        (e: Error) =>
          e instanceof TxnConflictError && e.current?.key === `${p}dir/b` && e.current.revision === b.revision,
      );
      const again = await ds.list(`${p}dir/`);
      await ds.update(`${p}dir/a`, 'a2', a.revision);
      await assert.rejects(
        other.txn(unchanged(again.revision), [{ kind: 'put', key: out, value: 'x' }]),
        (e: Error) => e instanceof TxnConflictError && e.current?.key === `${p}dir/a` && e.current.value === 'a2',
      );
      // Keys beside the prefix (same leading characters, no trailing '/') do not count; deletions are not seen.
      const third = await ds.list(`${p}dir/`);
      await ds.put(`${p}dirt`, 'beside');
      await ds.delete(`${p}dir/b`);
      await other.txn(unchanged(third.revision), [{ kind: 'put', key: out, value: '2' }]);
      assert.equal((await ds.get(out))?.value, '2');
    });

    test('txn: all operations at one revision, or nothing when a condition fails', async () => {
      const p = fresh();
      const a = await ds.create(`${p}a`, 'a');
      const before = await ds.currentRevision();
      await assert.rejects(
        other.txn(
          [
            { key: `${p}a`, kind: 'revision', revision: a.revision },
            { key: `${p}a`, kind: 'absent' },
          ],
          [{ kind: 'put', key: `${p}b`, value: 'b' }],
        ),
        (e: Error) => e instanceof ConflictError && e.message.includes(`${p}a`),
      );
      assert.equal(await ds.get(`${p}b`), undefined);
      assert.equal(await ds.currentRevision(), before);
      const { revision } = await other.txn(
        [
          { key: `${p}a`, kind: 'revision', revision: a.revision },
          { key: `${p}b`, kind: 'absent' },
        ],
        [
          { kind: 'put', key: `${p}b`, value: 'b' },
          { kind: 'put', key: `${p}c`, value: 'c' },
          { kind: 'delete', key: `${p}a` },
        ],
      );
      assert.equal(revision, before + 1);
      const list = await ds.list(p);
      assert.deepEqual(
        list.items.map((kv) => [kv.key.slice(p.length), kv.revision]),
        [
          ['b', revision],
          ['c', revision],
        ],
      );
    });

    test('watch delivers every change under the prefix in revision order, history first then live', async () => {
      const p = fresh();
      const from = (await ds.currentRevision()) + 1;
      await ds.create(`${p}x`, '1');
      await other.put(`${p.slice(0, -1)}-not-mine`, 'no');
      const x = await ds.put(`${p}x`, '2');
      const c = collector();
      const w = other.watch(p, from, c.on);
      try {
        await c.until(2);
        await ds.delete(`${p}x`, x.revision);
        await ds.txn(
          [],
          [
            { kind: 'put', key: `${p}y`, value: 'y' },
            { kind: 'put', key: `${p}z`, value: 'z' },
          ],
        );
        await c.until(5);
        assert.deepEqual(c.events.map(brief), [
          `put ${p}x=1`,
          `put ${p}x=2`,
          `delete ${p}x`,
          `put ${p}y=y`,
          `put ${p}z=z`,
        ]);
        const revs = c.events.map((e) => (e as { revision: number }).revision);
        assert.deepEqual(
          revs,
          [...revs].sort((a, b) => a - b),
        );
        assert.equal(revs[3], revs[4], 'one txn, one revision');
        const del = c.events[2] as Extract<WatchEvent, { type: 'delete' }>;
        assert.equal(del.prevValue, '2');
      } finally {
        await w.close();
      }
    });

    test('list then watch from list revision + 1 misses nothing and repeats nothing', async () => {
      const p = fresh();
      await ds.put(`${p}0`, '0');
      const writer = (async () => {
        for (let i = 1; i <= 30; i++) await ds.put(`${p}${i}`, String(i));
      })();
      const list = await other.list(p);
      const c = collector();
      const w = other.watch(p, list.revision + 1, c.on);
      try {
        await writer;
        const seen = new Set(list.items.map((kv) => kv.key));
        await c.until(31 - seen.size);
        for (const e of c.events) {
          assert.equal(e.type, 'put');
          const key = (e as { key: string }).key;
          assert.ok(!seen.has(key), `duplicate ${key}`);
          seen.add(key);
        }
        assert.equal(seen.size, 31);
      } finally {
        await w.close();
      }
    });

    test('no event arrives after close() resolves', async () => {
      const p = fresh();
      const c = collector();
      const w = other.watch(p, (await ds.currentRevision()) + 1, c.on);
      await ds.put(`${p}a`, '1');
      await c.until(1);
      await w.close();
      await ds.put(`${p}b`, '2');
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(c.events.map(brief), [`put ${p}a=1`]);
    });

    test('watch from a compacted revision says resync-required; re-list and watch again works', async () => {
      const p = fresh();
      const old = (await ds.currentRevision()) + 1;
      await ds.put(`${p}a`, '1');
      await ds.put(`${p}a`, '2');
      const now = await ds.currentRevision();
      await ds.compact(now);
      await ds.compact(now - 1); // already compacted: nothing to do
      await assert.rejects(ds.compact(now + 100), ConflictError);
      const c = collector();
      const w = other.watch(p, old, c.on);
      try {
        await c.until(1);
        assert.equal(c.events[0]!.type, 'resync-required');
        assert.ok((c.events[0] as { compactedRevision: number }).compactedRevision >= old);
      } finally {
        await w.close();
      }
      const list = await other.list(p);
      assert.deepEqual(
        list.items.map((kv) => kv.value),
        ['2'],
      );
      const c2 = collector();
      const w2 = other.watch(p, list.revision + 1, c2.on);
      try {
        await ds.put(`${p}b`, '3');
        await c2.until(1);
        assert.deepEqual(c2.events.map(brief), [`put ${p}b=3`]);
      } finally {
        await w2.close();
      }
    });

    test('a key written with a TTL disappears after it, with a delete event', async () => {
      const p = fresh();
      const c = collector();
      const w = other.watch(p, (await ds.currentRevision()) + 1, c.on);
      try {
        await ds.put(`${p}status`, 'up', { ttlSeconds: 1 });
        assert.equal((await other.get(`${p}status`))?.value, 'up');
        const end = Date.now() + 8000;
        while ((await other.get(`${p}status`)) !== undefined) {
          assert.ok(Date.now() < end, 'TTL key still present after 8 s');
          await new Promise((r) => setTimeout(r, 100));
        }
        await c.until(2);
        assert.deepEqual(c.events.map(brief), [`put ${p}status=up`, `delete ${p}status`]);
      } finally {
        await w.close();
      }
    });

    test('ResourceClient on this backend: Calico keys, resourceVersion = revision, CAS, no-op apply', async () => {
      const client = new ResourceClient(ds);
      const name = `pool-${++n}`;
      const created = await client.create({
        apiVersion: 'projectcalico.org/v3',
        kind: 'IPPool',
        metadata: { name },
        spec: { cidr: '10.77.0.0/16', blockSize: 26 },
      });
      const kv = await other.get(`/calico/resources/v3/projectcalico.org/ippools/${name}`);
      assert.equal(created.metadata.resourceVersion, String(kv!.revision));
      const rev = await ds.currentRevision();
      const same = await new ResourceClient(other).apply(await client.get('IPPool', name));
      assert.equal(same.metadata.resourceVersion, created.metadata.resourceVersion);
      assert.equal(await ds.currentRevision(), rev, 'apply of an unchanged resource writes nothing');
      const updated = await client.update({ ...created, spec: { ...created.spec, natOutgoing: true } });
      await assert.rejects(client.update(created), { message: `update conflict: IPPool(${name})` });
      await assert.rejects(client.delete('IPPool', name, undefined, created.metadata.resourceVersion), ConflictError);
      await client.delete('IPPool', name, undefined, updated.metadata.resourceVersion);
      await client.apply({
        apiVersion: 'projectcalico.org/v3',
        kind: 'IPAMConfiguration',
        metadata: { name: 'default' },
        spec: { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 0 },
      });
      assert.deepEqual(JSON.parse((await other.get('/calico/ipam/v2/config'))!.value), {
        strict_affinity: true,
        auto_allocate_blocks: true,
      });
      const info = await Promise.all([ds, other].map((d) => ensureClusterInformation(new ResourceClient(d))));
      assert.equal(info[0]!.spec.clusterGUID, info[1]!.spec.clusterGUID);
      assert.equal(info[0]!.spec.datastoreReady, true);
    });

    describe('several processes', () => {
      const workers: WorkerHandle[] = [];
      after(() => workers.forEach((w) => w.kill()));

      test('N processes x M CAS increments of one key end at exactly N*M', async (t) => {
        if (!backend.settings) return t.skip('the memory store lives in one process');
        const [N, M] = [4, 40];
        const key = `${fresh()}counter`;
        const ws = Array.from({ length: N }, () => startWorker(backend.settings!, { job: 'increment', key, count: M }));
        workers.push(...ws);
        const exits = await Promise.all(ws.map((w) => w.exited));
        for (const e of exits) assert.equal(e.code, 0, e.stderr);
        assert.equal((await ds.get(key))?.value, String(N * M));
        const conflicts = ws.reduce((s, w) => s + (w.lines[0]?.conflicts ?? 0), 0);
        t.diagnostic(`${conflicts} CAS conflicts retried`);
      });

      test('watchers in other processes see every change of the writer, in order', async (t) => {
        if (!backend.settings) return t.skip('the memory store lives in one process');
        const p = fresh();
        const from = (await ds.currentRevision()) + 1;
        const K = 25;
        const ws = [0, 1].map(() => startWorker(backend.settings!, { job: 'watch', prefix: p, from, count: K }));
        workers.push(...ws);
        await Promise.all(ws.map((w) => w.waitFor((l) => l.ready === true)));
        for (let i = 0; i < K; i++) await ds.put(`${p}${String(i).padStart(2, '0')}`, String(i));
        for (const w of ws) {
          const e = await w.exited;
          assert.equal(e.code, 0, e.stderr);
          const puts = w.lines.filter((l) => l.type === 'put');
          assert.deepEqual(
            puts.map((l) => l.value),
            Array.from({ length: K }, (_, i) => String(i)),
          );
        }
      });
    });

    test('an unreachable datastore fails within the configured timeout, naming store and endpoint', async (t) => {
      if (!backend.settings) return t.skip('the memory store cannot be unreachable');
      const { settings, names } = await backend.unreachable();
      const t0 = Date.now();
      await assert.rejects(openDatastore(settings, { ...backend.openOptions, timeoutMs: 1500 }), (e: Error) => {
        assert.ok(e instanceof UnreachableError, `${e.name}: ${e.message}`);
        assert.ok(e.message.includes(names), `"${e.message}" should name "${names}"`);
        return true;
      });
      assert.ok(Date.now() - t0 < 1500 + 1500, `took ${Date.now() - t0} ms`);
    });
  });
}
