// bench/policy's data set: the resources of one node with LOCAL local endpoints, REMOTE endpoints on 50 other nodes,
// POLICIES policies (a realistic mix) in NAMESPACES namespaces, as datastore put operations. Shared by the bench
// (run.ts) and its memory profile (memory.ts) so both measure the same world.
import { resourceKey } from '../../src/datastore/keys.js';
import type { Datastore, TxnOperation } from '../../src/datastore/types.js';

export const NODE = 'bench-node';
export const LOCAL = 1000;
export const REMOTE = 10000;
export const POLICIES = 1000;
export const NAMESPACES = 20;

export const ifName = (i: number): string => `tp${i.toString(16).padStart(10, '0')}`;
export const localIp = (i: number): string => `10.80.${Math.floor(i / 250)}.${(i % 250) + 2}`;
export const remoteIp = (i: number): string => `10.81.${Math.floor(i / 250)}.${(i % 250) + 2}`;

const dbl = (s: string): string => s.replace(/-/g, '--');
export type Res = { kind: string; metadata: Record<string, any>; spec: Record<string, any> };
export const put = (r: Res): TxnOperation => ({
  kind: 'put',
  key: resourceKey(r.kind, r.metadata.name, r.metadata.namespace),
  value: JSON.stringify({ apiVersion: 'projectcalico.org/v3', ...r }),
});

export function wep(i: number, node: string, ip: string, iface: string, labels: Record<string, string>): Res {
  const ns = `ns${i % NAMESPACES}`;
  const pod = `pod-${node}-${i}`;
  return {
    kind: 'WorkloadEndpoint',
    metadata: { name: `${dbl(node)}-k8s-${dbl(pod)}-eth0`, namespace: ns, labels },
    spec: {
      node,
      orchestrator: 'k8s',
      pod,
      endpoint: 'eth0',
      interfaceName: iface,
      ipNetworks: [`${ip}/32`],
      profiles: [`kns.${ns}`],
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    },
  };
}

export const labelsFor = (i: number): Record<string, string> => ({
  app: `app${i % 100}`,
  role: `r${i % 50}`,
  tier: ['web', 'api', 'db', 'cache'][i % 4]!,
});

export function policy(k: number): Res {
  const ns = `ns${k % NAMESPACES}`;
  const sel = `app == 'app${k % 100}'`;
  switch (k % 10) {
    case 0:
    case 1:
    case 2:
    case 3: // a Kubernetes-style allow from pods with a role, on a port
      return {
        kind: 'NetworkPolicy',
        metadata: { name: `knp.default.p${k}`, namespace: ns },
        spec: {
          order: 1000,
          selector: `projectcalico.org/orchestrator == 'k8s' && ${sel}`,
          types: ['Ingress'],
          ingress: [
            {
              action: 'Allow',
              protocol: 'TCP',
              source: { selector: `role == 'r${k % 50}'` },
              destination: { ports: [8080 + (k % 7)] },
            },
          ],
        },
      };
    case 4:
    case 5: // namespace selector and a named port
      return {
        kind: 'NetworkPolicy',
        metadata: { name: `p${k}`, namespace: ns },
        spec: {
          order: 500,
          selector: sel,
          types: ['Ingress'],
          ingress: [
            {
              action: 'Allow',
              protocol: 'TCP',
              source: { namespaceSelector: `team == 't${k % 5}'` },
              destination: { ports: ['http'] },
            },
          ],
        },
      };
    case 6:
    case 7: // CIDR deny then allow
      return {
        kind: 'GlobalNetworkPolicy',
        metadata: { name: `g${k}` },
        spec: {
          order: 200 + k,
          selector: `tier == '${['web', 'api', 'db', 'cache'][k % 4]}' && ${sel}`,
          types: ['Ingress'],
          ingress: [
            { action: 'Deny', source: { nets: [`192.168.${k % 250}.0/24`, `172.20.${k % 250}.0/24`] } },
            {
              action: 'Allow',
              protocol: 'UDP',
              source: { nets: ['10.0.0.0/8'], notNets: [`10.99.${k % 250}.0/24`] },
              destination: { ports: ['5000:5100'] },
            },
          ],
        },
      };
    case 8: // egress
      return {
        kind: 'NetworkPolicy',
        metadata: { name: `e${k}`, namespace: ns },
        spec: {
          order: 800,
          selector: sel,
          types: ['Egress'],
          egress: [
            { action: 'Allow', protocol: 'UDP', destination: { ports: [53] } },
            { action: 'Allow', destination: { selector: `tier == 'db'`, namespaceSelector: 'all()' } },
          ],
        },
      };
    default: // a security tier that passes known traffic on and denies the rest of a CIDR
      return {
        kind: 'GlobalNetworkPolicy',
        metadata: { name: `security.s${k}` },
        spec: {
          tier: 'security',
          order: k,
          selector: sel,
          types: ['Ingress'],
          ingress: [
            { action: 'Pass', source: { selector: `role in {'r${k % 50}', 'r${(k + 1) % 50}'}` } },
            { action: 'Deny', source: { nets: [`198.18.${k % 250}.0/24`] } },
            { action: 'Pass' },
          ],
        },
      };
  }
}

/** Every resource of the bench's world, as put operations. */
export function benchResources(): TxnOperation[] {
  const ops: TxnOperation[] = [];
  ops.push(put({ kind: 'Tier', metadata: { name: 'security' }, spec: { order: 100 } }));
  for (let n = 0; n < NAMESPACES; n++) {
    ops.push(
      put({
        kind: 'Profile',
        metadata: { name: `kns.ns${n}` },
        spec: {
          ingress: [{ action: 'Allow' }],
          egress: [{ action: 'Allow' }],
          labelsToApply: { 'pcns.projectcalico.org/name': `ns${n}`, 'pcns.team': `t${n % 5}` },
        },
      }),
    );
  }
  for (let i = 0; i < LOCAL; i++) {
    const labels =
      i === 0 ? { app: 'iperf-client', role: 'r0' } : i === 1 ? { app: 'iperf-server', role: 'r1' } : labelsFor(i);
    ops.push(put(wep(i, NODE, localIp(i), ifName(i), labels)));
  }
  for (let i = 0; i < REMOTE; i++)
    ops.push(put(wep(i, `bench-node-${i % 50}`, remoteIp(i), `cali${i.toString(16).padStart(11, '0')}`, labelsFor(i))));
  for (let k = 0; k < POLICIES - 1; k++) ops.push(put(policy(k)));
  // the iperf pair: the server admits the client on 5201 (the traffic crosses the policy chains)
  ops.push(
    put({
      kind: 'NetworkPolicy',
      metadata: { name: 'iperf', namespace: 'ns1' },
      spec: {
        selector: "app == 'iperf-server'",
        types: ['Ingress'],
        ingress: [
          {
            action: 'Allow',
            protocol: 'TCP',
            source: { selector: "app == 'iperf-client'", namespaceSelector: 'all()' },
            destination: { ports: [5201] },
          },
        ],
      },
    }),
  );
  return ops;
}

export async function writeAll(ds: Datastore, ops: TxnOperation[]): Promise<void> {
  for (let i = 0; i < ops.length; i += 100) await ds.txn([], ops.slice(i, i + 100));
}
