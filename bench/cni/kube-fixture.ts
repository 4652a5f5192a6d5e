// The Kubernetes side of the CNI benches: the lab's API server (src/k8s/apiserver, through the CNI tests' fixture
// test/system/cni/apiserver-main.ts) started in a world's node namespace, with namespaces, service accounts and pods
// created through kubectl, so ADDs carry K8S_POD_NAMESPACE/K8S_POD_NAME and the agent reads them over HTTPS as from
// a real cluster. In: a CniWorld and a pod count; out: the kubeconfig path and each pod's namespace and name.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startLabApiServer, type CniWorld } from '../../test/system/cni/world.js';

export interface KubePod {
  namespace: string;
  name: string;
}

export interface KubeFixture {
  kubeconfig: string;
  /** The pods, in the order the bench uses them. */
  pods: KubePod[];
  /** CNI_ARGS for the i-th pod, as kubelet passes them. */
  cniArgs(i: number): string;
}

/** Pods spread over two namespaces, each pod with labels, a service account, an annotation and named ports. */
function manifest(pods: KubePod[]): string {
  const docs: string[] = [];
  for (const ns of [...new Set(pods.map((p) => p.namespace))]) {
    docs.push(
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}, labels: {team: ${ns}}, annotations: {owner: bench}}`,
      `apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: ${ns}}`,
    );
  }
  for (const p of pods) {
    docs.push(
      [
        'apiVersion: v1',
        'kind: Pod',
        `metadata: {name: ${p.name}, namespace: ${p.namespace}, generateName: web-,`,
        `  labels: {app: web, tier: front, 'pod-template-hash': 5d8f7c9b6},`,
        `  annotations: {'kubernetes.io/config.seen': '2026-01-01T00:00:00Z'}}`,
        'spec:',
        '  serviceAccountName: web',
        '  containers:',
        '  - name: web',
        '    image: registry.example/web:1',
        '    ports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]',
      ].join('\n'),
    );
  }
  return docs.join('\n---\n') + '\n';
}

/** Starts the API server in `w`'s node namespace (ended by w.destroy()) and creates `count` pods. */
export async function startKubeFixture(w: CniWorld, root: string, count: number): Promise<KubeFixture> {
  const kubeconfig = await startLabApiServer(w, root);
  const pods = Array.from({ length: count }, (_, i) => ({
    namespace: i % 2 ? 'bench-b' : 'bench-a',
    name: `web-${i}`,
  }));
  const file = path.join(w.dir, 'bench-pods.yaml');
  writeFileSync(file, manifest(pods));
  const r = spawnSync(
    'nsenter',
    [`--net=/var/run/netns/${w.nodeNs}`, 'kubectl', '--kubeconfig', kubeconfig, 'apply', '-f', file],
    { encoding: 'utf8', timeout: 120_000 },
  );
  if (r.status !== 0) throw new Error(`kubectl apply: ${r.stdout}${r.stderr}`);
  return {
    kubeconfig,
    pods,
    cniArgs: (i) => `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pods[i]!.namespace};K8S_POD_NAME=${pods[i]!.name}`,
  };
}
