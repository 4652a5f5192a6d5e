// What the plugin takes from a Kubernetes Pod and its Namespace (cni.md §B.5 steps 10-17, §B.9): labels,
// service account, named ports, and the cni.projectcalico.org annotations parsed and validated. Pure.
import type { KubeObject } from './client.js';

export const ANNOTATION = {
  ipv4pools: 'cni.projectcalico.org/ipv4pools',
  ipv6pools: 'cni.projectcalico.org/ipv6pools',
  ipFamilies: 'cni.projectcalico.org/ipFamilies',
  ipAddrs: 'cni.projectcalico.org/ipAddrs',
  ipAddrsNoIpam: 'cni.projectcalico.org/ipAddrsNoIpam',
  floatingIPs: 'cni.projectcalico.org/floatingIPs',
  hwAddr: 'cni.projectcalico.org/hwAddr',
  allowedSourcePrefixes: 'cni.projectcalico.org/allowedSourcePrefixes',
} as const;

export interface PodPort {
  name: string;
  protocol: string;
  port: number;
  hostPort?: number;
  hostIP?: string;
}

export interface PodInfo {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  namespaceAnnotations: Record<string, string>;
  /** The Namespace's labels (IP pools' namespaceSelector, in calico-ipam). */
  namespaceLabels: Record<string, string>;
  serviceAccountName: string;
  generateName?: string;
  ports: PodPort[];
}

const WEP_PROTOCOL: Record<string, string> = { '': 'tcp', TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

export function podInfo(pod: KubeObject, namespace: KubeObject | undefined): PodInfo {
  const ports: PodPort[] = [];
  for (const c of (pod.spec?.containers ?? []) as { ports?: Record<string, any>[] }[]) {
    for (const p of c.ports ?? []) {
      if (!p.containerPort || (!p.name && !p.hostPort)) continue;
      // Calico's conversion: lower-case tcp (also for an empty protocol), udp, sctp; any other port is left out.
      const protocol = WEP_PROTOCOL[String(p.protocol ?? '')];
      if (!protocol) continue;
      const port: PodPort = {
        name: p.name ?? '',
        protocol,
        port: Number(p.containerPort),
      };
      if (p.hostPort) port.hostPort = Number(p.hostPort);
      if (p.hostIP) port.hostIP = String(p.hostIP);
      ports.push(port);
    }
  }
  return {
    labels: { ...(pod.metadata.labels ?? {}) },
    annotations: { ...(pod.metadata.annotations ?? {}) },
    namespaceAnnotations: { ...(namespace?.metadata.annotations ?? {}) },
    namespaceLabels: { ...(namespace?.metadata.labels ?? {}) },
    serviceAccountName: String(pod.spec?.serviceAccountName ?? pod.spec?.serviceAccount ?? 'default'),
    generateName: pod.metadata.generateName,
    ports,
  };
}

/** The pod annotations that decide what IPAM allocates (the plugin's rewrites of its config, and calico-ipam's own). */
export const IPAM_ANNOTATIONS: readonly string[] = [
  ANNOTATION.ipv4pools,
  ANNOTATION.ipv6pools,
  ANNOTATION.ipFamilies,
  ANNOTATION.ipAddrs,
  ANNOTATION.ipAddrsNoIpam,
];

/** What IPAM is given for a pod not read yet: its namespace as known, and no annotations of its own. */
export function provisionalPodInfo(namespace: KubeObject): PodInfo {
  return podInfo({ metadata: { name: '' } }, namespace);
}

/**
 * True when IPAM given `pod` allocates exactly as given `provisional` (provisionalPodInfo): the pod carries none of
 * the IPAM annotations and its namespace's labels and annotations are those the provisional one had.
 */
export function sameIpamInputs(provisional: PodInfo, pod: PodInfo): boolean {
  if (IPAM_ANNOTATIONS.some((a) => pod.annotations[a] !== undefined)) return false;
  const same = (x: Record<string, string>, y: Record<string, string>) =>
    Object.keys(x).length === Object.keys(y).length && Object.entries(x).every(([k, v]) => y[k] === v);
  return (
    same(provisional.namespaceLabels, pod.namespaceLabels) &&
    same(provisional.namespaceAnnotations, pod.namespaceAnnotations)
  );
}

/** A JSON list of strings in an annotation; the error names the annotation. */
export function annotationList(annotations: Record<string, string>, name: string): string[] | undefined {
  const raw = annotations[name];
  if (raw === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new Error(`failed to parse annotation ${name}=${JSON.stringify(raw)}: not a JSON list`);
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new Error(`annotation ${name}=${JSON.stringify(raw)}: must be a JSON list of strings`);
  }
  return v as string[];
}
