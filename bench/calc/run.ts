// Calculation-graph speed at the scale: 1,000 local endpoints, 10,000 cluster endpoints, 1,000 policies
// (a realistic mix: namespaced allow-by-label, namespaceSelector, named ports, nets, a few tiers and GNPs).
// Prints cold start (all updates -> first snapshot), one policy change and one endpoint add (update -> snapshot +
// flush), counts, and heap. Pure CPU; no kernel. Run: node --import tsx bench/calc/run.ts
import { CalcGraph } from '../../src/agent/calc/graph.js';
import type { CalcUpdate } from '../../src/agent/calc/model.js';

const LOCAL = 1000;
const CLUSTER = 10_000;
const POLICIES = 1000;
const NAMESPACES = 50;
const APPS = 40;

const put = (resource: any): CalcUpdate => ({ type: 'put', resource });
const ip = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`;

function endpoint(i: number, nodeName: string): CalcUpdate {
  const ns = `ns${i % NAMESPACES}`;
  return put({
    kind: 'WorkloadEndpoint',
    metadata: {
      name: `${nodeName}-k8s-pod${i}-eth0`,
      namespace: ns,
      labels: { app: `app${i % APPS}`, tier: i % 3 === 0 ? 'frontend' : 'backend', version: `v${i % 4}` },
    },
    spec: {
      orchestrator: 'k8s',
      node: nodeName,
      interfaceName: `cali${i.toString(16).padStart(11, '0')}`,
      ipNetworks: [ip(i + 1)],
      profiles: [`kns.${ns}`, `ksa.${ns}.default`],
      serviceAccountName: 'default',
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    },
  });
}

function policy(i: number): CalcUpdate {
  const ns = `ns${i % NAMESPACES}`;
  const app = `app${i % APPS}`;
  const kind = i % 10;
  if (kind === 0) {
    return put({
      kind: 'GlobalNetworkPolicy',
      metadata: { name: `sec.g${i}` },
      spec: {
        tier: 'sec',
        order: i,
        selector: `app == '${app}'`,
        ingress: [{ action: 'Deny', source: { nets: [`192.168.${i % 256}.0/24`] } }, { action: 'Pass' }],
      },
    });
  }
  const ingress =
    kind < 5
      ? [
          {
            action: 'Allow',
            protocol: 'TCP',
            source: { selector: `app == 'app${(i + 1) % APPS}'` },
            destination: { ports: [80, 443, '8000:8100'] },
          },
        ]
      : kind < 8
        ? [{ action: 'Allow', source: { namespaceSelector: `team == 't${i % 7}'`, selector: `tier == 'frontend'` } }]
        : [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['http'] } }];
  return put({
    kind: 'NetworkPolicy',
    metadata: { name: `knp.default.p${i}`, namespace: ns },
    spec: {
      order: 1000,
      selector: `projectcalico.org/orchestrator == 'k8s' && app == '${app}'`,
      types: ['Ingress', 'Egress'],
      ingress,
      egress: [{ action: 'Allow', protocol: 'UDP', destination: { ports: [53] } }],
    },
  });
}

function setup(): CalcUpdate[] {
  const ups: CalcUpdate[] = [put({ kind: 'Tier', metadata: { name: 'sec' }, spec: { order: 100 } })];
  for (let n = 0; n < NAMESPACES; n++) {
    ups.push(
      put({
        kind: 'Profile',
        metadata: { name: `kns.ns${n}` },
        spec: {
          ingress: [{ action: 'Allow' }],
          egress: [{ action: 'Allow' }],
          labelsToApply: { 'pcns.team': `t${n % 7}`, 'pcns.projectcalico.org/name': `ns${n}` },
        },
      }),
      put({
        kind: 'Profile',
        metadata: { name: `ksa.ns${n}.default` },
        spec: { labelsToApply: { 'pcsa.projectcalico.org/name': 'default' } },
      }),
    );
  }
  const endpoints: CalcUpdate[] = [];
  const policies: CalcUpdate[] = [];
  for (let i = 0; i < CLUSTER; i++) endpoints.push(endpoint(i, i < LOCAL ? 'node1' : `node${2 + (i % 50)}`));
  for (let i = 0; i < POLICIES; i++) policies.push(policy(i));
  // The datastore lists by key, so policies (networkpolicies, globalnetworkpolicies) come before workloadendpoints;
  // BENCH_ORDER=endpoints-first measures the other order.
  if (process.env.BENCH_ORDER === 'endpoints-first') ups.push(...endpoints, ...policies);
  else ups.push(...policies, ...endpoints);
  return ups;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!;
}

const updates = setup();
const heap0 = process.memoryUsage().heapUsed;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const g = new CalcGraph({ nodeName: 'node1' });
g.onUpdates(updates);
const tUpdates = performance.now() - t0;
const snap = g.snapshot();
g.flush();
const cold = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const coldCpu = (cpu.user + cpu.system) / 1000;
const heap = (process.memoryUsage().heapUsed - heap0) / 1e6;

const policyTimes: number[] = [];
for (let k = 0; k < 200; k++) {
  const u = policy((1 + 10 * k) % POLICIES);
  (u as any).resource.spec.ingress[0].action = k % 2 ? 'Allow' : 'Deny';
  const t = performance.now();
  g.onUpdate(u);
  g.snapshot();
  g.flush();
  policyTimes.push(performance.now() - t);
}
const endpointTimes: number[] = [];
for (let k = 0; k < 200; k++) {
  const t = performance.now();
  g.onUpdate(endpoint(CLUSTER + k, 'node1'));
  g.snapshot();
  g.flush();
  endpointTimes.push(performance.now() - t);
}
const s = g.stats();
let members = 0;
for (const set of snap.ipSets.values()) members += set.v4Members.length + set.v6Members.length;
console.log(
  `calc graph at ${LOCAL} local / ${CLUSTER} cluster endpoints, ${POLICIES} policies (${process.env.BENCH_ORDER ?? 'policies-first'})`,
);
console.log(
  `  cold start (${updates.length} updates -> snapshot): ${cold.toFixed(0)} ms (updates ${tUpdates.toFixed(0)} ms, first snapshot ${(cold - tUpdates).toFixed(0)} ms; CPU ${coldCpu.toFixed(0)} ms)  (agent goal: whole cold start <= 2000 ms)`,
);
console.log(`  heap after cold start: ${heap.toFixed(0)} MB`);
console.log(
  `  one policy change -> snapshot+flush: median ${median(policyTimes).toFixed(2)} ms, p99 ${p99(policyTimes).toFixed(2)} ms`,
);
console.log(
  `  one local endpoint added -> snapshot+flush: median ${median(endpointTimes).toFixed(2)} ms, p99 ${p99(endpointTimes).toFixed(2)} ms`,
);
console.log(
  `  active policies ${s.activePolicies}, profiles ${s.activeProfiles}, IP sets ${s.ipSets} (${members} members), local endpoints ${s.localEndpoints}`,
);
