// Who the pod is (cni.md §B.4): orchestrator, namespace and pod from CNI_ARGS, and the names derived from them —
// WorkloadEndpoint name, host veth, IPAM handle. Kubernetes when K8S_POD_NAMESPACE and K8S_POD_NAME are both given,
// else orchestrator `cni` named by the container ID.
import type { CniRequest } from '../skel/types.js';
import { cniHostVethName, ipamHandleId, k8sHostVethName, workloadEndpointName } from './names.js';

export interface WorkloadIdentity {
  orchestrator: 'k8s' | 'cni';
  node: string;
  namespace: string;
  pod?: string;
  /** k8s: the pod name; cni: the container ID. */
  workload: string;
  endpoint: string;
  wepName: string;
  hostVeth: string;
  handleId: string;
}

export function workloadIdentity(req: CniRequest, node: string, network: string): WorkloadIdentity {
  const ns = req.args.K8S_POD_NAMESPACE;
  const pod = req.args.K8S_POD_NAME;
  const handleId = ipamHandleId(network, req.containerId);
  if (ns && pod) {
    const prefix = (req.env.FELIX_INTERFACEPREFIX ?? '').split(',')[0] || 'cali';
    return {
      orchestrator: 'k8s',
      node,
      namespace: ns,
      pod,
      workload: pod,
      endpoint: req.ifName,
      wepName: workloadEndpointName(node, 'k8s', pod, req.ifName),
      hostVeth: k8sHostVethName(ns, pod, prefix),
      handleId,
    };
  }
  return {
    orchestrator: 'cni',
    node,
    namespace: 'default',
    workload: req.containerId,
    endpoint: req.ifName,
    wepName: workloadEndpointName(node, 'cni', req.containerId, req.ifName),
    hostVeth: cniHostVethName(req.containerId),
    handleId,
  };
}
