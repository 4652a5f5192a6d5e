// Namespace -> Profile `kns.<ns>` and ServiceAccount -> Profile `ksa.<ns>.<sa>`, as Calico's namespace and service
// account converters build them: the source's labels become `pcns.`/`pcsa.` labelsToApply plus a name label;
// namespace profiles allow all traffic both ways (so pods no policy selects stay reachable).
import { CALICO_API_VERSION } from '../../api/resource.js';
import type { Namespace, ServiceAccount } from '../../api/k8s/types.js';
import type { Profile } from '../../api/v3/index.js';
import { labelKeyProblem } from '../../api/names.js';

export const NAMESPACE_PROFILE_PREFIX = 'kns.';
export const SERVICE_ACCOUNT_PROFILE_PREFIX = 'ksa.';
export const NAMESPACE_LABEL_PREFIX = 'pcns.';
export const SERVICE_ACCOUNT_LABEL_PREFIX = 'pcsa.';
/** Label (under the prefixes above) carrying the source object's name. */
export const PROFILE_NAME_LABEL = 'projectcalico.org/name';

export const namespaceProfileName = (namespace: string): string => NAMESPACE_PROFILE_PREFIX + namespace;
export const serviceAccountProfileName = (namespace: string, name: string): string =>
  `${SERVICE_ACCOUNT_PROFILE_PREFIX}${namespace}.${name}`;

/**
 * The source's labels under the prefix. A key the prefix makes invalid (an unprefixed key of 59+ characters) is left
 * out and named in `dropped`: the datastore would refuse the whole profile, and with it the namespace's allow rules.
 */
function prefixed(
  prefix: string,
  labels: Record<string, string> | undefined,
  name: string,
  dropped?: string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (labelKeyProblem(prefix + k)) dropped?.push(k);
    else out[prefix + k] = v;
  }
  out[prefix + PROFILE_NAME_LABEL] = name;
  return out;
}

export function namespaceToProfile(ns: Namespace, dropped?: string[]): Profile {
  const name = ns.metadata.name;
  return {
    apiVersion: CALICO_API_VERSION,
    kind: 'Profile',
    metadata: { name: namespaceProfileName(name) },
    spec: {
      ingress: [{ action: 'Allow' }],
      egress: [{ action: 'Allow' }],
      labelsToApply: prefixed(NAMESPACE_LABEL_PREFIX, ns.metadata.labels, name, dropped),
    },
  };
}

export function serviceAccountToProfile(sa: ServiceAccount, dropped?: string[]): Profile {
  const { name, namespace = 'default' } = sa.metadata;
  return {
    apiVersion: CALICO_API_VERSION,
    kind: 'Profile',
    metadata: { name: serviceAccountProfileName(namespace, name) },
    spec: { labelsToApply: prefixed(SERVICE_ACCOUNT_LABEL_PREFIX, sa.metadata.labels, name, dropped) },
  };
}
