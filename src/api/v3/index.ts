// The catalogue of projectcalico.org/v3 kinds: a typed alias per kind and, per kind, the field tables of its
// spec and status that drive unknown-field and type checks.
import type { Resource } from '../resource.js';
import type { FieldTable } from '../schema.js';
import { bgpConfigurationSpecFields, bgpFilterSpecFields, bgpPeerSpecFields } from './bgp.js';
import type { BGPConfigurationSpec, BGPFilterSpec, BGPPeerSpec } from './bgp.js';
import {
  clusterInformationSpecFields,
  kubeControllersConfigurationSpecFields,
  kubeControllersConfigurationStatusFields,
} from './cluster.js';
import type { ClusterInformationSpec, KubeControllersConfigurationSpec } from './cluster.js';
import {
  globalNetworkSetSpecFields,
  hostEndpointSpecFields,
  networkSetSpecFields,
  profileSpecFields,
  workloadEndpointSpecFields,
} from './endpoints.js';
import type { HostEndpointSpec, NetworkSetSpec, ProfileSpec, WorkloadEndpointSpec } from './endpoints.js';
import { felixConfigurationSpecFields } from './felix.js';
import type { FelixConfigurationSpec } from './felix.js';
import {
  blockAffinitySpecFields,
  ipamConfigurationSpecFields,
  ipPoolSpecFields,
  ipPoolStatusFields,
  ipReservationSpecFields,
} from './ipam.js';
import type { BlockAffinitySpec, IPAMConfigurationSpec, IPPoolSpec, IPReservationSpec } from './ipam.js';
import { nodeSpecFields, nodeStatusFields } from './node.js';
import type { NodeSpec } from './node.js';
import {
  globalNetworkPolicySpecFields,
  networkPolicySpecFields,
  stagedGlobalNetworkPolicySpecFields,
  stagedKubernetesNetworkPolicySpecFields,
  stagedNetworkPolicySpecFields,
  tierSpecFields,
} from './policy.js';
import type {
  GlobalNetworkPolicySpec,
  NetworkPolicySpec,
  StagedGlobalNetworkPolicySpec,
  StagedKubernetesNetworkPolicySpec,
  StagedNetworkPolicySpec,
  TierSpec,
} from './policy.js';

export type IPPool = Resource<IPPoolSpec>;
export type IPReservation = Resource<IPReservationSpec>;
export type IPAMConfiguration = Resource<IPAMConfigurationSpec>;
export type BlockAffinity = Resource<BlockAffinitySpec>;
export type CalicoNode = Resource<NodeSpec>;
export type BGPConfiguration = Resource<BGPConfigurationSpec>;
export type BGPPeer = Resource<BGPPeerSpec>;
export type BGPFilter = Resource<BGPFilterSpec>;
export type FelixConfiguration = Resource<FelixConfigurationSpec>;
export type NetworkPolicy = Resource<NetworkPolicySpec>;
export type GlobalNetworkPolicy = Resource<GlobalNetworkPolicySpec>;
export type StagedNetworkPolicy = Resource<StagedNetworkPolicySpec>;
export type StagedGlobalNetworkPolicy = Resource<StagedGlobalNetworkPolicySpec>;
export type StagedKubernetesNetworkPolicy = Resource<StagedKubernetesNetworkPolicySpec>;
export type Tier = Resource<TierSpec>;
export type NetworkSet = Resource<NetworkSetSpec>;
export type GlobalNetworkSet = Resource<NetworkSetSpec>;
export type HostEndpoint = Resource<HostEndpointSpec>;
export type WorkloadEndpoint = Resource<WorkloadEndpointSpec>;
export type Profile = Resource<ProfileSpec>;
export type KubeControllersConfiguration = Resource<KubeControllersConfigurationSpec>;
export type ClusterInformation = Resource<ClusterInformationSpec>;

/** Spec type per kind name, for callers that switch on `kind`. */
export interface SpecByKind {
  IPPool: IPPoolSpec;
  IPReservation: IPReservationSpec;
  IPAMConfiguration: IPAMConfigurationSpec;
  BlockAffinity: BlockAffinitySpec;
  Node: NodeSpec;
  BGPConfiguration: BGPConfigurationSpec;
  BGPPeer: BGPPeerSpec;
  BGPFilter: BGPFilterSpec;
  FelixConfiguration: FelixConfigurationSpec;
  NetworkPolicy: NetworkPolicySpec;
  GlobalNetworkPolicy: GlobalNetworkPolicySpec;
  StagedNetworkPolicy: StagedNetworkPolicySpec;
  StagedGlobalNetworkPolicy: StagedGlobalNetworkPolicySpec;
  StagedKubernetesNetworkPolicy: StagedKubernetesNetworkPolicySpec;
  Tier: TierSpec;
  NetworkSet: NetworkSetSpec;
  GlobalNetworkSet: NetworkSetSpec;
  HostEndpoint: HostEndpointSpec;
  WorkloadEndpoint: WorkloadEndpointSpec;
  Profile: ProfileSpec;
  KubeControllersConfiguration: KubeControllersConfigurationSpec;
  ClusterInformation: ClusterInformationSpec;
}

export type CalicoKind = keyof SpecByKind;
export type CalicoResource = { [K in CalicoKind]: Resource<SpecByKind[K]> & { kind: K } }[CalicoKind];

export interface KindSchema {
  spec: FieldTable;
  /** Status fields; absent = status is Calico-managed and not checked. */
  status?: FieldTable;
}

export const KIND_SCHEMAS: Readonly<Record<CalicoKind, KindSchema>> = {
  IPPool: { spec: ipPoolSpecFields, status: ipPoolStatusFields },
  IPReservation: { spec: ipReservationSpecFields },
  IPAMConfiguration: { spec: ipamConfigurationSpecFields },
  BlockAffinity: { spec: blockAffinitySpecFields },
  Node: { spec: nodeSpecFields, status: nodeStatusFields },
  BGPConfiguration: { spec: bgpConfigurationSpecFields },
  BGPPeer: { spec: bgpPeerSpecFields },
  BGPFilter: { spec: bgpFilterSpecFields },
  FelixConfiguration: { spec: felixConfigurationSpecFields },
  NetworkPolicy: { spec: networkPolicySpecFields },
  GlobalNetworkPolicy: { spec: globalNetworkPolicySpecFields },
  StagedNetworkPolicy: { spec: stagedNetworkPolicySpecFields },
  StagedGlobalNetworkPolicy: { spec: stagedGlobalNetworkPolicySpecFields },
  StagedKubernetesNetworkPolicy: { spec: stagedKubernetesNetworkPolicySpecFields },
  Tier: { spec: tierSpecFields },
  NetworkSet: { spec: networkSetSpecFields },
  GlobalNetworkSet: { spec: globalNetworkSetSpecFields },
  HostEndpoint: { spec: hostEndpointSpecFields },
  WorkloadEndpoint: { spec: workloadEndpointSpecFields },
  Profile: { spec: profileSpecFields },
  KubeControllersConfiguration: {
    spec: kubeControllersConfigurationSpecFields,
    status: kubeControllersConfigurationStatusFields,
  },
  ClusterInformation: { spec: clusterInformationSpecFields },
};

export const isCalicoKind = (kind: string): kind is CalicoKind => Object.hasOwn(KIND_SCHEMAS, kind);

export * from './common.js';
export * from './ipam.js';
export * from './node.js';
export * from './bgp.js';
export * from './felix.js';
export * from './policy.js';
export * from './endpoints.js';
export * from './cluster.js';
