// Where the agent's ADD spends its milliseconds, step by step: the agent's handlers run in this process (inside a
// node namespace of their own) and the calls that matter are wrapped with timestamps — IPAM delegation, the host
// lock, the IPAM client, each datastore call, the resident `ip` session, the pod-side chain or launcher job, the
// endpoint write. The pods alternate between modes (TRACE_MODES, default spares,on,off: CALICO_CNI_POD_PRESTART with
// or without spare chains). In: pods (default 40); out: per mode, per step, the median start and end offsets (ms
// since the handler was called) and duration, over the ADDs after a warm-up. TRACE_FOREIGN=1: another IPAM client
// allocates in the node's block before each ADD; TRACE_SHOW=n prints the n-th ADD whole; TRACE_FEED_DELAY=ms feeds
// the chain that much later. TRACE_K8S=1: the lab's API server runs in the node namespace with the pods and their
// namespaces (kube-fixture.ts), the ADDs carry K8S_POD_NAMESPACE/K8S_POD_NAME and the netconf a kubeconfig, and each
// Kubernetes GET is a step. TRACE_GAP_MS: the pause between ADDs (default 30). TRACE_PRELOAD=<file>: --import'ed into the
// traced process first (a probe, e.g. one counting TLS connections).
// Run: node --import tsx bench/cni/agent-trace.ts [pods=40]    (root; builds its own namespaces and removes them)
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteDatastore } from '../../src/datastore/sqlite.js';
import { putNode, putPool } from '../../test/support/ipam.js';
import { CniWorld, ROOT } from '../../test/system/cni/world.js';
import { startKubeFixture } from './kube-fixture.js';

const here = fileURLToPath(import.meta.url);

interface Span {
  name: string;
  start: number;
  end: number;
}

const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;

/** Inside the node namespace: the handlers, wrapped, called once per pod. */
async function inner(configPath: string): Promise<void> {
  const { readFileSync } = await import('node:fs');
  const { agentPluginHandlers } = await import('../../src/cni/plugin/handlers.js');
  const { preflight } = await import('../../src/cni/skel/dispatch.js');
  const { HostLock } = await import('../../src/ipam/plugin/lock.js');
  const { IpamClient } = await import('../../src/ipam/client.js');
  const { IpBatchSession } = await import('../../src/cni/plugin/ip-session.js');
  const { ShellLauncher } = await import('../../src/cni/plugin/shell-launcher.js');
  const { EndpointStore } = await import('../../src/cni/plugin/endpoints.js');
  const { PluginIpamDelegate } = await import('../../src/cni/plugin/ipam.js');
  const { SqliteDatastore: Sqlite } = await import('../../src/datastore/sqlite.js');
  const { KubeReader } = await import('../../src/cni/k8s/client.js');
  const { netconf, pods, cniArgs } = JSON.parse(readFileSync(configPath, 'utf8')) as {
    netconf: Record<string, unknown>;
    pods: string[];
    cniArgs?: string[];
  };
  // TRACE_FOREIGN=1: another client (its own handle, as an in-process plugin would have) allocates from the node's
  // blocks before each ADD, as the in-process plugin interleaved in run.ts does.
  const foreign =
    process.env.TRACE_FOREIGN === '1'
      ? new IpamClient(await Sqlite.open(String(netconf.sqlite_path), { timeoutMs: 5000 }))
      : undefined;

  let t0 = 0;
  let spans: Span[] = [];
  const wrap = (owner: object, method: string, name: string | ((args: unknown[]) => string)) => {
    const o = owner as Record<string, (...a: unknown[]) => unknown>;
    const original = o[method]!;
    o[method] = function (this: unknown, ...args: unknown[]) {
      const span: Span = {
        name: typeof name === 'string' ? name : name(args),
        start: performance.now() - t0,
        end: NaN,
      };
      spans.push(span);
      const r = original.apply(this, args);
      if (r instanceof Promise) {
        return r.finally(() => {
          span.end = performance.now() - t0;
        });
      }
      span.end = performance.now() - t0;
      return r;
    };
  };
  wrap(PluginIpamDelegate.prototype, 'invoke', 'ipam delegate');
  wrap(HostLock, 'acquire', 'host lock acquire');
  wrap(HostLock.prototype, 'release', 'host lock release');
  wrap(IpamClient.prototype, 'autoAssign', 'ipam autoAssign');
  for (const m of ['get', 'list', 'txn', 'create', 'update']) wrap(Sqlite.prototype, m, `sqlite ${m}`);
  wrap(
    IpBatchSession.prototype,
    'run',
    (a) =>
      `ip session: ${String((a[0] as string[])[0])
        .split(' ')
        .slice(0, 2)}`,
  );
  wrap(ShellLauncher.prototype, 'run', 'launcher job');
  const startChain = ShellLauncher.prototype.startChain;
  ShellLauncher.prototype.startChain = function (this: InstanceType<typeof ShellLauncher>, ...args) {
    const span: Span = { name: 'pod chain start (sync)', start: performance.now() - t0, end: NaN };
    const chain = startChain.apply(this, args);
    span.end = performance.now() - t0;
    spans.push(span);
    // TRACE_FEED_DELAY=ms: the chain is fed that much later (its own latency once surely started, apart).
    const delay = Number(process.env.TRACE_FEED_DELAY ?? 0);
    if (chain && delay) {
      const feed = chain.feed;
      chain.feed = async (input) => {
        await new Promise((r) => setTimeout(r, delay));
        return feed(input);
      };
    }
    if (chain) wrap(chain, 'feed', 'pod chain feed');
    return chain;
  };
  wrap(EndpointStore.prototype, 'write', 'endpoint write');
  wrap(KubeReader.prototype, 'get', (a) => `kube GET ${/\/pods\//.test(String(a[0])) ? 'pod' : 'namespace'}`);

  // Interleaved: the pods alternate between the modes (CALICO_CNI_POD_PRESTART values), so load falls on each alike.
  const modes = (process.env.TRACE_MODES ?? 'spares,on,off').split(',');
  const handlers = agentPluginHandlers(() => {});
  const runs = new Map<string, { spans: Span[][]; totals: number[] }>(modes.map((m) => [m, { spans: [], totals: [] }]));
  for (const [i, netns] of pods.entries()) {
    const mode = modes[i % modes.length]!;
    // `spares`: chains started ahead of the requests (the agent's default); `on`: each started with its request.
    process.env.CALICO_CNI_POD_PRESTART = mode === 'spares' ? 'on' : mode;
    process.env.CALICO_CNI_POD_SPARES = mode === 'spares' ? '2' : '0';
    const env = {
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: `trace${i}`,
      CNI_NETNS: netns,
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/usr/lib/cni',
      PATH: process.env.PATH,
      ...(cniArgs ? { CNI_ARGS: cniArgs[i]! } : {}),
    };
    const pre = await preflight(env, async () => JSON.stringify(netconf));
    if (pre.kind !== 'request') throw new Error('preflight did not give a request');
    await foreign?.autoAssign({ num4: 1, num6: 0, handleId: `foreign${i}`, attrs: {}, hostname: 'tc-node-1' });
    spans = [];
    // A pause between ADDs, as between pods: the spare used by the last ADD is replaced meanwhile.
    await new Promise((r) => setTimeout(r, Number(process.env.TRACE_GAP_MS ?? 30)));
    t0 = performance.now();
    await handlers.add(pre.request);
    // The first rounds warm the datastore handle, the IPAM client and the resident processes.
    if (i < 2 * modes.length) continue;
    runs.get(mode)!.totals.push(performance.now() - t0);
    runs.get(mode)!.spans.push(spans);
  }
  const lines: string[] = [];
  if (process.env.TRACE_SHOW) {
    // One whole ADD, step by step (the TRACE_SHOW-th warm ADD of the first mode).
    const one = [...runs.values()][0]!.spans[Number(process.env.TRACE_SHOW)] ?? [];
    for (const x of one)
      lines.push(`    ${x.name.padEnd(34)} ${x.start.toFixed(2).padStart(7)} ${x.end.toFixed(2).padStart(7)}`);
  }
  for (const [mode, { spans: warm, totals }] of runs) {
    const names = [...new Set(warm.flatMap((s) => s.map((x) => x.name)))];
    lines.push(
      `CALICO_CNI_POD_PRESTART=${mode}: ADD handler median ${pct(totals, 0.5).toFixed(2)} ms over ${warm.length} ADDs`,
    );
    lines.push(`  step (calls per ADD)                 median start, end, duration (ms since the handler was called)`);
    for (const name of names) {
      const starts: number[] = [];
      const ends: number[] = [];
      const durs: number[] = [];
      let calls = 0;
      for (const s of warm) {
        const mine = s.filter((x) => x.name === name);
        calls += mine.length;
        for (const x of mine) {
          starts.push(x.start);
          ends.push(x.end);
          durs.push(x.end - x.start);
        }
      }
      lines.push(
        `  ${`${name} (${(calls / warm.length).toFixed(1)})`.padEnd(36)} ${pct(starts, 0.5).toFixed(2).padStart(6)} ` +
          `${pct(ends, 0.5).toFixed(2).padStart(6)} ${pct(durs, 0.5).toFixed(2).padStart(6)}`,
      );
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
  process.exit(0);
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 40);
  const w = await CniWorld.create('tr', 'tx');
  try {
    const ds = await SqliteDatastore.open(w.sqlitePath, { timeoutMs: 5000 });
    await putPool(ds, 'tc-v4', '10.142.0.0/16', { blockSize: 26 });
    await putNode(ds, 'tc-node-1');
    await ds.close();
    const pods = Array.from({ length: count }, () => w.addPod().netns);
    const configPath = path.join(w.dir, 'trace.json');
    const { writeFileSync } = await import('node:fs');
    let netconf = w.netconf({ ipam: { type: 'calico-ipam' } });
    let cniArgs: string[] | undefined;
    if (process.env.TRACE_K8S === '1') {
      const kube = await startKubeFixture(w, ROOT, count);
      netconf = {
        ...netconf,
        name: 'k8s-pod-network',
        policy: { type: 'k8s' },
        kubernetes: { kubeconfig: kube.kubeconfig },
      };
      cniArgs = pods.map((_, i) => kube.cniArgs(i));
    }
    writeFileSync(configPath, JSON.stringify({ netconf, pods, cniArgs }));
    const child = spawn(
      'nsenter',
      [
        `--net=/var/run/netns/${w.nodeNs}`,
        process.execPath,
        ...(process.env.TRACE_PRELOAD ? ['--import', process.env.TRACE_PRELOAD] : []),
        '--import',
        'tsx',
        here,
        'inner',
        configPath,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
    if (code !== 0) throw new Error(`trace run exited ${code}`);
  } finally {
    await w.destroy();
  }
}

if (process.argv[2] === 'inner') await inner(process.argv[3]!);
else await main();
