// The Calico Node kind (one per host): BGP addresses, tunnel addresses, orchestrator references — type and fields.
import { intOrStr, list, obj, oneOf, required, str, stringList, type FieldsOf } from '../schema.js';
import type { ASNumber } from './common.js';

export interface NodeBGPSpec {
  asNumber?: ASNumber;
  ipv4Address?: string;
  ipv6Address?: string;
  ipv4IPIPTunnelAddr?: string;
  routeReflectorClusterID?: string;
}

export type NodeAddressType = 'CalicoNodeIP' | 'InternalIP' | 'ExternalIP';

export interface NodeSpec {
  bgp?: NodeBGPSpec;
  ipv4VXLANTunnelAddr?: string;
  vxlanTunnelMACAddr?: string;
  ipv6VXLANTunnelAddr?: string;
  vxlanTunnelMACAddrV6?: string;
  orchRefs?: { orchestrator: string; nodeName?: string }[];
  wireguard?: { interfaceIPv4Address?: string; interfaceIPv6Address?: string };
  addresses?: { address: string; type?: NodeAddressType }[];
  interfaces?: { name: string; addresses?: string[] }[];
}

export interface NodeStatus {
  wireguardPublicKey?: string;
  wireguardPublicKeyV6?: string;
  podCIDRs?: string[];
}

export const nodeSpecFields = {
  bgp: obj({
    asNumber: intOrStr('asNumber'),
    ipv4Address: str('ipv4Cidr'),
    ipv6Address: str('ipv6Cidr'),
    ipv4IPIPTunnelAddr: str('ipv4'),
    routeReflectorClusterID: str('ipv4'),
  }),
  ipv4VXLANTunnelAddr: str('ipv4'),
  vxlanTunnelMACAddr: str('mac'),
  ipv6VXLANTunnelAddr: str('ipv6'),
  vxlanTunnelMACAddrV6: str('mac'),
  orchRefs: list(obj({ orchestrator: required(str()), nodeName: str() })),
  wireguard: obj({ interfaceIPv4Address: str('ipv4'), interfaceIPv6Address: str('ipv6') }),
  addresses: list(obj({ address: required(str('cidr')), type: oneOf(['CalicoNodeIP', 'InternalIP', 'ExternalIP']) })),
  interfaces: list(obj({ name: required(str()), addresses: stringList })),
} satisfies FieldsOf<NodeSpec>;

export const nodeStatusFields = {
  wireguardPublicKey: str(),
  wireguardPublicKeyV6: str(),
  podCIDRs: list(str('cidr')),
} satisfies FieldsOf<NodeStatus>;
