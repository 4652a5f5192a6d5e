// Endpoint and identity kinds: HostEndpoint, WorkloadEndpoint, Profile, NetworkSet and GlobalNetworkSet — types
// and field tables.
import { int, intOrStr, list, map, obj, required, str, type FieldsOf } from '../schema.js';
import { rulesField, type Protocol, type Rule } from './common.js';

export interface EndpointPort {
  name: string;
  protocol: Protocol;
  port: number;
}

export interface HostEndpointSpec {
  node: string;
  interfaceName?: string;
  expectedIPs?: string[];
  profiles?: string[];
  ports?: EndpointPort[];
}

export const hostEndpointSpecFields = {
  node: required(str('resourceName')),
  interfaceName: str('ifaceNameOrStar'),
  expectedIPs: list(str('ip')),
  profiles: list(str('resourceName')),
  ports: list(
    obj({ name: required(str('portName')), protocol: required(intOrStr('protocol')), port: required(int(1, 65535)) }),
  ),
} satisfies FieldsOf<HostEndpointSpec>;

export interface WorkloadEndpointPort {
  name?: string;
  protocol: Protocol;
  port: number;
  hostPort?: number;
  hostIP?: string;
}

export interface IPNAT {
  internalIP: string;
  externalIP: string;
}

export interface QoSControls {
  ingressBandwidth?: number;
  egressBandwidth?: number;
  ingressBurst?: number;
  egressBurst?: number;
  ingressPeakrate?: number;
  egressPeakrate?: number;
  ingressMinburst?: number;
  egressMinburst?: number;
  ingressPacketRate?: number;
  egressPacketRate?: number;
  ingressPacketBurst?: number;
  egressPacketBurst?: number;
  ingressMaxConnections?: number;
  egressMaxConnections?: number;
  dscp?: number | string;
}

export interface WorkloadEndpointSpec {
  orchestrator?: string;
  workload?: string;
  node?: string;
  containerID?: string;
  pod?: string;
  endpoint?: string;
  serviceAccountName?: string;
  ipNetworks?: string[];
  ipNATs?: IPNAT[];
  ipv4Gateway?: string;
  ipv6Gateway?: string;
  profiles?: string[];
  interfaceName?: string;
  mac?: string;
  ports?: WorkloadEndpointPort[];
  allowSpoofedSourcePrefixes?: string[];
  awsElasticIPs?: string[];
  qosControls?: QoSControls;
}

const qosInt = int(0);

export const workloadEndpointSpecFields = {
  orchestrator: str(),
  workload: str(),
  node: str('resourceName'),
  containerID: str(),
  pod: str(),
  endpoint: str(),
  serviceAccountName: str(),
  ipNetworks: list(str('cidr')),
  ipNATs: list(obj({ internalIP: required(str('ip')), externalIP: required(str('ip')) })),
  ipv4Gateway: str('ipv4'),
  ipv6Gateway: str('ipv6'),
  profiles: list(str('resourceName')),
  interfaceName: str('ifaceName'),
  mac: str('mac'),
  ports: list(
    obj({
      name: str('portName'),
      protocol: required(intOrStr('protocol')),
      port: required(int(1, 65535)),
      hostPort: int(0, 65535),
      hostIP: str('ip'),
    }),
  ),
  allowSpoofedSourcePrefixes: list(str('cidr')),
  awsElasticIPs: list(str('ipv4')),
  qosControls: obj({
    ingressBandwidth: qosInt,
    egressBandwidth: qosInt,
    ingressBurst: qosInt,
    egressBurst: qosInt,
    ingressPeakrate: qosInt,
    egressPeakrate: qosInt,
    ingressMinburst: qosInt,
    egressMinburst: qosInt,
    ingressPacketRate: qosInt,
    egressPacketRate: qosInt,
    ingressPacketBurst: qosInt,
    egressPacketBurst: qosInt,
    ingressMaxConnections: qosInt,
    egressMaxConnections: qosInt,
    dscp: intOrStr(),
  }),
} satisfies FieldsOf<WorkloadEndpointSpec>;

export interface ProfileSpec {
  ingress?: Rule[];
  egress?: Rule[];
  labelsToApply?: Record<string, string>;
}

export const profileSpecFields = {
  ingress: rulesField,
  egress: rulesField,
  labelsToApply: map(str()),
} satisfies FieldsOf<ProfileSpec>;

export interface NetworkSetSpec {
  nets?: string[];
}

export const networkSetSpecFields = { nets: list(str('cidr')) } satisfies FieldsOf<NetworkSetSpec>;
export const globalNetworkSetSpecFields = { nets: list(str('cidr')) } satisfies FieldsOf<NetworkSetSpec>;
