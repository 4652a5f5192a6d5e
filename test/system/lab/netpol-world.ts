// The upstream Kubernetes netpol e2e world: namespaces x, y, z labelled ns=<name>; pods a, b, c labelled pod=<name>,
// each serving 80 and 81 over TCP and UDP on ports named serve-<port>-<proto>. Expectations are written as the
// upstream suite writes them (a Reachability with a default and exceptions), from Kubernetes' documented semantics.
import type { Matrix } from '../../../src/lab/matrix.js';

export const NAMESPACES = ['x', 'y', 'z'] as const;
export const POD_NAMES = ['a', 'b', 'c'] as const;
export type PodKey = string; // "x/a"
export const ALL_PODS: PodKey[] = NAMESPACES.flatMap((ns) => POD_NAMES.map((p) => `${ns}/${p}`));

export interface Probe {
  port: number;
  protocol: 'TCP' | 'UDP';
}

export const nsOf = (k: PodKey): string => k.split('/')[0]!;
export const podOf = (k: PodKey): string => k.split('/')[1]!;

export function worldYaml(): string {
  const docs: object[] = [];
  for (const ns of NAMESPACES)
    docs.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ns } } });
  for (const ns of NAMESPACES) for (const pod of POD_NAMES) docs.push(podLabels(`${ns}/${pod}`, { pod }));
  return toYaml(docs);
}

/** JSON documents are YAML documents: one per `---`. */
export const toYaml = (docs: object[]): string => docs.map((d) => JSON.stringify(d)).join('\n---\n') + '\n';

export function matrixOf(reach: (from: PodKey, to: PodKey) => boolean): Matrix {
  return Object.fromEntries(ALL_PODS.map((f) => [f, Object.fromEntries(ALL_PODS.map((t) => [t, reach(f, t)]))]));
}

export const networkPolicy = (namespace: string, name: string, spec: object) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace },
  spec,
});

export const podSel = (labels: Record<string, string>) => ({ matchLabels: labels });
export const nsLabels = (ns: string, labels: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: ns, labels },
});
/** A pod of the world (a/b/c serving 80 and 81 over TCP and UDP) with the given labels. */
export const podLabels = (key: PodKey, labels: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: podOf(key), namespace: nsOf(key), labels },
  spec: {
    containers: [
      {
        name: 'server',
        image: 'agnhost',
        ports: [80, 81].flatMap((port) =>
          (['TCP', 'UDP'] as const).map((protocol) => ({
            containerPort: port,
            protocol,
            name: `serve-${port}-${protocol.toLowerCase()}`,
          })),
        ),
      },
    ],
  },
});
