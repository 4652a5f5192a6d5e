// Name rules of projectcalico.org/v3 (libcalico-go's validator) and Kubernetes label syntax, plus Calico's
// WorkloadEndpoint name format (`<node>-k8s-<pod>-<iface>`, every '-' inside a part doubled).

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const SUBDOMAIN = `${LABEL}(\\.${LABEL})*`;
const LABEL_RE = new RegExp(`^${LABEL}$`);
const SUBDOMAIN_RE = new RegExp(`^${SUBDOMAIN}$`);
const NETWORK_POLICY_NAME_RE = new RegExp(`^((${LABEL})(\\.${LABEL})?|((knp|ossg)\\.default\\.(${SUBDOMAIN})))$`);
const GLOBAL_POLICY_NAME_RE = new RegExp(`^(${LABEL}\\.)?${LABEL}$`);
const QUALIFIED_NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const CONTAINER_ID_RE = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

export const DNS1123_LABEL_MAX = 63;
export const DNS1123_SUBDOMAIN_MAX = 253;

export const isDns1123Label = (s: string): boolean => s.length <= DNS1123_LABEL_MAX && LABEL_RE.test(s);
export const isDns1123Subdomain = (s: string): boolean => s.length <= DNS1123_SUBDOMAIN_MAX && SUBDOMAIN_RE.test(s);
export const isContainerID = (s: string): boolean => CONTAINER_ID_RE.test(s);

/** Why a resource name is not valid for its kind, or undefined. */
export function nameProblem(kind: string, name: string): string | undefined {
  if (name.length > DNS1123_SUBDOMAIN_MAX) {
    return `name is too long by ${name.length - DNS1123_SUBDOMAIN_MAX} characters (at most ${DNS1123_SUBDOMAIN_MAX})`;
  }
  switch (kind) {
    case 'Tier':
      if (name.length > DNS1123_LABEL_MAX) {
        return `tier name is too long by ${name.length - DNS1123_LABEL_MAX} characters (at most ${DNS1123_LABEL_MAX})`;
      }
      return LABEL_RE.test(name)
        ? undefined
        : `invalid tier name ${JSON.stringify(name)}: lower-case letters, digits and '-' only (no dots), starting and ending with a letter or digit`;
    case 'NetworkPolicy':
    case 'StagedNetworkPolicy':
      return NETWORK_POLICY_NAME_RE.test(name)
        ? undefined
        : `invalid policy name ${JSON.stringify(name)}: a DNS-1123 label, optionally "<tier>.<name>", or "knp.default.<name>"/"ossg.default.<name>"`;
    case 'GlobalNetworkPolicy':
    case 'StagedGlobalNetworkPolicy':
      return GLOBAL_POLICY_NAME_RE.test(name)
        ? undefined
        : `invalid policy name ${JSON.stringify(name)}: a DNS-1123 label, optionally prefixed "<tier>."`;
    default:
      return SUBDOMAIN_RE.test(name)
        ? undefined
        : `invalid name ${JSON.stringify(name)}: lower-case letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit`;
  }
}

export const K8S_POLICY_PREFIX = 'knp.default.';

/**
 * Names a user may not write (calicoctl refuses them): converted Kubernetes policies are managed through the
 * Kubernetes API, by kube-controllers.
 */
export function userReservedNameProblem(kind: string, name: string): string | undefined {
  if ((kind === 'NetworkPolicy' || kind === 'StagedNetworkPolicy') && name.startsWith(K8S_POLICY_PREFIX)) {
    return `names starting "${K8S_POLICY_PREFIX}" are reserved: Kubernetes network policies must be managed through the Kubernetes API`;
  }
  return undefined;
}

/** Kubernetes qualified name (label and annotation keys): `[prefix/]name`, prefix a DNS subdomain, name <= 63. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) {
    return `invalid key ${JSON.stringify(key)}: the prefix before '/' must be a DNS subdomain (lower-case, digits, '-', '.')`;
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME_RE.test(name)) {
    return `invalid key ${JSON.stringify(key)}: the name part must be 1-63 characters of [A-Za-z0-9-_.], starting and ending with a letter or digit`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !QUALIFIED_NAME_RE.test(value)) {
    return `invalid label value ${JSON.stringify(value)}: at most 63 characters of [A-Za-z0-9-_.], starting and ending with a letter or digit`;
  }
  return undefined;
}

/** The identifiers a WorkloadEndpoint name is built from (cni.md §B.4). */
export interface WorkloadEndpointIds {
  node: string;
  orchestrator: string;
  /** Kubernetes pod name (orchestrator k8s) — or `workload` for other orchestrators (containerID for `cni`). */
  workload: string;
  endpoint: string;
}

const escapePart = (s: string): string => s.replace(/-/g, '--');

/** Calico's WorkloadEndpoint name: the four parts joined by '-', each part's own '-' doubled. */
export function workloadEndpointName(ids: WorkloadEndpointIds): string {
  return [ids.node, ids.orchestrator, ids.workload, ids.endpoint].map(escapePart).join('-');
}

/** Reason a part cannot be used in a WorkloadEndpoint name, or undefined. */
export function workloadEndpointPartProblem(part: string): string | undefined {
  if (part.startsWith('-') || part.endsWith('-')) return `${JSON.stringify(part)} must not begin or end with '-'`;
  return undefined;
}
