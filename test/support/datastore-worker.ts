// A child process for multi-process datastore tests and benchmarks: opens the datastore from settings given as JSON
// in argv[2] and runs one job from argv[3] (JSON), printing one JSON line per result to stdout.
//   {"job":"increment","key":K,"count":M}          M CAS increments of K through a read-update retry loop
//   {"job":"watch","prefix":P,"from":R,"count":N}  prints each event under P (from revision R) until N puts are seen
//   {"job":"hold-lock","ms":T}                     SQLite only: holds the write lock T ms (BEGIN IMMEDIATE)
//   {"job":"cas-loop","key":K,"ms":T,"startAt":E}  CAS updates of K for T ms from epoch ms E; prints the count
import { openDatastore, ConflictError, type DatastoreSettings } from '../../src/datastore/index.js';

const settings = JSON.parse(process.argv[2]!) as DatastoreSettings;
const job = JSON.parse(process.argv[3]!) as Record<string, any>;
const out = (obj: unknown): void => void process.stdout.write(JSON.stringify(obj) + '\n');

async function main(): Promise<void> {
  if (job.job === 'hold-lock') {
    const { default: Database } = await import('better-sqlite3');
    if (settings.type !== 'sqlite') throw new Error('hold-lock needs sqlite');
    const db = new Database(settings.sqlitePath);
    db.exec('BEGIN IMMEDIATE');
    out({ locked: true });
    await new Promise((r) => setTimeout(r, job.ms));
    db.exec('ROLLBACK');
    db.close();
    return;
  }
  const ds = await openDatastore(settings, {
    timeoutMs: job.timeoutMs ?? 10000,
    sqliteSynchronous: job.sqliteSynchronous,
  });
  try {
    if (job.job === 'increment') {
      let conflicts = 0;
      for (let i = 0; i < job.count; i++) {
        for (;;) {
          const cur = await ds.get(job.key);
          try {
            if (cur) await ds.update(job.key, String(Number(cur.value) + 1), cur.revision);
            else await ds.create(job.key, '1');
            break;
          } catch (err) {
            if (!(err instanceof ConflictError) && (err as Error).name !== 'AlreadyExistsError') throw err;
            conflicts++;
          }
        }
      }
      out({ done: job.count, conflicts });
    } else if (job.job === 'cas-loop') {
      let done = 0;
      let conflicts = 0;
      out({ ready: true });
      // Several workers start together at job.startAt (epoch ms) when given, after their own start-up.
      if (job.startAt) await new Promise((r) => setTimeout(r, Math.max(0, job.startAt - Date.now())));
      const end = Date.now() + job.ms;
      let cur = await ds.get(job.key);
      while (Date.now() < end) {
        try {
          cur = cur
            ? await ds.update(job.key, String(Number(cur.value) + 1), cur.revision)
            : await ds.create(job.key, '1');
          done++;
        } catch (err) {
          if (!(err instanceof ConflictError) && (err as Error).name !== 'AlreadyExistsError') throw err;
          conflicts++;
          cur = await ds.get(job.key);
        }
      }
      out({ done, conflicts });
    } else if (job.job === 'watch') {
      let puts = 0;
      await new Promise<void>((resolve) => {
        const w = ds.watch(job.prefix, job.from, (e) => {
          const at = performance.timeOrigin + performance.now();
          out({ ...e, at, ...(e.type === 'error' ? { error: e.error.message } : {}) });
          if (e.type === 'put') puts++;
          if (puts >= job.count || e.type === 'resync-required' || e.type === 'error') {
            void w.close().then(resolve);
          }
        });
        out({ ready: true });
      });
    } else {
      throw new Error(`unknown job ${String(job.job)}`);
    }
  } finally {
    await ds.close();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`${err.name}: ${err.message}\n`);
    process.exit(1);
  },
);
