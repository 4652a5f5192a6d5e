// Kubernetes label selectors -> Calico selector expressions, in the exact text libcalico-go's converter produces
// (policy.md §6): matchLabels sorted by key, then matchExpressions in order, joined with ` && `.
import type { LabelSelector } from '../../api/k8s/types.js';

export const ORCHESTRATOR_LABEL = 'projectcalico.org/orchestrator';
export const NAMESPACE_LABEL = 'projectcalico.org/namespace';
export const SERVICE_ACCOUNT_LABEL = 'projectcalico.org/serviceaccount';
export const K8S_ORCHESTRATOR = 'k8s';
/** The term every converted pod selector starts with. */
export const ORCHESTRATOR_TERM = `${ORCHESTRATOR_LABEL} == '${K8S_ORCHESTRATOR}'`;

/** Terms of a label selector (no orchestrator term); an absent or empty selector has none. */
function selectorTerms(s: LabelSelector): string[] {
  const terms: string[] = [];
  const labels = s.matchLabels ?? {};
  for (const key of Object.keys(labels).sort()) terms.push(`${key} == '${labels[key]}'`);
  for (const e of s.matchExpressions ?? []) {
    const values = (e.values ?? []).join("', '");
    switch (e.operator) {
      case 'In':
        terms.push(`${e.key} in { '${values}' }`);
        break;
      case 'NotIn':
        terms.push(`${e.key} not in { '${values}' }`);
        break;
      case 'Exists':
        terms.push(`has(${e.key})`);
        break;
      case 'DoesNotExist':
        terms.push(`! has(${e.key})`);
        break;
    }
  }
  return terms;
}

/** A pod selector: the orchestrator term, then the selector's terms. An absent selector gives just the first. */
export function podSelectorToCalico(s: LabelSelector | undefined | null): string {
  return [ORCHESTRATOR_TERM, ...(s ? selectorTerms(s) : [])].join(' && ');
}

/** A namespace selector: '' when absent, `all()` when present but empty (every namespace), else its terms. */
export function namespaceSelectorToCalico(s: LabelSelector | undefined | null): string {
  if (!s) return '';
  const terms = selectorTerms(s);
  return terms.length ? terms.join(' && ') : 'all()';
}
