// calico-kube-controllers figures: NetworkPolicy conversion cost (pure), and through the project's API server and an
// in-memory Calico datastore: time for 300 new namespaces to become kns. profiles, NetworkPolicy create -> Calico
// policy and pod relabel -> WorkloadEndpoint labels latency (p50/p99), and a restart's full sync over 300 profiles.
// Printed, never asserted. Run: node --import tsx bench/kube-controllers/run.ts
import pino from 'pino';
import { CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { CALICO_API_VERSION } from '../../src/api/resource.js';
import type { KubernetesNetworkPolicy } from '../../src/api/k8s/types.js';
import { MemoryDatastore } from '../../src/datastore/index.js';
import { ResourceClient } from '../../src/datastore/resources.js';
import { networkPolicyToCalico } from '../../src/k8s/convert/index.js';
import { runKubeControllers, type KubeControllers } from '../../src/k8s/controllers/index.js';
import { startTestApiServer } from '../../test/support/k8s.js';

const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function until(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('bench: timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

function conversionBench(): void {
  const policies: KubernetesNetworkPolicy[] = Array.from({ length: 5000 }, (_, i) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `p${i}`, namespace: `ns${i % 50}` },
    spec: {
      podSelector: {
        matchLabels: { app: `a${i}` },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['x', 'y'] }],
      },
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: { role: 'c' } } },
            { namespaceSelector: {} },
            { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } },
          ],
          ports: [{ port: 80 }, { port: 81 }, { port: 'http' }, { port: 53, protocol: 'UDP' }],
        },
      ],
      egress: [{ to: [{ namespaceSelector: { matchLabels: { team: 'x' } } }] }],
    },
  }));
  const t0 = performance.now();
  let rules = 0;
  for (const p of policies) rules += networkPolicyToCalico(p).policy.spec.ingress?.length ?? 0;
  const took = performance.now() - t0;
  console.log(
    `conversion: ${policies.length} NetworkPolicies (${rules} ingress rules) in ${ms(took)} = ${((took * 1000) / policies.length).toFixed(1)} us each`,
  );
}

async function controllersBench(): Promise<void> {
  const api = await startTestApiServer();
  const calico = new MemoryDatastore();
  const client = new ResourceClient(calico);
  const log = pino({ level: 'silent' });
  const start = () =>
    runKubeControllers({
      datastore: calico,
      kubeConfig: api.kubeConfig(),
      env: {},
      log,
      healthPort: null,
      metricsPort: null,
      lease: { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 100 },
    });
  let kc: KubeControllers | undefined;
  try {
    const kcfg = api.kubeConfig();
    const core = kcfg.makeApiClient(CoreV1Api);
    const net = kcfg.makeApiClient(NetworkingV1Api);
    kc = await start();
    await until(async () => kc!.running().length === 5);
    await kc.idle();

    const N = 300;
    let t0 = performance.now();
    for (let i = 0; i < N; i++)
      await core.createNamespace({ body: { metadata: { name: `bench-${i}`, labels: { i: String(i) } } } });
    const created = performance.now() - t0;
    await until(
      async () =>
        (await client.list('Profile')).items.filter((p) => p.metadata.name.startsWith('kns.bench-')).length === N,
    );
    console.log(
      `namespaces: ${N} created in ${ms(created)}; all ${N} kns. profiles after ${ms(performance.now() - t0)}`,
    );

    const lat: number[] = [];
    for (let i = 0; i < 40; i++) {
      t0 = performance.now();
      await net.createNamespacedNetworkPolicy({
        namespace: 'default',
        body: {
          metadata: { name: `np-${i}` },
          spec: { podSelector: { matchLabels: { app: String(i) } }, ingress: [{ ports: [{ port: 80 }] }] },
        },
      });
      await until(async () => (await client.find('NetworkPolicy', `knp.default.np-${i}`, 'default')) !== undefined);
      lat.push(performance.now() - t0);
    }
    console.log(
      `policy: NetworkPolicy create -> Calico policy p50 ${ms(pct(lat, 50))}, p99 ${ms(pct(lat, 99))} (${lat.length} creates)`,
    );

    await client.create({ apiVersion: CALICO_API_VERSION, kind: 'Node', metadata: { name: 'bench-node' }, spec: {} });
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'web', labels: { v: '0' } },
        spec: { nodeName: 'bench-node', containers: [{ name: 'c', image: 'x' }] },
      },
    });
    await client.create({
      apiVersion: CALICO_API_VERSION,
      kind: 'WorkloadEndpoint',
      metadata: { name: 'bench--node-k8s-web-eth0', namespace: 'default', labels: {} },
      spec: {
        orchestrator: 'k8s',
        node: 'bench-node',
        pod: 'web',
        endpoint: 'eth0',
        containerID: 'c1',
        interfaceName: 'cali0',
        ipNetworks: ['10.99.0.1/32'],
      },
    });
    const rel: number[] = [];
    for (let i = 1; i <= 30; i++) {
      const pod = await core.readNamespacedPod({ namespace: 'default', name: 'web' });
      pod.metadata!.labels = { v: String(i) };
      t0 = performance.now();
      await core.replaceNamespacedPod({ namespace: 'default', name: 'web', body: pod });
      await until(
        async () =>
          (await client.find('WorkloadEndpoint', 'bench--node-k8s-web-eth0', 'default'))?.metadata.labels?.v ===
          String(i),
      );
      rel.push(performance.now() - t0);
    }
    console.log(
      `pods: relabel -> WorkloadEndpoint labels p50 ${ms(pct(rel, 50))}, p99 ${ms(pct(rel, 99))} (${rel.length} changes)`,
    );

    await kc.stop();
    kc = undefined;
    for (let i = 0; i < N; i++) {
      const p = await client.get('Profile', `kns.bench-${i}`);
      await client.update({ ...p, spec: { ...p.spec, labelsToApply: { stale: 'yes' } } });
    }
    t0 = performance.now();
    kc = await start();
    await until(async () =>
      (await client.list('Profile')).items.every((p) => p.spec.labelsToApply?.stale === undefined),
    );
    console.log(
      `restart: full sync repaired ${N} stale profiles ${ms(performance.now() - t0)} after start (lease and informer sync included)`,
    );
  } finally {
    await kc?.stop();
    await api.stop();
    await calico.close();
  }
}

conversionBench();
await controllersBench();
