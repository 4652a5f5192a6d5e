// CNI latency: ADD and DEL per pod (median, p95) for our calico plugin — handed off to a running calico-node agent,
// and in-process — beside Debian's Go ptp + host-local (the kernel work's floor) and a bare `node -e 0` (Node's
// start-up floor), in one run, on the same node namespace. Every call goes through `nsenter --net=<node>` alike.
// Two environments, side by side, each with its own `node -e 0`: (a) kubelet-like, only PATH and the CNI variables;
// (b) the environment this bench was started with, passed to `node -e 0` and to the plugin alike (a shell's
// NODE_EXTRA_CA_CERTS, say, makes Node parse a CA bundle at start: ~60 ms instead of ~25 here). For each: the ADD
// median's ratio to `node -e 0`'s (the issue's goal: <= 1.2) and our own work, ADD median - `node -e 0` median, in ms.
// A Kubernetes row runs kubelet's path: the lab's API server in the node namespace with the pods and namespaces
// (kube-fixture.ts), K8S_POD_NAMESPACE/K8S_POD_NAME in CNI_ARGS and a kubeconfig in the netconf, so the agent reads
// each pod from the API server (BENCH_K8S=0 leaves it out).
// Run: node --import tsx bench/cni/run.ts [pods=50]   (root; builds its own world of namespaces and removes it)
import path from 'node:path';
import { applyInstall, planInstall } from '../../src/cni/install/install.js';
import { SqliteDatastore } from '../../src/datastore/sqlite.js';
import { putNode, putPool } from '../../test/support/ipam.js';
import { CniWorld, ROOT, startAgent } from '../../test/system/cni/world.js';
import { pluginPhases, timeSpawn, type Timed } from './phases.js';
import { startKubeFixture } from './kube-fixture.js';

const PODS = Number(process.argv[2] ?? 50);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const fmt = (xs: number[]) =>
  `median ${pct(xs, 50).toFixed(1).padStart(6)} ms   p95 ${pct(xs, 95).toFixed(1).padStart(6)} ms`;

async function main(): Promise<void> {
  const w = await CniWorld.create('bn', 'tx');
  try {
    const ds = await SqliteDatastore.open(w.sqlitePath, { timeoutMs: 5000 });
    await putPool(ds, 'tc-v4', '10.140.0.0/16', { blockSize: 26 });
    await putNode(ds, 'tc-node-1');
    await putNode(ds, 'tc-node-2');
    await ds.close();
    // The plugin as install-cni installs it (with CNI_NODE_PATH: node named on its first line, no /usr/bin/env).
    const binDir = path.join(w.dir, 'opt-cni-bin');
    const installEnv = {
      CNI_BIN_DIR: binDir,
      CNI_NET_DIR: path.join(w.dir, 'net.d'),
      CNI_NODE_PATH: process.execPath,
      TLS_ASSETS_DIR: path.join(w.dir, 'no-secrets'),
      KUBERNETES_NODE_NAME: 'tc-node-1',
    };
    applyInstall(planInstall(installEnv, path.join(w.binDir, 'calico')), installEnv, () => {});
    const nsenter = ['nsenter', `--net=/var/run/netns/${w.nodeNs}`];
    const baseEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      CNI_PATH: `${binDir}:/usr/lib/cni`,
      CNI_IFNAME: 'eth0',
    };

    interface Plugin {
      label: string;
      program: string;
      conf: Record<string, unknown>;
      env: Record<string, string>;
      /** Started with the bench's own environment (b) underneath. */
      inherit?: boolean;
      adds: number[];
      dels: number[];
      /** CNI_ARGS for the i-th pod (kubelet's K8S_POD_NAMESPACE/K8S_POD_NAME). */
      cniArgs?: (i: number) => string;
    }
    // (b): what the bench itself was started with, minus what would change the plugin's behaviour under test.
    const inherited: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !k.startsWith('CNI_') && !k.startsWith('CALICO_')) inherited[k] = v;
    }
    const calicoConf = w.netconf({ ipam: { type: 'calico-ipam' } });
    const kube = process.env.BENCH_K8S === '0' ? undefined : await startKubeFixture(w, ROOT, PODS);
    const plugins: Plugin[] = [
      {
        label: 'calico, agent hand-off',
        program: path.join(binDir, 'calico'),
        conf: calicoConf,
        env: { CALICO_CNI_HANDOFF: 'required', CALICO_CNI_TIMING: '1' },
        adds: [],
        dels: [],
      },
      {
        label: 'calico, agent, bench env',
        program: path.join(binDir, 'calico'),
        conf: calicoConf,
        env: { CALICO_CNI_HANDOFF: 'required', CALICO_CNI_TIMING: '1' },
        inherit: true,
        adds: [],
        dels: [],
      },
      ...(kube
        ? [
            {
              label: 'calico, agent, Kubernetes',
              program: path.join(binDir, 'calico'),
              conf: {
                ...calicoConf,
                name: 'k8s-pod-network',
                policy: { type: 'k8s' },
                kubernetes: { kubeconfig: kube.kubeconfig },
              },
              env: { CALICO_CNI_HANDOFF: 'required', CALICO_CNI_TIMING: '1' },
              cniArgs: kube.cniArgs,
              adds: [],
              dels: [],
            },
          ]
        : []),
      {
        label: 'calico, in-process',
        program: path.join(binDir, 'calico'),
        // A node of its own: on one node every ADD goes through its agent, whose IPAM client then decides from what it
        // last wrote; another writer's allocations in the same block between its ADDs would cost each one a failed
        // compare-and-swap and the conflict back-off (bench/cni/agent-trace.ts, TRACE_FOREIGN=1).
        conf: { ...calicoConf, nodename: 'tc-node-2' },
        env: { CALICO_CNI_HANDOFF: 'never' },
        adds: [],
        dels: [],
      },
      {
        label: 'Debian ptp + host-local',
        program: '/usr/lib/cni/ptp',
        conf: {
          cniVersion: '1.0.0',
          name: 'tc-ptp',
          type: 'ptp',
          ipam: { type: 'host-local', ranges: [[{ subnet: '10.141.0.0/16' }]], dataDir: path.join(w.dir, 'hl') },
        },
        env: {},
        adds: [],
        dels: [],
      },
    ];
    const bare: number[] = [];
    const bareInherited: number[] = [];
    const handoffAdds: Timed[] = [];
    const handoffDels: Timed[] = [];
    const inheritedAdds: Timed[] = [];
    const kubeAdds: Timed[] = [];
    const entryOnly: number[] = [];
    const entryOnlyInherited: number[] = [];
    const agent = await startAgent(w);
    let agentLog = '';
    try {
      // Interleaved, so load from other processes on the machine falls on every column alike.
      const pods = plugins.map(() => Array.from({ length: PODS }, () => w.addPod()));
      const envFor = (p: Plugin, i: number, pod: { netns: string }) => ({
        ...(p.inherit ? inherited : {}),
        ...baseEnv,
        ...p.env,
        CNI_CONTAINERID: `bench${plugins.indexOf(p)}x${i}`,
        CNI_NETNS: pod.netns,
        ...(p.cniArgs ? { CNI_ARGS: p.cniArgs(i) } : {}),
      });
      for (let i = 0; i < PODS; i++) {
        for (const [env, bares, entries] of [
          [baseEnv, bare, entryOnly],
          [{ ...inherited, ...baseEnv }, bareInherited, entryOnlyInherited],
        ] as const) {
          bares.push((await timeSpawn([...nsenter, process.execPath, '-e', '0'], env, '')).ms);
          entries.push(
            (await timeSpawn([...nsenter, path.join(binDir, 'calico')], { ...env, CNI_COMMAND: 'VERSION' }, '')).ms,
          );
        }
        for (const [k, p] of plugins.entries()) {
          const a = await timeSpawn(
            [...nsenter, p.program],
            { ...envFor(p, i, pods[k]![i]!), CNI_COMMAND: 'ADD' },
            JSON.stringify(p.conf),
          );
          if (a.code !== 0) throw new Error(`${p.label} ADD failed: ${a.out}`);
          p.adds.push(a.ms);
          if (k === 0) handoffAdds.push(a);
          if (k === 1) inheritedAdds.push(a);
          if (p.cniArgs) kubeAdds.push(a);
        }
      }
      for (let i = 0; i < PODS; i++) {
        for (const [k, p] of plugins.entries()) {
          const d = await timeSpawn(
            [...nsenter, p.program],
            { ...envFor(p, i, pods[k]![i]!), CNI_COMMAND: 'DEL' },
            JSON.stringify(p.conf),
          );
          if (d.code !== 0) throw new Error(`${p.label} DEL failed: ${d.out}`);
          p.dels.push(d.ms);
          if (k === 0) handoffDels.push(d);
          w.removePod(pods[k]![i]!.name);
        }
      }
    } finally {
      agentLog = agent.log();
      await agent.stop();
    }
    const rows = plugins.map((p) => [p.label, p.adds, p.dels] as [string, number[], number[]]);

    console.log(`CNI latency, ${PODS} pods per plugin (each call: nsenter + plugin start + work)`);
    console.log(`  (a) kubelet-like environment (PATH and the CNI variables only):`);
    console.log(`  node -e 0                    ${fmt(bare)}`);
    console.log(`  calico VERSION (entry only)  ${fmt(entryOnly)}`);
    for (const [label, adds, dels] of rows) {
      console.log(`  ${label.padEnd(28)} ADD ${fmt(adds)}   DEL ${fmt(dels)}`);
    }
    console.log(`  (b) the bench's own environment, passed to node -e 0 and to the plugin alike:`);
    console.log(`  node -e 0                    ${fmt(bareInherited)}`);
    console.log(`  calico VERSION (entry only)  ${fmt(entryOnlyInherited)}`);
    const summary = (env: string, adds: number[], bares: number[]) => {
      const ours = pct(adds, 50);
      const node = pct(bares, 50);
      console.log(
        `  ${env}: our ADD median / node -e 0 median = ${(ours / node).toFixed(2)} (goal <= 1.2); ` +
          `own work (ADD - node -e 0) ${(ours - node).toFixed(1)} ms = ${((100 * (ours - node)) / node).toFixed(0)} % ` +
          `of node's start (goal <= 20 %)`,
      );
    };
    summary('(a) kubelet-like', rows[0]![1], bare);
    summary('(b) bench env   ', rows[1]![1], bareInherited);
    if (kube) summary('(a) Kubernetes  ', rows[2]![1], bare);

    // Where an ADD and a DEL through the agent spend their time, median per phase (phases are sequential on the
    // plugin side; the agent's marks are offsets from the start of its handler, and its steps overlap).
    const breakdowns = [
      ['ADD', '(a)', 'bench0', handoffAdds],
      ['DEL', '(a)', 'bench0', handoffDels],
      ['ADD', '(b)', 'bench1', inheritedAdds],
      ...(kube ? ([['ADD', '(a) Kubernetes', 'bench2', kubeAdds]] as const) : []),
    ] as const;
    for (const [cmd, env, idPrefix, calls] of breakdowns) {
      const phases = new Map<string, number[]>();
      const add = (name: string, ms: number) => {
        if (!phases.has(name)) phases.set(name, []);
        phases.get(name)!.push(ms);
      };
      for (const t of calls) {
        for (const [name, ms] of Object.entries(pluginPhases(t) ?? {})) add(name, ms);
      }
      console.log(`  ${cmd} ${env} through the agent, plugin side (median ms):`);
      console.log(`    ${[...phases].map(([name, xs]) => `${name} ${pct(xs, 50).toFixed(1)}`).join(', ')}`);
      const served: number[] = [];
      for (const m of agentLog.matchAll(new RegExp(`agent: ${cmd} ${idPrefix}\\S+: ok \\(([\\d.]+) ms\\)`, 'g')))
        served.push(Number(m[1]));
      const steps = new Map<string, number[]>();
      for (const m of agentLog.matchAll(new RegExp(`${cmd} ${idPrefix}\\S+ timing \\(ms since start\\): (.*)`, 'g'))) {
        for (const part of m[1]!.split(', ')) {
          const [name, ms] = part.split(' ');
          if (!steps.has(name!)) steps.set(name!, []);
          steps.get(name!)!.push(Number(ms));
        }
      }
      console.log(
        `    agent: request served in ${served.length ? pct(served, 50).toFixed(1) : '?'} ms; handler steps done at`,
      );
      console.log(`    ${[...steps].map(([name, xs]) => `${name} ${pct(xs, 50).toFixed(1)}`).join(', ')}`);
    }
  } finally {
    await w.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
