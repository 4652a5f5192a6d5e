// bench/policy: the agent at scale, in one run. A node namespace with 1,000 local endpoints (datastore entries with
// interface names; two of them are real pods), 10,000 endpoints on 50 other nodes and 1,000 policies (a mix of
// namespaced label policies, namespace selectors, named ports, CIDR deny/allow, egress, and a second tier with Pass),
// all in a real etcd. Prints: cold start to a programmed table; time from one policy change and from one endpoint
// added to the kernel having it (observer: `nft monitor` in the node namespace, against the writer's commit time);
// rule and set counts; agent RSS (at the first apply, steady 3 s after the cold start, after the change phase, and the
// peak); iperf3 between the two pods with the table vs without (median ratio of alternating runs).
// Run as root: node --import tsx bench/policy/run.ts (where the memory goes: bench/policy/memory.ts)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { openDatastore } from '../../src/datastore/index.js';
import { resourceKey } from '../../src/datastore/keys.js';
import { startEtcd } from '../../test/support/etcd.js';
import { plugHandmadePod } from '../../test/support/handmade-pod.js';
import { bundleAgent } from './bundle.js';
import { benchResources, ifName, labelsFor, localIp, NODE, policy, POLICIES, LOCAL, wep, writeAll } from './data.js';

const NODE_NS = 'tp-bench-n';
const POD_NS = ['tp-bench-p0', 'tp-bench-p1'];
const CHANGES = 40;

const sh = (cmd: string, args: string[], input?: string): string => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 512 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const inNode = (...args: string[]): string => sh('ip', ['netns', 'exec', NODE_NS, ...args]);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;
/** Resident set size now and its peak (VmHWM), in MB, of a process. */
function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}

function cleanupNamespaces(): void {
  for (const ns of [NODE_NS, ...POD_NS]) {
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? [];
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

function makeNamespaces(): void {
  sh('ip', ['netns', 'add', NODE_NS]);
  sh('ip', ['-n', NODE_NS, 'link', 'set', 'lo', 'up']);
  sh('ip', ['-n', NODE_NS, 'addr', 'add', '172.31.4.1/32', 'dev', 'lo']);
  inNode('sysctl', '-qw', 'net.ipv4.ip_forward=1');
  POD_NS.forEach((ns, i) => {
    const hostIf = ifName(i);
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    plugHandmadePod(NODE_NS, ns, hostIf, localIp(i));
  });
}

/** `nft monitor` in the node namespace; resolves waiters when a line containing their text appears. */
class NftObserver {
  private readonly proc: ChildProcess;
  private waiters: { text: string; resolve: (t: number) => void }[] = [];
  constructor() {
    this.proc = spawn('ip', ['netns', 'exec', NODE_NS, 'nft', 'monitor'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      const now = performance.now();
      this.waiters = this.waiters.filter((w) => {
        if (!line.includes(w.text)) return true;
        w.resolve(now);
        return false;
      });
    });
  }
  wait(text: string, timeoutMs = 10000): Promise<number> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`observer never saw "${text}"`)), timeoutMs);
      this.waiters.push({ text, resolve: (v) => (clearTimeout(t), resolve(v)) });
    });
  }
  stop(): void {
    this.proc.kill('SIGKILL');
  }
}

function iperf(seconds: number): number {
  const r = spawnSync('ip', ['netns', 'exec', POD_NS[0]!, 'iperf3', '-c', localIp(1), '-t', String(seconds), '-J'], {
    encoding: 'utf8',
  });
  const res = JSON.parse(r.stdout || '{}') as { error?: string; end?: { sum_received?: { bits_per_second: number } } };
  if (!res.end?.sum_received) throw new Error(`iperf3 failed: ${res.error ?? r.stderr}`);
  return res.end.sum_received.bits_per_second;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/policy needs root (network namespaces, nft)');
  const dir = mkdtempSync(path.join(tmpdir(), 'tp-bench-'));
  cleanupNamespaces();
  const etcd = await startEtcd();
  const ds = await openDatastore({ type: 'etcdv3', etcdEndpoints: [etcd.endpoint] } as never, { timeoutMs: 5000 });
  let agent: ChildProcess | undefined;
  const procs: ChildProcess[] = [];
  try {
    makeNamespaces();
    // --- data ---------------------------------------------------------------------------------------------------
    const ops = benchResources();
    const tw = performance.now();
    await writeAll(ds, ops);
    console.log(`datastore: ${ops.length} resources written to etcd in ${fmt(performance.now() - tw)}`);

    // --- cold start -------------------------------------------------------------------------------------------------
    const bundle = await bundleAgent(dir);
    const t0 = performance.now();
    // BENCH_NODE_FLAGS: node/V8 flags for the agent (to try heap settings); none by default, as the program runs.
    const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    agent = spawn(process.execPath, [...nodeFlags, bundle], {
      env: {
        ...process.env,
        DATASTORE_TYPE: 'etcdv3',
        ETCD_ENDPOINTS: etcd.endpoint,
        NODENAME: NODE,
        BENCH_NETNS: NODE_NS,
        NODE_PATH: path.resolve('node_modules'),
        FELIX_INTERFACEPREFIX: 'tp',
        FELIX_DEFAULTENDPOINTTOHOSTACTION: 'Accept',
        CALICO_ENDPOINT_STATUS_DIR: path.join(dir, 'status'),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    procs.push(agent);
    const logs: any[] = [];
    let startedAt = 0;
    const programmed = new Promise<number>((resolve, reject) => {
      createInterface({ input: agent!.stderr! }).on('line', (line) => {
        let rec: any;
        try {
          rec = JSON.parse(line);
        } catch {
          logs.push(line);
          return;
        }
        logs.push(rec);
        if (rec.level >= 40)
          console.error(`agent ${rec.level >= 50 ? 'error' : 'warning'}: ${rec.msg} ${rec.err ?? ''}`);
        if (rec.msg === 'agent starting') startedAt = performance.now();
        if (rec.msg === 'dataplane updated') resolve(performance.now());
      });
      agent!.once('exit', (c) => reject(new Error(`agent exited (${c}): ${JSON.stringify(logs.slice(-3))}`)));
      setTimeout(
        () => reject(new Error(`agent not programmed after 120 s: ${JSON.stringify(logs.slice(-3))}`)),
        120_000,
      );
    });
    const tProgrammed = await programmed;
    const applyLog = logs.find((l) => l.msg === 'dataplane updated');
    const syncLog = logs.find((l) => l.msg === 'datastore in sync');
    console.log(
      `cold start: ${fmt(tProgrammed - t0)} from process spawn to programmed table ` +
        `(${fmt(tProgrammed - startedAt)} from agent start: datastore list ${syncLog.listMs} ms, calc graph fed ${syncLog.feedMs} ms; first apply ${applyLog.ms} ms for ${applyLog.changedObjects} objects: snapshot ${applyLog.snapshotMs} ms, render ${applyLog.renderMs} ms, plan ${applyLog.planMs} ms, nft ${applyLog.nftMs} ms for ${(applyLog.scriptBytes / 1e6).toFixed(1)} MB; ` +
        `process start-up ${fmt(startedAt - t0)}; RSS ${applyLog.rssMB} MB, heap ${applyLog.heapMB} MB after it)`,
    );

    // Steady state after the cold start: the first apply's garbage has had time to be collected.
    await new Promise((r) => setTimeout(r, 3000));
    const rssSteady = rssOf(agent.pid!);

    // --- counts -----------------------------------------------------------------------------------------------------
    const table = JSON.parse(inNode('nft', '-j', 'list', 'table', 'inet', 'calico')) as {
      nftables: Record<string, any>[];
    };
    let rules = 0,
      chains = 0,
      sets = 0,
      elements = 0,
      maps = 0;
    for (const i of table.nftables) {
      if (i.rule) rules++;
      if (i.chain) chains++;
      if (i.set) {
        sets++;
        elements += (i.set.elem ?? []).length;
      }
      if (i.map) maps++;
    }
    console.log(
      `table inet calico: ${chains} chains, ${rules} rules, ${sets} sets (${elements} elements), ${maps} verdict maps`,
    );

    // --- one policy change / one endpoint added -> kernel -----------------------------------------------------------
    const observer = new NftObserver();
    // The observer is ready once it reports a change of our own (a marker table in the node namespace).
    for (let attempt = 0; ; attempt++) {
      const seen = observer.wait('tp_bench_marker', 1000).then(
        () => true,
        () => false,
      );
      inNode('nft', 'add table inet tp_bench_marker; delete table inet tp_bench_marker');
      if (await seen) break;
      if (attempt > 20) throw new Error('nft monitor never reported the marker');
    }
    const policyLat: number[] = [];
    for (let c = 0; c < CHANGES; c++) {
      const k = (c * 10) % (POLICIES - 1); // a Kubernetes-style policy
      const p = policy(k);
      const port = 40000 + c;
      p.spec.ingress[0].destination.ports = [port];
      const seen = observer.wait(`dport ${port}`);
      await ds.put(
        resourceKey(p.kind, p.metadata.name, p.metadata.namespace),
        JSON.stringify({ apiVersion: 'projectcalico.org/v3', ...p }),
      );
      const committed = performance.now();
      policyLat.push((await seen) - committed);
      await new Promise((r) => setTimeout(r, 50));
    }
    const epLat: number[] = [];
    for (let c = 0; c < CHANGES; c++) {
      const i = LOCAL + 100 + c;
      const iface = ifName(i);
      const seen = observer.wait(`"${iface}"`);
      const w = wep(i, NODE, localIp(i), iface, labelsFor(i));
      await ds.put(
        resourceKey(w.kind, w.metadata.name, w.metadata.namespace),
        JSON.stringify({ apiVersion: 'projectcalico.org/v3', ...w }),
      );
      const committed = performance.now();
      epLat.push((await seen) - committed);
      await new Promise((r) => setTimeout(r, 50));
    }
    observer.stop();
    const later = logs.filter((l) => l.msg === 'dataplane updated').slice(1);
    for (const [label, group] of [
      ['policy-change', later.slice(0, CHANGES)],
      ['endpoint-add', later.slice(CHANGES)],
    ] as const) {
      const part = (k: string): string =>
        `${k.replace('Ms', '') || 'total'} ${median(group.map((l) => l[k] ?? 0)).toFixed(0)}`;
      console.log(
        `  ${label} applies (${group.length}), median ms inside the agent: ${['snapshotMs', 'renderMs', 'planMs', 'nftMs', 'ms'].map(part).join(', ')}; script ${median(group.map((l) => l.scriptBytes)).toFixed(0)} bytes`,
      );
    }
    console.log(
      `policy change -> kernel: median ${fmt(median(policyLat))}, p99 ${fmt(pct(policyLat, 99))}, max ${fmt(Math.max(...policyLat))} (${CHANGES} changes)`,
    );
    console.log(
      `endpoint added -> kernel: median ${fmt(median(epLat))}, p99 ${fmt(pct(epLat, 99))}, max ${fmt(Math.max(...epLat))} (${CHANGES} endpoints)`,
    );

    // --- RSS ----------------------------------------------------------------------------------------------------------
    const rssAfterChanges = rssOf(agent.pid!);
    await new Promise((r) => setTimeout(r, 3000));
    const rssLater = rssOf(agent.pid!);
    console.log(
      `agent RSS (goal <= 200 MB): ${applyLog.rssMB} MB at the first apply, ${rssSteady.rss} MB 3 s after the cold ` +
        `start, ${rssAfterChanges.rss} MB right after the ${2 * CHANGES} changes, ${rssLater.rss} MB 3 s later; ` +
        `peak ${rssLater.peak} MB (VmHWM)`,
    );

    // --- iperf3 with vs without the table -----------------------------------------------------------------------------
    const exited = new Promise((r) => agent!.once('exit', r));
    agent.kill('SIGTERM');
    await exited;
    const saved = path.join(dir, 'table.nft');
    writeFileSync(saved, inNode('nft', 'list', 'table', 'inet', 'calico'));
    const server = spawn('ip', ['netns', 'exec', POD_NS[1]!, 'iperf3', '-s'], { stdio: 'ignore' });
    procs.push(server);
    await new Promise((r) => setTimeout(r, 500));
    iperf(1); // warm-up
    const withT: number[] = [];
    const without: number[] = [];
    const ratios: number[] = [];
    // Single-stream iperf3 on a shared 2-core machine varies by ±10% run to run: nine pairs keep the median steady.
    const rounds = Number(process.env.BENCH_IPERF_PAIRS ?? 9);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['with', 'without'] : ['without', 'with'];
      const r: Record<string, number> = {};
      for (const mode of order) {
        const present =
          spawnSync('ip', ['netns', 'exec', NODE_NS, 'nft', 'list', 'table', 'inet', 'calico']).status === 0;
        if (mode === 'with' && !present) inNode('nft', '-f', saved);
        if (mode === 'without' && present) inNode('nft', 'delete', 'table', 'inet', 'calico');
        r[mode] = iperf(3);
      }
      withT.push(r.with!);
      without.push(r.without!);
      ratios.push(r.with! / r.without!);
    }
    const gbps = (x: number): string => `${(x / 1e9).toFixed(2)} Gbit/s`;
    console.log(
      `iperf3 pod->pod: with table ${gbps(median(withT))}, without ${gbps(median(without))}; ` +
        `median ratio ${median(ratios).toFixed(3)} over ${ratios.length} alternating pairs (${ratios.map((x) => x.toFixed(2)).join(', ')})`,
    );
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    cleanupNamespaces();
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
