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
