// Pod -> the labels its WorkloadEndpoints carry (policy.md §1.4): the pod's labels plus namespace, orchestrator and
// (for names shorter than 63 characters) service account; Calico's labels win over a pod label of the same key.
import type { Pod } from '../../api/k8s/types.js';
import { K8S_ORCHESTRATOR, NAMESPACE_LABEL, ORCHESTRATOR_LABEL, SERVICE_ACCOUNT_LABEL } from './selector.js';

/** Service accounts with longer names get no label (Calico keeps label values within 63 characters). */
const MAX_SERVICE_ACCOUNT_LABEL = 63;

export function podServiceAccount(pod: Pod): string | undefined {
  return pod.spec?.serviceAccountName || pod.spec?.serviceAccount || undefined;
}

export function podWorkloadEndpointLabels(pod: Pod): Record<string, string> {
  const labels: Record<string, string> = { ...(pod.metadata.labels ?? {}) };
  labels[NAMESPACE_LABEL] = pod.metadata.namespace ?? 'default';
  labels[ORCHESTRATOR_LABEL] = K8S_ORCHESTRATOR;
  const sa = podServiceAccount(pod);
  if (sa && sa.length < MAX_SERVICE_ACCOUNT_LABEL) labels[SERVICE_ACCOUNT_LABEL] = sa;
  return labels;
}
