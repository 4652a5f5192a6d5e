// SQLite Datastore (better-sqlite3): one file shared by every process on the machine. WAL journal, BEGIN IMMEDIATE
// writes with a global revision and a change log; watchers in any process follow the log, woken by inotify on the
// database directory (writers touch the db file once a commit is visible; the -wal file changes too), with a slow
// safety poll; old history is compacted.
//
// Durability: the default is synchronous=NORMAL, SQLite's advice for WAL databases and what k3s's SQLite datastore
// (kine over go-sqlite3) and better-sqlite3's own build use: a commit is in the WAL when it returns, so it survives
// any process crash, and the file is never corrupted; an OS crash or power loss may roll back the last commits. The
// store serves one machine, so such a crash also ends every pod those commits were about (after it, runtimes set pods
// up afresh and DEL the old sandboxes; a lost release is a leak that `ipam check` and the leak collector find).
// synchronous=FULL (SQLITE_SYNCHRONOUS=FULL, `sqlite_synchronous` in a netconf, spec.sqliteSynchronous in
// calicoctl.cfg) fsyncs the WAL at every commit, as durable as an etcd commit, at one disk flush per commit (~4,000
// CAS/s here when quiet, against ~15,000 with NORMAL; bench/datastore, bench/ipam).
import Database from 'better-sqlite3';
import { utimesSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import {
  AlreadyExistsError,
  ConflictError,
  DatastoreError,
  NotFoundError,
  UnreachableError,
  type Datastore,
  type KVPair,
  type ListResult,
  type TxnCondition,
  type TxnOperation,
  type Watch,
  type WatchEvent,
  type WriteOptions,
} from './types.js';
import { conditionFailure } from './conditions.js';
import type { SqliteSynchronous } from './settings.js';

export interface SqliteOptions {
  /** Bound on waiting for the file (locked by another writer) before UnreachableError. Default 5000 ms. */
  timeoutMs?: number;
  /** WAL fsync policy, see the header. Default NORMAL. */
  synchronous?: SqliteSynchronous;
  /** Change-log entries kept for watchers; older history is compacted automatically. Default 100,000 revisions. */
  retainRevisions?: number;
  /** Safety poll for watchers in case a file-change notification is missed. Default 500 ms. */
  pollIntervalMs?: number;
}

interface KvRow {
  key: string;
  value: string;
  revision: number;
  expires_at: number | null;
}
interface ChangeRow {
  revision: number;
  type: 'put' | 'delete';
  key: string;
  value: string | null;
  prev_value: string | null;
}
interface Watcher {
  prefix: string;
  next: number;
  onEvent: (event: WatchEvent) => void;
  closed: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  revision INTEGER NOT NULL,
  expires_at INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS changes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  revision INTEGER NOT NULL,
  type TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT,
  prev_value TEXT
);
CREATE INDEX IF NOT EXISTS changes_revision ON changes (revision);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 1), ('compacted', 0);
`;

/** WAL mode is on and the tables and meta rows exist: an open needs no write (and so no write lock). */
function schemaReady(db: Database.Database): boolean {
  if (db.pragma('journal_mode', { simple: true }) !== 'wal') return false;
  const tables = db
    .prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('kv', 'changes', 'meta')")
    .get() as { n: number };
  if (tables.n !== 3) return false;
  const rows = db.prepare("SELECT count(*) AS n FROM meta WHERE name IN ('revision', 'compacted')").get() as {
    n: number;
  };
  return rows.n === 2;
}

/** Smallest string greater than every string starting with prefix ('' = no upper bound). */
function prefixEnd(prefix: string): string {
  if (prefix === '') return '';
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** Re-checks after a -wal change that showed no new commit yet (the writer may still be fsync'ing). */
const RECHECK_DELAYS_MS = [1, 2, 4, 8, 16, 32, 64, 128];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class SqliteDatastore implements Datastore {
  readonly description: string;
  private readonly db: Database.Database;
  private readonly timeoutMs: number;
  private readonly retain: number;
  private readonly pollIntervalMs: number;
  private readonly stmt: ReturnType<SqliteDatastore['prepareStatements']>;
  private readonly writeTx: (check: () => void, ops: TxnOperation[]) => { revision: number; written: KVPair[] };
  private readonly watchers = new Set<Watcher>();
  private fileWatcher?: FSWatcher;
  private pollTimer?: NodeJS.Timeout;
  private sweepTimer?: NodeJS.Timeout;
  private wakeScheduled = false;
  private closed = false;
  /** Newest store revision a delivery pass has read. */
  private seenRevision = 0;
  private recheckTimer?: NodeJS.Timeout;
  private recheckStep = 0;

  /** Opens (creating if needed) the database; throws UnreachableError naming the file if it cannot. */
  static async open(file: string, opts: SqliteOptions = {}): Promise<SqliteDatastore> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const start = Date.now();
    for (;;) {
      try {
        return new SqliteDatastore(file, opts);
      } catch (err) {
        if (isBusy(err) && Date.now() - start < timeoutMs) {
          await sleep(5 + Math.random() * 20);
          continue;
        }
        throw unreachable(`sqlite ${file}`, err, timeoutMs);
      }
    }
  }

  private constructor(
    readonly file: string,
    opts: SqliteOptions,
  ) {
    this.description = `sqlite ${file}`;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.retain = opts.retainRevisions ?? 100_000;
    this.pollIntervalMs = opts.pollIntervalMs ?? 500;
    // fileMustExist is false: a missing file is created; a missing directory fails (SQLITE_CANTOPEN).
    // The busy handler blocks the event loop, so it is kept short (10 ms: SQLite's handler backs off to 25-100 ms
    // sleeps, so a short cap keeps waiters retrying every few ms; +17% allocations/s with 8 processes over 21 A/B
    // pairs); longer waits are async retries up to timeoutMs.
    // Measured and dropped (bench/ipam, 8 processes): handing the write turn from process to process through a FIFO
    // token ("baton") was 0.5-1.0x as fast, since every commit then waits for a context switch on a busy 2-core host.
    const db = new Database(file, { timeout: Math.min(this.timeoutMs, 10) });
    try {
      // An existing database needs no schema work, so opening it takes no write lock: this matters when many
      // short-lived processes (CNI plugins) open the file at once.
      if (!schemaReady(db)) {
        db.pragma('journal_mode = WAL');
        db.transaction(() => db.exec(SCHEMA)).immediate();
      }
      db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`);
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
    this.stmt = this.prepareStatements();
    const tx = db.transaction((check: () => void, ops: TxnOperation[]) => {
      check();
      return this.apply(ops);
    });
    this.writeTx = (check, ops) => tx.immediate(check, ops);
    // Expired TTL keys are deleted (with delete events) by whichever process notices first, as etcd revokes a lease.
    this.sweepTimer = setInterval(() => void this.sweepExpired().catch(() => undefined), 1000);
    this.sweepTimer.unref();
  }

  private prepareStatements() {
    const db = this.db;
    return {
      getRaw: db.prepare<[string], KvRow>('SELECT key, value, revision, expires_at FROM kv WHERE key = ?'),
      get: db.prepare<[string, number], KvRow>(
        'SELECT key, value, revision, expires_at FROM kv WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)',
      ),
      listRange: db.prepare<[string, string, number], KvRow>(
        'SELECT key, value, revision, expires_at FROM kv WHERE key >= ? AND key < ? ' +
          'AND (expires_at IS NULL OR expires_at > ?) ORDER BY key',
      ),
      listFrom: db.prepare<[string, number], KvRow>(
        'SELECT key, value, revision, expires_at FROM kv WHERE key >= ? ' +
          'AND (expires_at IS NULL OR expires_at > ?) ORDER BY key',
      ),
      upsert: db.prepare<[string, string, number, number | null]>(
        'INSERT INTO kv (key, value, revision, expires_at) VALUES (?, ?, ?, ?) ' +
          'ON CONFLICT (key) DO UPDATE SET value = excluded.value, revision = excluded.revision, ' +
          'expires_at = excluded.expires_at',
      ),
      changedInRange: db.prepare<[string, string, number, number], KvRow>(
        'SELECT key, value, revision, expires_at FROM kv WHERE key >= ? AND key < ? AND revision > ? ' +
          'AND (expires_at IS NULL OR expires_at > ?) LIMIT 1',
      ),
      changedFrom: db.prepare<[string, number, number], KvRow>(
        'SELECT key, value, revision, expires_at FROM kv WHERE key >= ? AND revision > ? ' +
          'AND (expires_at IS NULL OR expires_at > ?) LIMIT 1',
      ),
      remove: db.prepare<[string]>('DELETE FROM kv WHERE key = ?'),
      logChange: db.prepare<[number, string, string, string | null, string | null]>(
        'INSERT INTO changes (revision, type, key, value, prev_value) VALUES (?, ?, ?, ?, ?)',
      ),
      meta: db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE name = ?'),
      setMeta: db.prepare<[number, string]>('UPDATE meta SET value = ? WHERE name = ?'),
      changesBetween: db.prepare<[number, number], ChangeRow>(
        'SELECT revision, type, key, value, prev_value FROM changes WHERE revision >= ? AND revision <= ? ORDER BY id',
      ),
      dropHistory: db.prepare<[number]>('DELETE FROM changes WHERE revision < ?'),
      expired: db.prepare<[number], KvRow>(
        'SELECT key, value, revision, expires_at FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?',
      ),
    };
  }

  async get(key: string): Promise<KVPair | undefined> {
    return this.read(() => {
      const row = this.stmt.get.get(key, Date.now());
      return row ? toPair(row) : undefined;
    });
  }

  async list(prefix: string): Promise<ListResult> {
    return this.read(() =>
      this.db.transaction(() => {
        const now = Date.now();
        const end = prefixEnd(prefix);
        const rows = end ? this.stmt.listRange.all(prefix, end, now) : this.stmt.listFrom.all(prefix, now);
        return { items: rows.map(toPair), revision: this.metaValue('revision') };
      })(),
    );
  }

  async create(key: string, value: string, opts?: WriteOptions): Promise<KVPair> {
    const { written } = await this.write(() => {
      if (this.stmt.get.get(key, Date.now())) throw new AlreadyExistsError(`resource already exists: ${key}`, key);
    }, [{ kind: 'put', key, value, ttlSeconds: opts?.ttlSeconds }]);
    return written[0]!;
  }

  async update(key: string, value: string, expectedRevision: number, opts?: WriteOptions): Promise<KVPair> {
    const { written } = await this.write(
      () => this.checkRevision(key, expectedRevision),
      [{ kind: 'put', key, value, ttlSeconds: opts?.ttlSeconds }],
    );
    return written[0]!;
  }

  async put(key: string, value: string, opts?: WriteOptions): Promise<KVPair> {
    const { written } = await this.write(() => undefined, [{ kind: 'put', key, value, ttlSeconds: opts?.ttlSeconds }]);
    return written[0]!;
  }

  async delete(key: string, expectedRevision?: number): Promise<KVPair> {
    let prev: KVPair | undefined;
    await this.write(() => {
      prev = this.checkRevision(key, expectedRevision);
    }, [{ kind: 'delete', key }]);
    return prev!;
  }

  async txn(conditions: TxnCondition[], operations: TxnOperation[]): Promise<{ revision: number }> {
    const { revision } = await this.write(() => {
      const now = Date.now();
      for (const c of conditions) {
        const row =
          c.kind === 'unchangedSince' ? this.changedUnder(c.key, c.revision, now) : this.stmt.get.get(c.key, now);
        const holds = c.kind === 'absent' ? !row : c.kind === 'unchangedSince' ? !row : row?.revision === c.revision;
        if (!holds) throw conditionFailure(c, row ? toPair(row) : undefined);
      }
    }, operations);
    return { revision };
  }

  watch(prefix: string, fromRevision: number, onEvent: (event: WatchEvent) => void): Watch {
    this.checkOpen();
    const next = fromRevision > 0 ? fromRevision : this.metaValue('revision') + 1;
    const w: Watcher = { prefix, next, onEvent, closed: false };
    this.watchers.add(w);
    this.startFollowing();
    this.wake();
    return {
      close: async () => {
        w.closed = true;
        this.watchers.delete(w);
        if (this.watchers.size === 0) this.stopFollowing();
      },
    };
  }

  async currentRevision(): Promise<number> {
    return this.read(() => this.metaValue('revision'));
  }

  async compact(revision: number): Promise<void> {
    await this.withBusyRetry(() =>
      this.runImmediate(() => {
        const current = this.metaValue('revision');
        if (revision > current) {
          throw new ConflictError(`compaction revision ${revision} is in the future (current ${current})`);
        }
        this.compactTo(revision);
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.watchers) w.closed = true;
    this.watchers.clear();
    this.stopFollowing();
    clearInterval(this.sweepTimer);
    this.db.close();
  }

  // ---- internals ----

  private checkOpen(): void {
    if (this.closed) throw new UnreachableError(`${this.description}: datastore is closed`);
  }

  /** A live key under prefix modified after revision, if any. */
  private changedUnder(prefix: string, revision: number, now: number): KvRow | undefined {
    const end = prefixEnd(prefix);
    return end
      ? this.stmt.changedInRange.get(prefix, end, revision, now)
      : this.stmt.changedFrom.get(prefix, revision, now);
  }

  private metaValue(name: string): number {
    return this.stmt.meta.get(name)!.value;
  }

  private checkRevision(key: string, expectedRevision: number | undefined): KVPair {
    const row = this.stmt.get.get(key, Date.now());
    if (!row) throw new NotFoundError(`resource does not exist: ${key}`, key);
    if (expectedRevision !== undefined && row.revision !== expectedRevision) {
      throw new ConflictError(
        `update conflict: ${key} (revision ${expectedRevision} expected, ${row.revision} found)`,
        key,
      );
    }
    return toPair(row);
  }

  /** Inside a write transaction: applies operations at one new revision and logs them. */
  private apply(ops: TxnOperation[]): { revision: number; written: KVPair[] } {
    const now = Date.now();
    const current = this.metaValue('revision');
    // Raw rows: deleting an expired-but-not-yet-swept key still removes it and logs the delete.
    const prevs = ops.map((op) => (op.kind === 'delete' ? this.stmt.getRaw.get(op.key) : undefined));
    // As etcd: deleting only missing keys is not a change and does not advance the revision.
    if (ops.every((op, i) => op.kind === 'delete' && !prevs[i])) return { revision: current, written: [] };
    const revision = current + 1;
    this.stmt.setMeta.run(revision, 'revision');
    const written: KVPair[] = [];
    ops.forEach((op, i) => {
      if (op.kind === 'put') {
        const expiresAt = op.ttlSeconds !== undefined ? now + Math.round(op.ttlSeconds * 1000) : null;
        this.stmt.upsert.run(op.key, op.value, revision, expiresAt);
        this.stmt.logChange.run(revision, 'put', op.key, op.value, null);
        written.push(
          expiresAt === null
            ? { key: op.key, value: op.value, revision }
            : { key: op.key, value: op.value, revision, expiresAt },
        );
      } else if (prevs[i]) {
        this.stmt.remove.run(op.key);
        this.stmt.logChange.run(revision, 'delete', op.key, null, prevs[i]!.value);
      }
    });
    if (revision % Math.min(1000, this.retain) === 0 && revision - this.retain > this.metaValue('compacted')) {
      this.compactTo(revision - this.retain);
    }
    return { revision, written };
  }

  private compactTo(revision: number): void {
    if (revision <= this.metaValue('compacted')) return;
    this.stmt.dropHistory.run(revision);
    this.stmt.setMeta.run(revision, 'compacted');
  }

  /** WAL readers rarely see SQLITE_BUSY (e.g. while another process recovers the WAL): retried like writes. */
  private read<T>(fn: () => T): Promise<T> {
    return this.withBusyRetry(fn);
  }

  private async write(check: () => void, ops: TxnOperation[]): Promise<{ revision: number; written: KVPair[] }> {
    const result = await this.withBusyRetry(() => this.writeTx(check, ops));
    this.announceCommit();
    this.wake();
    return result;
  }

  /** Calls fn, retrying while another process holds the lock (SQLITE_BUSY), up to timeoutMs. */
  private async withBusyRetry<T>(fn: () => T): Promise<T> {
    this.checkOpen();
    const start = Date.now();
    for (;;) {
      try {
        return fn();
      } catch (err) {
        if (err instanceof DatastoreError) throw err;
        if (isBusy(err) && Date.now() - start < this.timeoutMs) {
          await sleep(Math.random() * 4);
          this.checkOpen();
          continue;
        }
        throw unreachable(this.description, err, this.timeoutMs);
      }
    }
  }

  private runImmediate<T>(fn: () => T): T {
    // BEGIN IMMEDIATE: takes the write lock up front, so a read-then-write never upgrades (and deadlocks) mid-way.
    return this.db.transaction(fn).immediate();
  }

  private async sweepExpired(): Promise<void> {
    if (this.closed) return;
    if (this.stmt.expired.all(Date.now()).length === 0) return;
    // Re-read inside the transaction: another process may have swept or rewritten the keys meanwhile.
    await this.withBusyRetry(() =>
      this.runImmediate(() =>
        this.apply(this.stmt.expired.all(Date.now()).map((row) => ({ kind: 'delete' as const, key: row.key }))),
      ),
    );
    this.announceCommit();
    this.wake();
  }

  // ---- watch delivery ----

  private startFollowing(): void {
    if (this.fileWatcher || this.closed) return;
    const dir = path.dirname(this.file);
    const base = path.basename(this.file);
    try {
      // Watching the directory (not the -wal file itself) survives the WAL being deleted and recreated.
      this.fileWatcher = fsWatch(dir, { persistent: false }, (_event, name) => {
        if (!name || name === base || name === `${base}-wal`) this.onFileChange();
      });
      this.fileWatcher.on('error', () => undefined);
    } catch {
      // No inotify: the safety poll still delivers, only slower.
    }
    // Not unref'd: an open watch keeps its process alive, as an etcd watch stream does.
    this.pollTimer = setInterval(() => this.wake(), this.pollIntervalMs);
  }

  private stopFollowing(): void {
    this.fileWatcher?.close();
    this.fileWatcher = undefined;
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    clearTimeout(this.recheckTimer);
    this.recheckTimer = undefined;
  }

  /**
   * After a commit is visible, touch the database file's mtime: watchers in other processes get an inotify event
   * that is never early. (Events from the -wal file can arrive while the commit is still being fsync'd, before
   * readers can see it; onFileChange re-checks briefly for those.)
   */
  private announceCommit(): void {
    const t = new Date();
    try {
      utimesSync(this.file, t, t);
    } catch {
      // Not the file's owner: watchers still wake on the -wal write and their re-checks.
    }
  }

  private onFileChange(): void {
    this.recheckStep = 0;
    this.wake();
    this.scheduleRecheck();
  }

  private scheduleRecheck(): void {
    if (this.recheckTimer || this.recheckStep >= RECHECK_DELAYS_MS.length || this.watchers.size === 0) return;
    const before = this.seenRevision;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      if (this.closed) return;
      this.recheckStep++;
      this.deliver();
      if (this.seenRevision === before) this.scheduleRecheck();
    }, RECHECK_DELAYS_MS[this.recheckStep]);
  }

  private wake(): void {
    if (this.wakeScheduled || this.watchers.size === 0) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      if (!this.closed) this.deliver();
    });
  }

  private deliver(): void {
    for (;;) {
      const active = [...this.watchers].filter((w) => !w.closed);
      if (active.length === 0) return;
      const from = Math.min(...active.map((w) => w.next));
      let batch: { rows: ChangeRow[]; compacted: number; upTo: number; revision: number };
      try {
        // One snapshot: the rows up to `upTo` are complete (revisions are contiguous and commit atomically).
        batch = this.db.transaction(() => {
          const revision = this.metaValue('revision');
          const upTo = Math.min(revision, from + 999);
          return {
            rows: upTo >= from ? this.stmt.changesBetween.all(from, upTo) : [],
            compacted: this.metaValue('compacted'),
            upTo,
            revision,
          };
        })();
      } catch (err) {
        if (isBusy(err)) {
          setTimeout(() => this.wake(), 5); // transient: try again shortly
          return;
        }
        const error = unreachable(this.description, err, this.timeoutMs);
        for (const w of active) {
          this.watchers.delete(w);
          w.closed = true;
          w.onEvent({ type: 'error', error });
        }
        return;
      }
      if (batch.revision > this.seenRevision) this.seenRevision = batch.revision;
      for (const w of active) {
        if (w.closed) continue;
        if (w.next < batch.compacted) {
          this.watchers.delete(w);
          w.closed = true;
          w.onEvent({ type: 'resync-required', compactedRevision: batch.compacted });
          continue;
        }
        for (const row of batch.rows) {
          if (w.closed) break;
          if (row.revision >= w.next && row.key.startsWith(w.prefix)) w.onEvent(toEvent(row));
        }
        if (batch.upTo + 1 > w.next) w.next = batch.upTo + 1;
      }
      if (batch.upTo >= batch.revision) return;
    }
  }
}

function toPair(row: KvRow): KVPair {
  const kv: KVPair = { key: row.key, value: row.value, revision: row.revision };
  if (row.expires_at !== null) kv.expiresAt = row.expires_at;
  return kv;
}

function toEvent(row: ChangeRow): WatchEvent {
  return row.type === 'put'
    ? { type: 'put', key: row.key, value: row.value!, revision: row.revision }
    : { type: 'delete', key: row.key, revision: row.revision, prevValue: row.prev_value ?? undefined };
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  return code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED';
}

function unreachable(description: string, err: unknown, timeoutMs: number): Error {
  const code = (err as { code?: string }).code ?? '';
  const message = err instanceof Error ? err.message : String(err);
  if (isBusy(err)) return new UnreachableError(`${description}: database locked for more than ${timeoutMs} ms`);
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return new UnreachableError(`${description}: cannot open (directory missing or permission denied): ${message}`);
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_PERM') || code.startsWith('SQLITE_AUTH')) {
    return new UnreachableError(`${description}: permission denied: ${message}`);
  }
  if (code.startsWith('SQLITE_')) return new UnreachableError(`${description}: ${message}`);
  // better-sqlite3 checks the directory itself and throws a plain TypeError.
  if (/directory does not exist/.test(message)) return new UnreachableError(`${description}: ${message}`);
  return err instanceof Error ? err : new Error(message);
}
