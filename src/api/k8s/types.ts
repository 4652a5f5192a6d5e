// Kubernetes input kinds that Calico reads (Namespace, Pod, ServiceAccount, Node, networking.k8s.io/v1
// NetworkPolicy): types and field tables. NetworkPolicy is checked strictly; for the others only the parts Calico
// reads are described and any other field is kept as is.
import {
  anything,
  bool,
  int,
  intOrStr,
  list,
  obj,
  oneOf,
  required,
  str,
  stringList,
  stringMap,
  type FieldTable,
  type FieldsOf,
} from '../schema.js';
import { metadataFields } from '../v3/common.js';
import type { ObjectMeta } from '../resource.js';

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, any>;
  status?: Record<string, any>;
  [extra: string]: unknown;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface NetworkPolicyPort {
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  port?: number | string;
  endPort?: number;
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface KubernetesNetworkPolicySpec {
  podSelector: LabelSelector;
  ingress?: { from?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
  egress?: { to?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
  policyTypes?: ('Ingress' | 'Egress')[];
}

export interface KubernetesNetworkPolicy extends KubernetesObject {
  spec: KubernetesNetworkPolicySpec;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  hostPort?: number;
  hostIP?: string;
}

export interface Pod extends KubernetesObject {
  spec: {
    nodeName?: string;
    serviceAccountName?: string;
    serviceAccount?: string;
    hostNetwork?: boolean;
    containers: { name: string; ports?: ContainerPort[]; [k: string]: unknown }[];
    initContainers?: { name: string; ports?: ContainerPort[]; [k: string]: unknown }[];
    [k: string]: unknown;
  };
  status?: { phase?: string; podIP?: string; podIPs?: { ip: string }[]; [k: string]: unknown };
}

export interface Namespace extends KubernetesObject {
  spec?: { finalizers?: string[] };
  status?: { phase?: string };
}

export interface ServiceAccount extends KubernetesObject {
  secrets?: { name?: string; namespace?: string }[];
  imagePullSecrets?: { name?: string }[];
  automountServiceAccountToken?: boolean;
}

export interface KubernetesNode extends KubernetesObject {
  spec?: { podCIDR?: string; podCIDRs?: string[]; providerID?: string; unschedulable?: boolean; [k: string]: unknown };
  status?: { addresses?: { type: string; address: string }[]; [k: string]: unknown };
}

export const labelSelectorFields = {
  matchLabels: stringMap,
  matchExpressions: list(
    obj({
      key: required(str('labelKey')),
      operator: required(oneOf(['In', 'NotIn', 'Exists', 'DoesNotExist'])),
      values: stringList,
    }),
  ),
} satisfies FieldsOf<LabelSelector>;

const peer = obj({
  podSelector: obj(labelSelectorFields),
  namespaceSelector: obj(labelSelectorFields),
  ipBlock: obj({ cidr: required(str()), except: stringList }),
});
const npPorts = list(obj({ protocol: oneOf(['TCP', 'UDP', 'SCTP']), port: intOrStr(), endPort: int() }));

export const kubernetesNetworkPolicySpecFields = {
  podSelector: obj(labelSelectorFields),
  ingress: list(obj({ from: list(peer), ports: npPorts })),
  egress: list(obj({ to: list(peer), ports: npPorts })),
  policyTypes: list(oneOf(['Ingress', 'Egress'])),
} satisfies FieldsOf<KubernetesNetworkPolicySpec>;

const containerPorts = list(
  obj({
    name: str(),
    containerPort: required(int()),
    protocol: oneOf(['TCP', 'UDP', 'SCTP']),
    hostPort: int(),
    hostIP: str(),
  }),
);
const container = obj({ name: required(str()), ports: containerPorts }, { open: true });

/** Top-level fields (besides apiVersion/kind/metadata) per Kubernetes kind. */
export const KUBERNETES_KINDS: Readonly<
  Record<string, { apiVersion: string; namespaced: boolean; fields: FieldTable }>
> = {
  Namespace: {
    apiVersion: 'v1',
    namespaced: false,
    fields: { spec: obj({ finalizers: stringList }), status: obj({}, { open: true }) },
  },
  Pod: {
    apiVersion: 'v1',
    namespaced: true,
    fields: {
      spec: obj(
        {
          nodeName: str(),
          serviceAccountName: str(),
          serviceAccount: str(),
          hostNetwork: bool,
          containers: required(list(container)),
          initContainers: list(container),
        },
        { open: true },
      ),
      status: obj({ phase: str(), podIP: str(), podIPs: list(obj({ ip: str() })) }, { open: true }),
    },
  },
  ServiceAccount: {
    apiVersion: 'v1',
    namespaced: true,
    fields: {
      secrets: list(anything),
      imagePullSecrets: list(anything),
      automountServiceAccountToken: bool,
    },
  },
  Node: {
    apiVersion: 'v1',
    namespaced: false,
    fields: {
      spec: obj({ podCIDR: str(), podCIDRs: stringList, providerID: str(), unschedulable: bool }, { open: true }),
      status: obj({ addresses: list(obj({ type: str(), address: str() })) }, { open: true }),
    },
  },
  NetworkPolicy: {
    apiVersion: 'networking.k8s.io/v1',
    namespaced: true,
    fields: { spec: obj(kubernetesNetworkPolicySpecFields), status: obj({}, { open: true }) },
  },
};

export const kubernetesMetadataFields = metadataFields;
