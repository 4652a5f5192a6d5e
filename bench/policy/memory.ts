// bench/policy/memory.ts: where the agent's memory goes, phase by phase, on bench/policy's world (data.ts) in a real
// etcd. Prints process.memoryUsage() of (1) a bare process that only loads the agent bundle and opens the datastore,
// (2) the agent after its cold start, (3) after a burst of policy changes and endpoint adds, and the peak RSS; each
// also with the heap retained after a full collection (the agent runs with --expose-gc here, unlike in run.ts).
// BENCH_NODE_FLAGS='<flags>' passes V8/node flags to the agent (to try heap settings). BENCH_ALLOC_PROFILE=<file> records what the agent allocates during the
// changes (a .heapprofile). BENCH_HEAPSNAPSHOT=<dir> also writes a V8 heap snapshot of the agent after cold start into <dir>.
// Run as root: node --import tsx bench/policy/memory.ts
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { openDatastore } from '../../src/datastore/index.js';
import { resourceKey } from '../../src/datastore/keys.js';
import { startEtcd } from '../../test/support/etcd.js';
import { bundleAgent } from './bundle.js';
import { benchResources, ifName, labelsFor, localIp, LOCAL, NODE, policy, POLICIES, wep, writeAll } from './data.js';

const NODE_NS = 'tp-mem-n';
const CHANGES = 40;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Memory {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  heapUsedAfterGc?: number;
}

/** A spawned bundle whose JSON log lines can be awaited. */
class LoggedProcess {
  readonly proc: ChildProcess;
  private waiters: { test: (rec: any) => boolean; resolve: (rec: any) => void }[] = [];
  constructor(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
    this.proc = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    createInterface({ input: this.proc.stderr! }).on('line', (line) => {
      let rec: any;
      try {
        rec = JSON.parse(line);
      } catch {
        return;
      }
      this.waiters = this.waiters.filter((w) => !(w.test(rec) && (w.resolve(rec), true)));
    });
  }
  next(test: (rec: any) => boolean, timeoutMs = 120_000): Promise<any> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for the agent')), timeoutMs);
      this.waiters.push({ test, resolve: (r) => (clearTimeout(t), resolve(r)) });
    });
  }
  async memory(): Promise<Memory & { hwm: number }> {
    const seen = this.next((r) => r.memory !== undefined);
    this.proc.kill('SIGUSR1');
    const m = (await seen).memory as Memory;
    const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${this.proc.pid}/status`, 'utf8'))![1]!;
    return { ...m, hwm: Math.round(Number(hwm) / 1024) };
  }
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

const line = (label: string, m: Memory & { hwm: number }): string =>
  `${label.padEnd(34)} rss ${m.rss.toFixed(0).padStart(4)} MB (peak ${m.hwm} MB), heap used ${m.heapUsed.toFixed(0)} / total ${m.heapTotal.toFixed(0)} MB, retained after a full GC ${m.heapUsedAfterGc?.toFixed(0) ?? '?'} MB, external ${m.external.toFixed(0)} MB`;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/policy/memory needs root (a network namespace for nft)');
  const dir = mkdtempSync(path.join(tmpdir(), 'tp-mem-'));
  spawnSync('ip', ['netns', 'del', NODE_NS]);
  const etcd = await startEtcd();
  const ds = await openDatastore({ type: 'etcdv3', etcdEndpoints: [etcd.endpoint] } as never, { timeoutMs: 5000 });
  const procs: LoggedProcess[] = [];
  try {
    spawnSync('ip', ['netns', 'add', NODE_NS]);
    await writeAll(ds, benchResources());
    const bundle = await bundleAgent(dir);
    const env = {
      ...process.env,
      DATASTORE_TYPE: 'etcdv3',
      ETCD_ENDPOINTS: etcd.endpoint,
      NODENAME: NODE,
      BENCH_NETNS: NODE_NS,
      NODE_PATH: path.resolve('node_modules'),
      FELIX_INTERFACEPREFIX: 'tp',
      FELIX_DEFAULTENDPOINTTOHOSTACTION: 'Accept',
      CALICO_ENDPOINT_STATUS_DIR: path.join(dir, 'status'),
    };

    const bare = new LoggedProcess(['--expose-gc', bundle], { ...env, BENCH_BARE: '1' }, dir);
    procs.push(bare);
    await bare.next((r) => r.msg === 'bare process ready');
    await sleep(500);
    console.log(line('bare (bundle + etcd client)', await bare.memory()));
    await bare.stop();

    const snapDir = process.env.BENCH_HEAPSNAPSHOT;
    const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const args = [
      ...(process.env.BENCH_NO_GC ? [] : ['--expose-gc']),
      ...flags,
      ...(snapDir ? ['--heapsnapshot-signal=SIGUSR2'] : []),
      bundle,
    ];
    const agent = new LoggedProcess(args, env, snapDir ?? dir);
    procs.push(agent);
    await agent.next((r) => r.msg === 'dataplane updated');
    console.log(line('agent, right after cold start', await agent.memory()));
    await sleep(3000);
    console.log(line('agent, 3 s after cold start', await agent.memory()));
    if (snapDir) {
      const before = new Set(readdirSync(snapDir));
      agent.proc.kill('SIGUSR2');
      for (let i = 0; i < 600 && readdirSync(snapDir).every((f) => before.has(f) || !f.endsWith('.heapsnapshot')); i++)
        await sleep(100);
      await sleep(2000);
      console.log(`heap snapshot written to ${snapDir}`);
    }

    const profiling = process.env.BENCH_ALLOC_PROFILE !== undefined;
    if (profiling) {
      const started = agent.next((r) => r.msg === 'allocation profile started');
      agent.proc.kill('SIGHUP');
      await started;
    }
    for (let c = 0; c < CHANGES; c++) {
      const p = policy((c * 10) % (POLICIES - 1));
      p.spec.ingress[0].destination.ports = [40000 + c];
      const applied = agent.next((r) => r.msg === 'dataplane updated');
      await ds.put(
        resourceKey(p.kind, p.metadata.name, p.metadata.namespace),
        JSON.stringify({ apiVersion: 'projectcalico.org/v3', ...p }),
      );
      await applied;
    }
    for (let c = 0; c < CHANGES; c++) {
      const i = LOCAL + 100 + c;
      const w = wep(i, NODE, localIp(i), ifName(i), labelsFor(i));
      const applied = agent.next((r) => r.msg === 'dataplane updated');
      await ds.put(
        resourceKey(w.kind, w.metadata.name, w.metadata.namespace),
        JSON.stringify({ apiVersion: 'projectcalico.org/v3', ...w }),
      );
      await applied;
    }
    if (profiling) {
      const written = agent.next((r) => r.msg === 'allocation profile written');
      agent.proc.kill('SIGHUP');
      console.log(`allocations during the changes: ${(await written).file}`);
    }
    console.log(line(`agent, after ${CHANGES} + ${CHANGES} changes`, await agent.memory()));
    await sleep(3000);
    console.log(line('agent, 3 s later', await agent.memory()));
  } finally {
    for (const p of procs) await p.stop();
    spawnSync('ip', ['netns', 'del', NODE_NS]);
    await ds.close().catch(() => {});
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
