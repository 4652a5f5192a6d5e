// Before/after under the same load: the agent hand-off ADD and DEL of a baseline tree and of this tree, interleaved
// pod by pod (each with its own node namespace, datastore and agent), beside a bare `node -e 0`. When the machine is
// shared, only an interleaved comparison is fair. Both plugins run as this tree's install-cni installs them.
// Run: git archive <rev> | tar -x -C /tmp/base && ln -s $PWD/node_modules /tmp/base/node_modules
//      node --import tsx bench/cni/compare.ts /tmp/base [pods=50] [base:KEY=VALUE ...] [this:KEY=VALUE ...]
// (root; removes its namespaces after). base:/this: set a variable in that side's agent, e.g. the same tree twice
// with `compare.ts . 60 base:CALICO_CNI_POD_PRESTART=off`. BENCH_K8S=1: each side gets the lab's API server with the
// pods (kube-fixture.ts), the ADDs carry K8S_POD_NAMESPACE/K8S_POD_NAME and the netconf a kubeconfig (kubelet's
// path); the agent's own step marks are printed too.
import path from 'node:path';
import { applyInstall, planInstall } from '../../src/cni/install/install.js';
import { SqliteDatastore } from '../../src/datastore/sqlite.js';
import { putNode, putPool } from '../../test/support/ipam.js';
import * as here from '../../test/system/cni/world.js';
import { pluginPhases, timeSpawn as timed, type Timed } from './phases.js';
import { startKubeFixture, type KubeFixture } from './kube-fixture.js';

type WorldModule = typeof here;

const baseDir = process.argv[2];
const PODS = Number(process.argv[3] ?? 50);
const K8S = process.env.BENCH_K8S === '1';
/** Agent environment per side, from base:KEY=VALUE and this:KEY=VALUE arguments. */
const agentEnv = (side: 'base' | 'this'): Record<string, string> =>
  Object.fromEntries(
    process.argv
      .slice(4)
      .filter((a) => a.startsWith(`${side}:`))
      .map((a) => {
        const [k, ...v] = a.slice(side.length + 1).split('=');
        return [k!, v.join('=')];
      }),
  );

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const fmt = (xs: number[]) =>
  `median ${pct(xs, 0.5).toFixed(1).padStart(6)} ms  p95 ${pct(xs, 0.95).toFixed(1).padStart(6)} ms`;

interface Side {
  label: string;
  w: here.CniWorld;
  agent: { stop(): Promise<void>; log?(): string };
  kube?: KubeFixture;
  plugin: string;
  binDir: string;
  conf: Record<string, unknown>;
  adds: number[];
  dels: number[];
  /** The ADDs' own phase marks (CALICO_CNI_TIMING). */
  addCalls: Timed[];
}

async function side(
  mod: WorldModule,
  label: string,
  tag: string,
  pool: string,
  install: boolean,
  env: Record<string, string>,
): Promise<Side> {
  const w = await mod.CniWorld.create(tag, 'tx');
  try {
    const ds = await SqliteDatastore.open(w.sqlitePath, { timeoutMs: 5000 });
    await putPool(ds, `tc-${tag}`, pool, { blockSize: 26 });
    await putNode(ds, 'tc-node-1');
    await ds.close();
    let binDir = w.binDir;
    if (install) {
      binDir = path.join(w.dir, 'opt-cni-bin');
      const env = {
        CNI_BIN_DIR: binDir,
        CNI_NET_DIR: path.join(w.dir, 'net.d'),
        CNI_NODE_PATH: process.execPath,
        TLS_ASSETS_DIR: path.join(w.dir, 'no-secrets'),
        KUBERNETES_NODE_NAME: 'tc-node-1',
      };
      applyInstall(planInstall(env, path.join(w.binDir, 'calico')), env, () => {});
    }
    // Through process.env: a baseline tree's startAgent may take no environment of its own.
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    const agent = await mod.startAgent(w).finally(() => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });
    let conf = w.netconf({ ipam: { type: 'calico-ipam' } });
    let kube: KubeFixture | undefined;
    if (K8S) {
      kube = await startKubeFixture(w, here.ROOT, PODS);
      conf = { ...conf, name: 'k8s-pod-network', policy: { type: 'k8s' }, kubernetes: { kubeconfig: kube.kubeconfig } };
    }
    return {
      label,
      w,
      agent,
      kube,
      plugin: path.join(binDir, 'calico'),
      binDir,
      conf,
      adds: [],
      dels: [],
      addCalls: [],
    };
  } catch (err) {
    await w.destroy();
    throw err;
  }
}

async function main(): Promise<void> {
  if (!baseDir) throw new Error('usage: compare.ts <baseline tree> [pods]');
  const base = (await import(path.resolve(baseDir, 'test/system/cni/world.ts'))) as WorldModule;
  const sides: Side[] = [];
  try {
    const label = (name: string, env: Record<string, string>) =>
      [name, ...Object.entries(env).map(([k, v]) => `${k}=${v}`)].join(' ');
    sides.push(
      await side(base, label(`baseline ${baseDir}`, agentEnv('base')), 'cb', '10.150.0.0/16', true, agentEnv('base')),
    );
    sides.push(await side(here, label('this tree', agentEnv('this')), 'ct', '10.151.0.0/16', true, agentEnv('this')));
    const bare: number[] = [];
    const pods = sides.map((s) => Array.from({ length: PODS }, () => s.w.addPod()));
    const call = (s: Side, k: number, i: number, command: string) =>
      timed(
        ['nsenter', `--net=/var/run/netns/${s.w.nodeNs}`, s.plugin],
        {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          CNI_PATH: `${s.binDir}:/usr/lib/cni`,
          CNI_IFNAME: 'eth0',
          CALICO_CNI_HANDOFF: 'required',
          CALICO_CNI_TIMING: '1',
          CNI_CONTAINERID: `cmp${i}`,
          CNI_NETNS: pods[k]![i]!.netns,
          CNI_COMMAND: command,
          ...(s.kube ? { CNI_ARGS: s.kube.cniArgs(i) } : {}),
        },
        JSON.stringify(s.conf),
      );
    for (let i = 0; i < PODS; i++) {
      const nsenter = ['nsenter', `--net=/var/run/netns/${sides[1]!.w.nodeNs}`];
      bare.push((await timed([...nsenter, process.execPath, '-e', '0'], { PATH: process.env.PATH ?? '' }, '')).ms);
      for (const [k, s] of sides.entries()) {
        const r = await call(s, k, i, 'ADD');
        if (r.code !== 0) throw new Error(`${s.label} ADD: ${r.out}`);
        s.adds.push(r.ms);
        s.addCalls.push(r);
      }
    }
    for (let i = 0; i < PODS; i++) {
      for (const [k, s] of sides.entries()) {
        const r = await call(s, k, i, 'DEL');
        if (r.code !== 0) throw new Error(`${s.label} DEL: ${r.out}`);
        s.dels.push(r.ms);
        s.w.removePod(pods[k]![i]!.name);
      }
    }
    console.log(`CNI ADD/DEL through the agent, ${PODS} pods each, interleaved`);
    console.log(`  node -e 0   ${fmt(bare)}`);
    for (const s of sides) {
      const ratio = pct(s.adds, 0.5) / pct(bare, 0.5);
      console.log(`  ${s.label}\n    ADD ${fmt(s.adds)}   DEL ${fmt(s.dels)}   ADD / node -e 0 = ${ratio.toFixed(2)}`);
    }
    // Per phase, median ms, the two sides in columns (the plugin's own marks; phases are sequential).
    const phaseMedians = sides.map((s) => {
      const by = new Map<string, number[]>();
      for (const c of s.addCalls) {
        for (const [name, ms] of Object.entries(pluginPhases(c) ?? {})) by.set(name, [...(by.get(name) ?? []), ms]);
      }
      return by;
    });
    console.log(`  ADD phases, median ms: ${sides.map((s) => s.label).join(' | ')}`);
    for (const name of new Set([...phaseMedians[0]!.keys(), ...phaseMedians[1]!.keys()])) {
      const cols = phaseMedians.map((m) => (m.get(name)?.length ? pct(m.get(name)!, 0.5).toFixed(1) : '?'));
      console.log(`    ${name.padEnd(30)} ${cols.map((c) => c.padStart(6)).join(' ')}`);
    }
    // The agent's own step marks (handler timing lines, ms since the handler was called).
    const stepMedians = sides.map((s) => {
      const by = new Map<string, number[]>();
      for (const m of (s.agent.log?.() ?? '').matchAll(/ADD cmp\d+ timing \(ms since start\): (.*)/g)) {
        for (const part of m[1]!.split(', ')) {
          const at = part.lastIndexOf(' ');
          const name = part.slice(0, at);
          by.set(name, [...(by.get(name) ?? []), Number(part.slice(at + 1))]);
        }
      }
      return by;
    });
    console.log(`  agent ADD steps done at, median ms: ${sides.map((s) => s.label).join(' | ')}`);
    for (const name of new Set([...stepMedians[0]!.keys(), ...stepMedians[1]!.keys()])) {
      const cols = stepMedians.map((m) => (m.get(name)?.length ? pct(m.get(name)!, 0.5).toFixed(1) : '-'));
      console.log(`    ${name.padEnd(30)} ${cols.map((c) => c.padStart(6)).join(' ')}`);
    }
  } finally {
    for (const s of sides) {
      await s.agent.stop();
      await s.w.destroy();
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
