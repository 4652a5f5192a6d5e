// SQLite backend specifics: "unreachable" as SQLite means it (file locked beyond the timeout, permission denied),
// the durability setting, and automatic compaction of the change log.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  datastoreSettingsFromEnv,
  openDatastore,
  UnreachableError,
  type DatastoreSettings,
  type WatchEvent,
} from '../../../src/datastore/index.js';
import { SqliteDatastore } from '../../../src/datastore/sqlite.js';
import { startWorker, type WorkerHandle } from '../../support/datastore-workers.js';

describe('sqlite datastore access', () => {
  let dir: string;
  const workers: WorkerHandle[] = [];
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'td-sqlite-access-'));
  });
  after(() => {
    workers.forEach((w) => w.kill());
    rmSync(dir, { recursive: true, force: true });
  });

  test("a write waiting on another process's lock fails after the timeout, naming the file; reads go on", async () => {
    const file = path.join(dir, 'locked.db');
    const settings: DatastoreSettings = { type: 'sqlite', sqlitePath: file };
    const ds = await openDatastore(settings, { timeoutMs: 800 });
    try {
      await ds.put('/k', 'before');
      const holder = startWorker(settings, { job: 'hold-lock', ms: 4000 });
      workers.push(holder);
      await holder.waitFor((l) => l.locked === true);
      const t0 = Date.now();
      await assert.rejects(ds.put('/k', 'during'), (e: Error) => {
        assert.ok(e instanceof UnreachableError, `${e.name}: ${e.message}`);
        assert.equal(e.message, `sqlite ${file}: database locked for more than 800 ms`);
        return true;
      });
      const took = Date.now() - t0;
      assert.ok(took >= 700 && took < 2500, `failed after ${took} ms`);
      assert.equal((await ds.get('/k'))?.value, 'before', 'WAL readers are not blocked by the writer');
      holder.kill();
      await holder.exited;
      await ds.put('/k', 'after');
      assert.equal((await ds.get('/k'))?.value, 'after');
    } finally {
      await ds.close();
    }
  });

  test('permission denied is reported as unreachable, naming the file', () => {
    const locked = path.join(dir, 'private');
    mkdirSync(locked);
    chmodSync(locked, 0o700);
    const file = path.join(locked, 'calico.db');
    const script = `
      import('${path.resolve('src/datastore/index.ts')}').then(async (m) => {
        try { await m.openDatastore({ type: 'sqlite', sqlitePath: '${file}' }, { timeoutMs: 500 }); console.log('opened'); }
        catch (e) { console.log(e.name + ': ' + e.message); }
      });`;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
      timeout: 20000,
    });
    assert.match(res.stdout, new RegExp(`^UnreachableError: sqlite ${file}: `), res.stdout + res.stderr);
  });

  test('a writer killed mid-transaction (SIGKILL) leaves a consistent store that others keep using', async () => {
    const file = path.join(dir, 'crash.db');
    const settings: DatastoreSettings = { type: 'sqlite', sqlitePath: file };
    const ds = await openDatastore(settings);
    try {
      const from = (await ds.currentRevision()) + 1;
      const events: WatchEvent[] = [];
      const w = ds.watch('/crash/', from, (e) => events.push(e));
      const writer = startWorker(settings, { job: 'cas-loop', key: '/crash/counter', ms: 20000 });
      workers.push(writer);
      await writer.waitFor((l) => l.ready === true);
      while (events.length < 50) await new Promise((r) => setTimeout(r, 5));
      writer.child.kill('SIGKILL');
      await writer.exited;
      const db = new Database(file, { readonly: true });
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      db.close();
      // The counter's value equals the number of committed increments, and the watcher saw each one.
      const kv = await ds.get('/crash/counter');
      await new Promise((r) => setTimeout(r, 100));
      await w.close();
      const puts = events.filter((e) => e.type === 'put');
      assert.equal(puts.length, Number(kv!.value));
      assert.equal(puts[puts.length - 1]!.revision, kv!.revision);
      const next = await ds.update('/crash/counter', String(Number(kv!.value) + 1), kv!.revision);
      assert.equal(next.revision, await ds.currentRevision());
    } finally {
      await ds.close();
    }
  });

  test('the default durability is synchronous=NORMAL in WAL mode; SQLITE_SYNCHRONOUS=FULL fsyncs every commit', async () => {
    // PRAGMA synchronous is per connection: read it from the datastore's own connection.
    const syncOf = (ds: unknown): number =>
      (ds as { db: Database.Database }).db.pragma('synchronous', { simple: true }) as number;
    const file = path.join(dir, 'durable.db');
    const byDefault = await openDatastore({ type: 'sqlite', sqlitePath: file });
    const full = await openDatastore(datastoreSettingsFromEnv({ SQLITE_PATH: file, SQLITE_SYNCHRONOUS: 'full' }));
    try {
      await byDefault.put('/k', 'v');
      assert.equal(syncOf(byDefault), 1, 'NORMAL');
      assert.equal(syncOf(full), 2, 'FULL');
      await full.put('/k', 'w'); // both connections write one WAL
      assert.equal((await byDefault.get('/k'))?.value, 'w');
      const other = new Database(file, { readonly: true });
      assert.equal(other.pragma('journal_mode', { simple: true }), 'wal');
      other.close();
    } finally {
      await byDefault.close();
      await full.close();
    }
  });

  test('old change-log history is compacted automatically; a watcher from before it must re-list', async () => {
    const ds = await SqliteDatastore.open(path.join(dir, 'compact.db'), { retainRevisions: 50 });
    try {
      const start = (await ds.currentRevision()) + 1;
      for (let i = 0; i < 200; i++) await ds.put(`/c/${i % 7}`, String(i));
      const events: WatchEvent[] = [];
      const w = ds.watch('/c/', start, (e) => events.push(e));
      const end = Date.now() + 3000;
      while (events.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      await w.close();
      assert.equal(events[0]?.type, 'resync-required');
      const recent = (await ds.currentRevision()) - 10;
      const tail: WatchEvent[] = [];
      const w2 = ds.watch('/c/', recent, (e) => tail.push(e));
      while (tail.length < 11 && Date.now() < end + 3000) await new Promise((r) => setTimeout(r, 5));
      await w2.close();
      assert.equal(tail.length, 11);
      assert.ok(tail.every((e) => e.type === 'put'));
    } finally {
      await ds.close();
    }
  });
});
