// The agent as its own process for bench/policy/run.ts (so its RSS is its own; the bench bundles this file with
// esbuild like `npm run build` does, so no TypeScript loader sits in the process). Opens the datastore from the
// environment (DATASTORE_TYPE, ETCD_ENDPOINTS, ...) and runs startAgent until SIGTERM. The bench's etcd listens on
// the root namespace's loopback, so the agent runs there and executes nft in the node namespace (BENCH_NETNS).
// On SIGUSR1 it prints one JSON line `{"memory": {...}}` (process.memoryUsage in MB) to stderr, for the bench's
// memory figures (with --expose-gc also the heap retained after a full collection); BENCH_BARE=1 only loads the bundle and opens the datastore (the baseline a bare process costs).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { startAgent } from '../../src/agent/agent.js';
import { NftCommandRunner } from '../../src/agent/dataplane/nft-runner.js';
import { datastoreSettingsFromEnv, openDatastore } from '../../src/datastore/index.js';

const mb = (x: number): number => Math.round((x / 1048576) * 10) / 10;
function memoryNow(): Record<string, number> {
  const m = process.memoryUsage();
  return {
    rss: mb(m.rss),
    heapTotal: mb(m.heapTotal),
    heapUsed: mb(m.heapUsed),
    external: mb(m.external),
    arrayBuffers: mb(m.arrayBuffers),
  };
}

/** process.memoryUsage() in MB; with --expose-gc also the heap in use after a full collection (what is retained). */
function reportMemory(): void {
  const memory = memoryNow();
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    memory.heapUsedAfterGc = memoryNow().heapUsed!;
  }
  process.stderr.write(JSON.stringify({ memory }) + '\n');
}

/**
 * BENCH_ALLOC_PROFILE=<file>: SIGHUP starts V8's sampling heap profiler (counting objects later collected too) and
 * the next SIGHUP writes what was allocated meanwhile, by call stack, as a .heapprofile (Chrome DevTools format).
 */
function allocationProfiler(file: string): void {
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGHUP', () => {
    if (!running) {
      running = true;
      session.post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      } as never);
      process.stderr.write(JSON.stringify({ msg: 'allocation profile started' }) + '\n');
      return;
    }
    running = false;
    session.post('HeapProfiler.stopSampling', (err, res) => {
      if (!err) writeFileSync(file, JSON.stringify(res.profile));
      process.stderr.write(JSON.stringify({ msg: 'allocation profile written', file }) + '\n');
    });
  });
}

async function main(): Promise<void> {
  process.on('SIGUSR1', reportMemory);
  if (process.env.BENCH_ALLOC_PROFILE) allocationProfiler(process.env.BENCH_ALLOC_PROFILE);
  const ds = await openDatastore(datastoreSettingsFromEnv(process.env));
  if (process.env.BENCH_BARE === '1') {
    await ds.currentRevision();
    process.stderr.write(JSON.stringify({ msg: 'bare process ready' }) + '\n');
  } else {
    const agent = await startAgent({
      nodeName: process.env.NODENAME ?? 'bench-node',
      datastore: ds,
      env: process.env,
      nftRunner: new NftCommandRunner(process.env.BENCH_NETNS ? ['ip', 'netns', 'exec', process.env.BENCH_NETNS] : []),
      health: false,
      metrics: false,
    });
    await new Promise<void>((resolve) => process.once('SIGTERM', resolve));
    await agent.stop();
    await ds.close();
    return;
  }
  const keepAlive = setInterval(() => {}, 60_000); // nothing else holds the event loop open
  await new Promise<void>((resolve) => process.once('SIGTERM', resolve));
  clearInterval(keepAlive);
  await ds.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`agent-process: ${String(err)}\n`);
    process.exit(1);
  },
);
