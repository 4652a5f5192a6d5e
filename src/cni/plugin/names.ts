// Calico's names for a workload (cni.md §B.4): WorkloadEndpoint name, host veth name and IPAM handle ID. Pure.
import { createHash } from 'node:crypto';

const escapeSegment = (s: string): string => s.replace(/-/g, '--');

/** `<node>-<orch>-<workload>-<endpoint>` with every `-` inside a segment doubled. */
export function workloadEndpointName(node: string, orchestrator: string, workload: string, endpoint: string): string {
  for (const [what, v] of Object.entries({ node, orchestrator, workload, endpoint })) {
    if (!v) throw new Error(`workload endpoint name: ${what} is empty`);
  }
  return [node, orchestrator, workload, endpoint].map(escapeSegment).join('-');
}

/** Kubernetes pods: prefix + first 11 hex characters of sha1("<namespace>.<pod>"). */
export function k8sHostVethName(namespace: string, pod: string, prefix = 'cali'): string {
  return prefix + createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11);
}

/** Other orchestrators: `cali` + the first 11 characters of the container ID as given. */
export const cniHostVethName = (containerId: string): string => 'cali' + containerId.slice(0, 11);

export const ipamHandleId = (network: string, containerId: string): string => `${network}.${containerId}`;
