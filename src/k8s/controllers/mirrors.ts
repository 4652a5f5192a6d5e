// The three one-to-one controllers of calico-kube-controllers: namespace (kns. Profiles), serviceaccount (ksa.
// Profiles) and policy (knp.default. NetworkPolicies), as MirrorDefinitions over the pure converters.
import type { KubernetesNetworkPolicy, Namespace, ServiceAccount } from '../../api/k8s/types.js';
import {
  K8S_POLICY_PREFIX,
  NAMESPACE_PROFILE_PREFIX,
  SERVICE_ACCOUNT_PROFILE_PREFIX,
  namespaceToProfile,
  networkPolicyToCalico,
  serviceAccountToProfile,
} from '../convert/index.js';
import type { MirrorDefinition } from './mirror.js';

export const namespaceMirror: MirrorDefinition<Namespace> = {
  name: 'namespace',
  calicoKind: 'Profile',
  convert: (ns, log) => {
    const dropped: string[] = [];
    const profile = namespaceToProfile(ns, dropped);
    if (dropped.length) log.warn({ namespace: ns.metadata.name, dropped }, 'namespace labels too long for pcns. keys');
    return profile;
  },
  owns: (r) => r.metadata.name.startsWith(NAMESPACE_PROFILE_PREFIX),
};

export const serviceAccountMirror: MirrorDefinition<ServiceAccount> = {
  name: 'serviceaccount',
  calicoKind: 'Profile',
  convert: (sa, log) => {
    const dropped: string[] = [];
    const profile = serviceAccountToProfile(sa, dropped);
    if (dropped.length) {
      log.warn(
        { serviceAccount: `${sa.metadata.namespace}/${sa.metadata.name}`, dropped },
        'labels too long for pcsa. keys',
      );
    }
    return profile;
  },
  owns: (r) => r.metadata.name.startsWith(SERVICE_ACCOUNT_PROFILE_PREFIX),
};

export const policyMirror: MirrorDefinition<KubernetesNetworkPolicy> = {
  name: 'policy',
  calicoKind: 'NetworkPolicy',
  convert: (np, log) => {
    const { policy, problems } = networkPolicyToCalico(np);
    for (const p of problems) {
      log.warn({ policy: `${np.metadata.namespace}/${np.metadata.name}` }, `NetworkPolicy rule not converted: ${p}`);
    }
    return policy;
  },
  owns: (r) => r.metadata.name.startsWith(K8S_POLICY_PREFIX),
};
