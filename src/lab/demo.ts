// The README's first command: a 3-node lab and the seed's story — a second IP pool chosen by a pod annotation,
// pods in two namespaces, and the reachability matrix before and after a default-deny, an allow NetworkPolicy and a
// Calico GlobalNetworkPolicy whose Deny is ordered before an Allow. The lab stays up afterwards.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { DEFAULT_PREFIX } from './layout.js';
import { labIsUp, labUp } from './up.js';
import { formatMatrix, matrixDifferences, type Matrix } from './matrix.js';
import { probeMatrix } from './probe.js';
import { listPodRecords } from './pod-record.js';

const say = (msg = '') => process.stdout.write(`${msg}\n`);

const STEPS = {
  pool: `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: custompool-ipv4-ippool
spec:
  cidr: 10.48.0.0/24
  blockSize: 28
  natOutgoing: true
  # Only pods that name it in cni.projectcalico.org/ipv4pools get addresses from it.
  nodeSelector: "!all()"
`,
  workloads: `apiVersion: v1
kind: Namespace
metadata:
  name: frontend
---
apiVersion: v1
kind: Namespace
metadata:
  name: backend
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: frontend, labels: { app: web } }
spec: { containers: [{ name: web, image: busybox, ports: [{ containerPort: 80 }] }] }
---
apiVersion: v1
kind: Pod
metadata:
  name: custom
  namespace: frontend
  labels: { app: custom }
  annotations: { cni.projectcalico.org/ipv4pools: '["custompool-ipv4-ippool"]' }
spec: { containers: [{ name: custom, image: busybox, ports: [{ containerPort: 80 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: api, namespace: backend, labels: { app: api } }
spec: { containers: [{ name: api, image: busybox, ports: [{ containerPort: 80 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: db, namespace: backend, labels: { app: db } }
spec: { containers: [{ name: db, image: busybox, ports: [{ containerPort: 80 }] }] }
`,
  defaultDeny: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: default-deny, namespace: backend }
spec:
  podSelector: {}
  policyTypes: [Ingress]
`,
  allowFrontend: `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: allow-frontend-to-api, namespace: backend }
spec:
  podSelector: { matchLabels: { app: api } }
  ingress:
    - from:
        - namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: frontend } }
      ports: [{ port: 80 }]
`,
  globalDeny: `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: { name: deny-custom-pool }
spec:
  order: 10
  selector: app == 'api'
  types: [Ingress]
  ingress:
    - action: Deny
      source: { nets: [10.48.0.0/24] }
`,
};

const ALL = ['backend/api', 'backend/db', 'frontend/custom', 'frontend/web'];

function expected(reachable: (from: string, to: string) => boolean): Matrix {
  return Object.fromEntries(ALL.map((f) => [f, Object.fromEntries(ALL.map((t) => [t, reachable(f, t)]))]));
}

function lab(self: string[], args: string[], input?: string, quiet = false): void {
  const out = quiet ? 'pipe' : 'inherit';
  const r = spawnSync(self[0]!, [...self.slice(1), ...args], { stdio: [input ? 'pipe' : 'inherit', out, out], input });
  if (r.status !== 0) throw new Error(`calico-lab ${args.join(' ')} failed${quiet ? `: ${r.stderr}` : ''}`);
}

async function showMatrixWhenConverged(labDir: string, title: string, want: Matrix): Promise<boolean> {
  say(`\n${title}`);
  const started = Date.now();
  let last: Matrix = {};
  while (Date.now() - started < 20_000) {
    // A round observes the dataplane when its packets leave, so its start time is when the matrix held.
    const roundStart = Date.now();
    last = await probeMatrix(labDir, { port: 80, protocol: 'TCP', timeoutMs: 250 });
    if (matrixDifferences(want, last).length === 0) {
      say(formatMatrix(last));
      say(`(as expected, ${roundStart - started} ms after the change was written)`);
      return true;
    }
  }
  say(formatMatrix(last));
  say(`NOT as expected:\n  ${matrixDifferences(want, last).join('\n  ')}`);
  return false;
}

export async function runDemo(labDir: string, binDir: string, self: string[]): Promise<void> {
  if (!labIsUp(labDir)) {
    await labUp(
      { labDir, nodes: 3, datastore: 'sqlite', mode: 'bgp', ipv6: false, prefix: DEFAULT_PREFIX },
      { binDir },
    );
  }
  // A demo run before this one left its policies: start again from no policy, so the story reads the same.
  lab(
    self,
    ['delete', '-f', '-', '--lab-dir', labDir],
    [STEPS.globalDeny, STEPS.allowFrontend, STEPS.defaultDeny].join('---\n'),
    true,
  );
  say('\n# A second IP pool, and every pool:');
  lab(self, ['apply', '-f', '-', '--lab-dir', labDir], STEPS.pool);
  lab(self, ['calicoctl', 'get', 'ippools', '-o', 'wide']);

  say('\n# Pods in two namespaces; frontend/custom asks for the custom pool with cni.projectcalico.org/ipv4pools:');
  lab(self, ['apply', '-f', '-', '--lab-dir', labDir], STEPS.workloads);
  const deadline = Date.now() + 60_000;
  while (listPodRecords(labDir).filter((p) => p.ips.length).length < ALL.length) {
    if (Date.now() > deadline)
      throw new Error('pods did not get addresses within 60 s (see the kubelet logs under the lab directory)');
    await new Promise((r) => setTimeout(r, 250));
  }
  for (const p of listPodRecords(labDir))
    say(`  ${`${p.namespace}/${p.name}`.padEnd(16)} on ${p.node}: ${p.ips.join(', ')}`);

  let ok = await showMatrixWhenConverged(
    labDir,
    '# Reachability on TCP port 80, no policy: everything reaches everything',
    expected(() => true),
  );

  lab(self, ['apply', '-f', '-', '--lab-dir', labDir], STEPS.defaultDeny);
  ok =
    (await showMatrixWhenConverged(
      labDir,
      '# After a default-deny ingress NetworkPolicy in namespace backend',
      expected((_f, t) => !t.startsWith('backend/')),
    )) && ok;

  lab(self, ['apply', '-f', '-', '--lab-dir', labDir], STEPS.allowFrontend);
  ok =
    (await showMatrixWhenConverged(
      labDir,
      '# After allowing frontend -> backend/api on port 80',
      expected((f, t) => !t.startsWith('backend/') || (t === 'backend/api' && f.startsWith('frontend/'))),
    )) && ok;

  lab(self, ['apply', '-f', '-', '--lab-dir', labDir], STEPS.globalDeny);
  ok =
    (await showMatrixWhenConverged(
      labDir,
      '# After a GlobalNetworkPolicy (order 10) denying the custom pool before the Kubernetes allow (order 1000)',
      expected((f, t) => !t.startsWith('backend/') || (t === 'backend/api' && f === 'frontend/web')),
    )) && ok;

  const cmd = path.relative(process.cwd(), self[1] ?? 'calico-lab') || 'calico-lab';
  say(`
The lab is still up. Explore it (${cmd} is the calico-lab program):
  ${cmd} status                         nodes, agents, BGP sessions, pools, pods
  ${cmd} probe [--port 80] [-o json]    the reachability matrix
  ${cmd} calicoctl get workloadendpoints -A -o wide
  ${cmd} kubectl get pods -A
  ${cmd} exec frontend/web -- ip addr
  ${cmd} apply -f FILE | delete -f FILE
Take it down with: ${cmd} down   (lab directory: ${labDir})`);
  if (!ok) throw new Error('the demo did not see the expected matrices (see above)');
}
