// Datastore benchmark: per backend (SQLite with its default NORMAL durability, SQLite FULL (fsync per commit), a real
// etcd) — sequential CAS updates/s, 8 concurrent processes' CAS updates/s (one key each), watch latency from a
// writer process to watcher processes (median, p99), and for etcd a plain put loop through the same client.
// Goals (issue 3): SQLite >= 3,000 durable CAS/s sequential and watch p99 <= 20 ms; etcd CAS >= 0.8x raw put.
// Sequential figures alternate CAS and put rounds and report medians: the shared 2-core machine is noisy.
// Run: node --import tsx bench/datastore/run.ts [seconds-per-round, default 1] [sqlite|etcd: only that backend]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatastore, type Datastore, type DatastoreSettings, type OpenOptions } from '../../src/datastore/index.js';
import { startEtcd } from '../../test/support/etcd.js';
import { startWorker, type WorkerHandle } from '../../test/support/datastore-workers.js';

const seconds = Number(process.argv[2] ?? 1);
const ROUNDS = 5;
const only = process.argv[3];
const now = (): number => performance.timeOrigin + performance.now();

async function sequentialCas(ds: Datastore, key: string): Promise<number> {
  let kv = (await ds.get(key)) ?? (await ds.put(key, '0'));
  let n = 0;
  const t0 = now();
  const end = t0 + seconds * 1000;
  while (now() < end) {
    kv = await ds.update(key, String(++n), kv.revision);
  }
  return n / ((now() - t0) / 1000);
}

async function putLoop(ds: Datastore, key: string): Promise<number> {
  let n = 0;
  const t0 = now();
  const end = t0 + seconds * 1000;
  while (now() < end) await ds.put(key, String(++n));
  return n / ((now() - t0) / 1000);
}

async function concurrentCas(settings: DatastoreSettings, extra: Record<string, unknown>): Promise<string> {
  const startAt = Date.now() + 5000; // time for 8 processes to start (tsx) on 2 cores
  const ms = seconds * 3000;
  const workers = Array.from({ length: 8 }, (_, i) =>
    startWorker(settings, { job: 'cas-loop', key: `/bench/concurrent/${i}`, ms, startAt, ...extra }),
  );
  try {
    const exits = await Promise.all(workers.map((w) => w.exited));
    exits.forEach((e, i) => {
      if (e.code !== 0) throw new Error(`worker ${i} failed: ${e.stderr}`);
    });
    const late = workers.some((w) => !w.lines.some((l) => l.ready));
    const total = workers.reduce((s, w) => s + (w.lines.find((l) => 'done' in l)?.done ?? 0), 0);
    return `${fmt(total / (ms / 1000))} CAS/s total, one key per process${late ? ' (some workers started late)' : ''}`;
  } finally {
    workers.forEach((w) => w.kill());
  }
}

/**
 * Writer = this process; watchers = 3 child processes. Two figures per event: from just before the write call (so
 * including the commit's own fsync) and from the commit (when the write call returned) to receipt in the watcher.
 */
async function watchLatency(ds: Datastore, settings: DatastoreSettings): Promise<string> {
  const K = 300;
  const prefix = `/bench/watch/${Date.now()}/`;
  const from = (await ds.currentRevision()) + 1;
  const watchers: WorkerHandle[] = [0, 1, 2].map(() => startWorker(settings, { job: 'watch', prefix, from, count: K }));
  try {
    await Promise.all(watchers.map((w) => w.waitFor((l) => l.ready === true, 30000)));
    await new Promise((r) => setTimeout(r, 500)); // watch streams established
    const sentAt = new Map<string, number>();
    const committedAt = new Map<string, number>();
    for (let i = 0; i < K; i++) {
      const key = `${prefix}${i}`;
      sentAt.set(key, now());
      await ds.put(key, String(i));
      committedAt.set(key, now());
      await new Promise((r) => setTimeout(r, 3)); // paced: latency, not queueing behind a burst
    }
    const fromCall: number[] = [];
    const fromCommit: number[] = [];
    for (const w of watchers) {
      const e = await w.exited;
      if (e.code !== 0) throw new Error(`watcher failed: ${e.stderr}`);
      for (const l of w.lines) {
        if (l.type !== 'put') continue;
        fromCall.push(l.at - sentAt.get(l.key)!);
        // The watcher can see the commit before the writer's own await resumes: count that as 0.
        fromCommit.push(Math.max(0, l.at - committedAt.get(l.key)!));
      }
    }
    if (fromCall.length !== K * watchers.length) throw new Error(`only ${fromCall.length} events of ${K * 3}`);
    const summary = (xs: number[]): string => {
      xs.sort((a, b) => a - b);
      const q = (p: number): number => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
      return `median ${q(0.5).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms, max ${q(1).toFixed(2)} ms`;
    };
    return (
      `commit -> event ${summary(fromCommit)}\n` +
      `                                write call -> event ${summary(fromCall)} (${fromCall.length} events, 3 watchers)`
    );
  } finally {
    watchers.forEach((w) => w.kill());
  }
}

class SkipSection extends Error {}
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function benchBackend(label: string, settings: DatastoreSettings, opts: OpenOptions, extra = {}): Promise<void> {
  console.log(`\n== ${label}`);
  const ds = await openDatastore(settings, opts);
  try {
    const casRounds: number[] = [];
    const putRounds: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      casRounds.push(await sequentialCas(ds, '/bench/seq'));
      if (settings.type === 'etcdv3') putRounds.push(await putLoop(ds, '/bench/put'));
    }
    const cas = median(casRounds);
    console.log(
      `sequential CAS updates:        ${fmt(cas)} /s (median of ${ROUNDS} rounds: ${casRounds.map(fmt).join(', ')})`,
    );
    if (settings.type === 'etcdv3') {
      const put = median(putRounds);
      console.log(
        `plain put loop (same client):  ${fmt(put)} /s (rounds: ${putRounds.map(fmt).join(', ')})\n` +
          `CAS / put ratio:               ${median(casRounds.map((c, i) => c / putRounds[i]!)).toFixed(2)} ` +
          `(median of per-round ratios, each CAS round next to its put round; ratio of medians ${(cas / put).toFixed(2)}; ` +
          `goal >= 0.8)`,
      );
    }
    console.log(`8 processes, CAS updates:      ${await concurrentCas(settings, extra)}`);
    if (!('skipWatch' in extra)) console.log(`watch latency writer->watchers: ${await watchLatency(ds, settings)}`);
  } finally {
    await ds.close();
  }
}

async function main(): Promise<void> {
  console.log(`datastore benchmark, ${seconds} s per throughput figure, ${new Date().toISOString()}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'td-bench-'));
  try {
    if (only === 'etcd') throw new SkipSection();
    await benchBackend(
      'SQLite, default durability (WAL, synchronous=NORMAL: survives process crashes; an OS crash may roll back the last commits)',
      { type: 'sqlite', sqlitePath: path.join(dir, 'normal.db') },
      {},
    );
    await benchBackend(
      "SQLite, synchronous=FULL (SQLITE_SYNCHRONOUS=FULL: every commit fsync'd, survives power loss as an etcd commit)",
      { type: 'sqlite', sqlitePath: path.join(dir, 'full.db') },
      { sqliteSynchronous: 'FULL' },
      { sqliteSynchronous: 'FULL' },
    );
  } catch (err) {
    if (!(err instanceof SkipSection)) throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (only === 'sqlite') return;
  const etcd = await startEtcd();
  try {
    await benchBackend(
      `etcd v3 (etcd ${etcd.endpoint}, one member, data on local disk)`,
      {
        type: 'etcdv3',
        etcdEndpoints: [etcd.endpoint],
      },
      {},
    );
  } finally {
    await etcd.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err);
    process.exit(1);
  },
);
