// `calico-lab status`: nodes and their agents' readiness, each node's BGP sessions, the IP pools and the pods.
import path from 'node:path';
import { runStatus } from '../common/exec.js';
import { labLayout, datastoreEnv, nodePaths } from './layout.js';
import { nodeEnv } from './up.js';
import { listPodRecords } from './pod-record.js';
import { isSameProcess } from './processes.js';
import { loadState } from './state.js';

export async function labStatus(labDir: string, binDir: string): Promise<number> {
  const state = loadState(labDir);
  if (!state) {
    process.stdout.write(`no lab in ${labDir}\n`);
    return 1;
  }
  const layout = labLayout(state.options);
  const k8sDir = path.join(labDir, 'k8s');
  const o = state.options;
  const out: string[] = [
    `lab ${labDir}: ${state.phase}, ${o.nodes} node(s), datastore ${o.datastore}, mode ${o.mode}${o.ipv6 ? ', dual-stack' : ''}`,
    '',
    'PROCESSES',
  ];
  let healthy = state.phase === 'up';
  for (const p of state.processes) {
    const alive = isSameProcess(p.pid, p.startTicks);
    healthy &&= alive;
    out.push(`  ${p.role.padEnd(28)} pid ${String(p.pid).padEnd(8)} ${alive ? 'running' : 'NOT RUNNING'}`);
  }
  out.push('', 'NODES');
  for (const node of layout.nodes) {
    const env = { ...process.env, ...nodeEnv(layout, node, k8sDir) };
    const ready = await runStatus(
      'ip',
      ['netns', 'exec', node.netns, path.join(binDir, 'calico-node'), '-felix-ready'],
      { env },
    );
    healthy &&= ready.code === 0;
    out.push(
      `  ${node.name.padEnd(8)} ${node.netns.padEnd(8)} ${node.ipv4.padEnd(15)} agent ${ready.code === 0 ? 'ready' : `not ready: ${(ready.stdout + ready.stderr).trim()}`}`,
    );
    if (o.mode === 'bgp') {
      const bgp = await runStatus(
        'ip',
        ['netns', 'exec', node.netns, path.join(binDir, 'calicoctl'), 'node', 'status'],
        {
          env: { ...env, CALICO_BIRD_SOCKET: nodePaths(node).birdSocket },
        },
      );
      out.push(
        ...(bgp.stdout + bgp.stderr)
          .trim()
          .split('\n')
          .map((l) => `    ${l}`),
      );
    }
  }
  out.push('', 'IP POOLS');
  const pools = await runStatus(
    'ip',
    ['netns', 'exec', layout.underlayNetns, path.join(binDir, 'calicoctl'), 'get', 'ippools', '-o', 'wide'],
    {
      env: { ...process.env, ...datastoreEnv(layout) },
    },
  );
  out.push(
    ...(pools.stdout + pools.stderr)
      .trim()
      .split('\n')
      .map((l) => `  ${l}`),
  );
  out.push('', 'PODS');
  for (const p of listPodRecords(labDir)) {
    out.push(`  ${`${p.namespace}/${p.name}`.padEnd(28)} ${p.node.padEnd(8)} ${p.ips.join(',')}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  return healthy ? 0 : 1;
}
