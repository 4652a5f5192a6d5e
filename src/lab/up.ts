// `calico-lab up`: builds the cluster — underlay and node namespaces, the datastore, the Kubernetes API server and
// kube-controllers on the underlay, and on every node install-cni, calico-node (agent, BIRD, CNI hand-off) and the
// lab kubelet — then waits until every agent is ready. Idempotent: a lab that is already up is left as it is; a lab
// left half-built by a crash is taken down first.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, runStatus } from '../common/exec.js';
import { CALICO_CONFLIST_TEMPLATE } from '../cni/install/template.js';
import { labDown } from './down.js';
import { datastoreEnv, labLayout, nodePaths, type LabLayout, type LabNode, type LabOptions } from './layout.js';
import { createNode, createUnderlay } from './network.js';
import { isSameProcess, startProcess } from './processes.js';
import { loadState, saveState } from './state.js';

export interface Programs {
  /** Directory holding the bundled programs (calico-node, calico-lab, ...). */
  binDir: string;
}

const say = (msg: string) => process.stdout.write(`${msg}\n`);

export function labIsUp(labDir: string): boolean {
  const s = loadState(labDir);
  return !!s && s.phase === 'up' && s.processes.every((p) => isSameProcess(p.pid, p.startTicks));
}

export async function labUp(options: LabOptions, programs: Programs): Promise<LabLayout> {
  const layout = labLayout(options);
  const existing = loadState(options.labDir);
  if (existing && labIsUp(options.labDir)) {
    say(`lab already up in ${options.labDir}`);
    return labLayout(existing.options);
  }
  if (existing) {
    say('found a half-built lab: taking it down first');
    await labDown(options.labDir, options.prefix);
  }
  mkdirSync(options.labDir, { recursive: true });
  saveState({
    options,
    netns: [layout.underlayNetns, ...layout.nodes.map((n) => n.netns)],
    processes: [],
    pods: {},
    phase: 'starting',
  });

  say(`underlay ${layout.underlayNetns} (${layout.underlayAddresses.join(', ')}), ${layout.nodes.length} node(s)`);
  await createUnderlay(layout);
  for (const node of layout.nodes) await createNode(layout, node);

  if (options.datastore === 'etcd') await startLabEtcd(layout);
  const k8sDir = path.join(options.labDir, 'k8s');
  await startApiServer(layout, programs, k8sDir);
  const controllers = path.join(programs.binDir, 'calico-kube-controllers');
  if (!existsSync(controllers)) throw new Error(`${controllers} is missing: run "npm run build"`);
  startProcess({
    labDir: options.labDir,
    role: 'calico-kube-controllers',
    netns: layout.underlayNetns,
    program: controllers,
    args: [],
    env: { ...datastoreEnv(layout), KUBECONFIG: path.join(k8sDir, 'admin.kubeconfig'), LOG_LEVEL: 'info' },
    logFile: path.join(options.labDir, 'log', 'kube-controllers.log'),
  });

  for (const node of layout.nodes) await startNode(layout, node, programs, k8sDir);
  await waitForAgents(layout, programs);
  const s = loadState(options.labDir)!;
  s.phase = 'up';
  saveState(s);
  say(`lab up: ${layout.nodes.map((n) => `${n.name}=${n.ipv4}`).join(' ')}`);
  return layout;
}

async function startLabEtcd(layout: LabLayout): Promise<void> {
  const dir = path.join(layout.options.labDir, 'etcd');
  mkdirSync(dir, { recursive: true });
  const client = layout.etcdEndpoint;
  startProcess({
    labDir: layout.options.labDir,
    role: 'etcd',
    netns: layout.underlayNetns,
    program: 'etcd',
    args: [
      '--name=lab',
      `--data-dir=${dir}/data`,
      `--listen-client-urls=${client},http://127.0.0.1:2379`,
      `--advertise-client-urls=${client}`,
      '--listen-peer-urls=http://127.0.0.1:2380',
      '--initial-advertise-peer-urls=http://127.0.0.1:2380',
      '--initial-cluster=lab=http://127.0.0.1:2380',
      '--listen-metrics-urls=http://127.0.0.1:2381',
      '--auto-compaction-mode=revision',
      '--auto-compaction-retention=100000',
    ],
    logFile: path.join(layout.options.labDir, 'log', 'etcd.log'),
  });
  await waitFor('etcd healthy', 20_000, async () => {
    const r = await runStatus('ip', [
      'netns',
      'exec',
      layout.underlayNetns,
      'etcdctl',
      `--endpoints=${client}`,
      'endpoint',
      'health',
    ]);
    return r.code === 0;
  });
}

async function startApiServer(layout: LabLayout, programs: Programs, k8sDir: string): Promise<void> {
  mkdirSync(k8sDir, { recursive: true });
  startProcess({
    labDir: layout.options.labDir,
    role: 'kube-apiserver',
    netns: layout.underlayNetns,
    program: path.join(programs.binDir, 'calico-k8s-apiserver'),
    args: ['--listen', `${layout.serviceAddress}:6443`, '--data-dir', k8sDir],
    env: datastoreEnv(layout),
    logFile: path.join(layout.options.labDir, 'log', 'kube-apiserver.log'),
  });
  const kubeconfig = path.join(k8sDir, 'admin.kubeconfig');
  await waitFor('Kubernetes API server ready', 20_000, async () => {
    if (!existsSync(kubeconfig)) return false;
    const r = await runStatus('ip', [
      'netns',
      'exec',
      layout.underlayNetns,
      'kubectl',
      '--kubeconfig',
      kubeconfig,
      'get',
      '--raw',
      '/api',
    ]);
    return r.code === 0;
  });
  await writeNodeServiceAccount(layout, k8sDir, kubeconfig);
}

/**
 * The service-account mount calico-node has in a real cluster (token, ca.crt, namespace): a ServiceAccount
 * kube-system/calico-node and a token issued for it by the API server's TokenRequest, as kubelet would project it.
 */
async function writeNodeServiceAccount(layout: LabLayout, k8sDir: string, kubeconfig: string): Promise<void> {
  const kubectl = (args: string[]) =>
    runStatus('ip', ['netns', 'exec', layout.underlayNetns, 'kubectl', '--kubeconfig', kubeconfig, ...args]);
  await kubectl(['create', 'namespace', 'kube-system']);
  // As the manifests: calico-node's own account, and the one whose token calico-node issues to the CNI plugin.
  await kubectl(['-n', 'kube-system', 'create', 'serviceaccount', 'calico-node']);
  await kubectl(['-n', 'kube-system', 'create', 'serviceaccount', 'calico-cni-plugin']);
  const token = await kubectl(['-n', 'kube-system', 'create', 'token', 'calico-node', '--duration=24h']);
  if (token.code !== 0) throw new Error(`could not issue a token for kube-system/calico-node: ${token.stderr.trim()}`);
  const dir = path.join(k8sDir, 'serviceaccount');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'token'), token.stdout.trim(), { mode: 0o600 });
  writeFileSync(path.join(dir, 'namespace'), 'kube-system');
  copyFileSync(path.join(k8sDir, 'ca.crt'), path.join(dir, 'ca.crt'));
}

/** Environment of every Calico process on a node: the datastore, the node's name and its host-path overrides. */
export function nodeEnv(layout: LabLayout, node: LabNode, k8sDir: string): Record<string, string> {
  const p = nodePaths(node);
  const mode = layout.options.mode;
  return {
    ...datastoreEnv(layout),
    NODENAME: node.name,
    KUBERNETES_NODE_NAME: node.name,
    CALICO_NODENAME_FILE: p.nodenameFile,
    CALICO_MTU_FILE: p.mtuFile,
    CALICO_AGENT_SOCKET: p.agentSocket,
    CALICO_BIRD_SOCKET: p.birdSocket,
    CALICO_BIRD_CONFIG_DIR: p.birdConfigDir,
    CALICO_ENDPOINT_STATUS_DIR: p.endpointStatusDir,
    CNI_NET_DIR: p.cniNetDir,
    CNI_BIN_DIR: p.cniBinDir,
    IP: 'autodetect',
    IP_AUTODETECTION_METHOD: 'interface=eth0',
    ...(layout.options.ipv6
      ? { IP6: 'autodetect', IP6_AUTODETECTION_METHOD: 'interface=eth0', FELIX_IPV6SUPPORT: 'true' }
      : { IP6: 'none', FELIX_IPV6SUPPORT: 'false' }),
    CALICO_NETWORKING_BACKEND: mode === 'bgp' ? 'bird' : 'vxlan',
    CALICO_IPV4POOL_CIDR: layout.defaultPoolCidr,
    CALICO_IPV4POOL_VXLAN: mode === 'bgp' ? 'Never' : mode === 'vxlan' ? 'Always' : 'CrossSubnet',
    CALICO_IPV4POOL_IPIP: 'Never',
    CALICO_IPV4POOL_NAT_OUTGOING: 'true',
    ...(layout.options.ipv6
      ? { CALICO_IPV6POOL_CIDR: layout.defaultPoolCidr6, CALICO_IPV6POOL_VXLAN: mode === 'bgp' ? 'Never' : 'Always' }
      : {}),
    // As calico.yaml sets them: veth_mtu "0" lets the plugin take the MTU calico-node detected (the MTU file).
    CNI_MTU: '0',
    ...(layout.options.ipv6 ? { CNI_NETWORK_CONFIG: dualStackConflistTemplate() } : {}),
    FELIX_DEFAULTENDPOINTTOHOSTACTION: 'ACCEPT',
    FELIX_HEALTHENABLED: 'true',
    // Felix's metrics are off by default; the lab turns them on, on each node namespace's loopback (port 9091).
    FELIX_PROMETHEUSMETRICSENABLED: 'true',
    FELIX_PROMETHEUSMETRICSHOST: '127.0.0.1',
    CALICO_DISABLE_FILE_LOGGING: 'true',
    KUBECONFIG: path.join(k8sDir, 'admin.kubeconfig'),
    CALICO_SERVICEACCOUNT_DIR: path.join(k8sDir, 'serviceaccount'),
    KUBERNETES_SERVICE_HOST: layout.serviceAddress,
    KUBERNETES_SERVICE_PORT: '6443',
    KUBERNETES_SERVICE_PROTOCOL: 'https',
  };
}

/** Calico's conflist template with both address families assigned (what a dual-stack calico.yaml sets). */
function dualStackConflistTemplate(): string {
  const ipam = '"ipam": {\n        "type": "calico-ipam"\n      }';
  if (!CALICO_CONFLIST_TEMPLATE.includes(ipam))
    throw new Error('the CNI template no longer has the expected ipam block');
  return CALICO_CONFLIST_TEMPLATE.replace(
    ipam,
    '"ipam": { "type": "calico-ipam", "assign_ipv4": "true", "assign_ipv6": "true" }',
  );
}

async function startNode(layout: LabLayout, node: LabNode, programs: Programs, k8sDir: string): Promise<void> {
  const p = nodePaths(node);
  for (const dir of [
    p.cniNetDir,
    p.cniBinDir,
    p.logDir,
    p.birdConfigDir,
    p.endpointStatusDir,
    path.dirname(p.nodenameFile),
    path.dirname(p.agentSocket),
  ]) {
    mkdirSync(dir, { recursive: true });
  }
  const env = nodeEnv(layout, node, k8sDir);
  startProcess({
    labDir: layout.options.labDir,
    role: `calico-node ${node.name}`,
    netns: node.netns,
    program: path.join(programs.binDir, 'calico-node'),
    args: [],
    env,
    logFile: path.join(p.logDir, 'calico-node.log'),
  });
  // install-cni needs the node name file the start-up writes; the init container runs before calico-node in Calico,
  // but here the conflist only has to exist before the first pod.
  await waitFor(`${node.name} registered`, 30_000, async () => existsSync(p.nodenameFile));
  await run('ip', ['netns', 'exec', node.netns, path.join(programs.binDir, 'calico-node'), 'install-cni'], {
    // As Calico's init container: install once and exit (install-cni's own default, as Calico's, is to stay).
    // The lab's kubelet shares this host's filesystem, so the plugins can name this node binary directly.
    env: { ...process.env, ...env, SLEEP: 'false', CNI_NODE_PATH: process.execPath },
  });
  startProcess({
    labDir: layout.options.labDir,
    role: `kubelet ${node.name}`,
    netns: node.netns,
    hostMounts: true,
    program: path.join(programs.binDir, 'calico-lab'),
    args: ['kubelet', '--node', node.name, '--lab-dir', layout.options.labDir],
    env,
    logFile: path.join(p.logDir, 'kubelet.log'),
  });
}

async function waitForAgents(layout: LabLayout, programs: Programs): Promise<void> {
  for (const node of layout.nodes) {
    const env = nodeEnv(layout, node, path.join(layout.options.labDir, 'k8s'));
    await waitFor(`${node.name} agent ready`, 60_000, async () => {
      const r = await runStatus(
        'ip',
        ['netns', 'exec', node.netns, path.join(programs.binDir, 'calico-node'), '-felix-ready'],
        {
          env: { ...process.env, ...env },
        },
      );
      return r.code === 0;
    });
  }
}

export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
}
