// BGP kinds: BGPConfiguration (cluster default and per-node), BGPPeer and BGPFilter — types and field tables.
import {
  bool,
  duration,
  int,
  intOrStr,
  list,
  obj,
  oneOf,
  required,
  selector,
  str,
  stringList,
  type FieldsOf,
} from '../schema.js';
import { secretKeyRefFields, type ASNumber, type SecretKeyRef } from './common.js';

export const LOG_SEVERITIES = ['Trace', 'Debug', 'Info', 'Warning', 'Error', 'Fatal', 'None'] as const;

export interface BGPConfigurationSpec {
  logSeverityScreen?: string;
  nodeToNodeMeshEnabled?: boolean;
  asNumber?: ASNumber;
  serviceClusterIPs?: { cidr: string }[];
  serviceExternalIPs?: { cidr: string }[];
  serviceLoadBalancerIPs?: { cidr: string }[];
  serviceLoadBalancerAggregation?: 'Enabled' | 'Disabled';
  listenPort?: number;
  bindMode?: 'None' | 'NodeIP';
  communities?: { name: string; value: string }[];
  prefixAdvertisements?: { cidr: string; communities?: string[] }[];
  nodeMeshPassword?: { secretKeyRef?: SecretKeyRef };
  nodeMeshMaxRestartTime?: string;
  ignoredInterfaces?: string[];
  localWorkloadPeeringIPV4?: string;
  localWorkloadPeeringIPV6?: string;
  programClusterRoutes?: string;
  ipv4NormalRoutePriority?: number;
  ipv6NormalRoutePriority?: number;
  ipv4ElevatedRoutePriority?: number;
  ipv6ElevatedRoutePriority?: number;
}

const serviceCidrs = list(obj({ cidr: required(str('cidr')) }));

export const bgpConfigurationSpecFields = {
  logSeverityScreen: oneOf(LOG_SEVERITIES, true),
  nodeToNodeMeshEnabled: bool,
  asNumber: intOrStr('asNumber'),
  serviceClusterIPs: serviceCidrs,
  serviceExternalIPs: serviceCidrs,
  serviceLoadBalancerIPs: serviceCidrs,
  serviceLoadBalancerAggregation: oneOf(['Enabled', 'Disabled']),
  listenPort: int(1, 65535),
  bindMode: oneOf(['None', 'NodeIP']),
  communities: list(obj({ name: required(str()), value: required(str('community')) })),
  prefixAdvertisements: list(obj({ cidr: required(str('cidr')), communities: stringList })),
  nodeMeshPassword: obj(secretKeyRefFields),
  nodeMeshMaxRestartTime: duration,
  ignoredInterfaces: stringList,
  localWorkloadPeeringIPV4: str('ipv4'),
  localWorkloadPeeringIPV6: str('ipv6'),
  programClusterRoutes: oneOf(['Enabled', 'Disabled', 'EnabledNoEncapOnly']),
  ipv4NormalRoutePriority: int(1, 2147483646),
  ipv6NormalRoutePriority: int(1, 2147483646),
  ipv4ElevatedRoutePriority: int(1, 2147483646),
  ipv6ElevatedRoutePriority: int(1, 2147483646),
} satisfies FieldsOf<BGPConfigurationSpec>;

export interface BGPPeerSpec {
  node?: string;
  nodeSelector?: string;
  peerIP?: string;
  peerSelector?: string;
  asNumber?: ASNumber;
  localASNumber?: ASNumber;
  keepOriginalNextHop?: boolean;
  nextHopMode?: 'Auto' | 'Self' | 'Keep';
  password?: { secretKeyRef?: SecretKeyRef };
  sourceAddress?: 'UseNodeIP' | 'None';
  maxRestartTime?: string;
  keepaliveTime?: string;
  numAllowedLocalASNumbers?: number;
  ttlSecurity?: number;
  reachableBy?: string;
  filters?: string[];
  localWorkloadSelector?: string;
  reversePeering?: 'Auto' | 'Manual';
}

export const bgpPeerSpecFields = {
  node: str('resourceName'),
  nodeSelector: selector,
  peerIP: str('peerIP'),
  peerSelector: selector,
  asNumber: intOrStr('asNumber'),
  localASNumber: intOrStr('asNumber'),
  keepOriginalNextHop: bool,
  nextHopMode: oneOf(['Auto', 'Self', 'Keep']),
  password: obj(secretKeyRefFields),
  sourceAddress: oneOf(['UseNodeIP', 'None']),
  maxRestartTime: duration,
  keepaliveTime: duration,
  numAllowedLocalASNumbers: int(0, 4294967295),
  ttlSecurity: int(0, 255),
  reachableBy: str('ip'),
  filters: list(str('resourceName')),
  localWorkloadSelector: selector,
  reversePeering: oneOf(['Auto', 'Manual']),
} satisfies FieldsOf<BGPPeerSpec>;

export interface BGPFilterRule {
  action: 'Accept' | 'Reject';
  matchOperator?: 'Equal' | 'NotEqual' | 'In' | 'NotIn';
  cidr?: string;
  prefixLength?: { min?: number; max?: number };
  source?: 'RemotePeers';
  interface?: string;
  peerType?: 'eBGP' | 'iBGP';
  communities?: { values?: string[] };
  asPathPrefix?: number[];
  priority?: number;
  operations?: Record<string, unknown>[];
}

export interface BGPFilterSpec {
  exportV4?: BGPFilterRule[];
  importV4?: BGPFilterRule[];
  exportV6?: BGPFilterRule[];
  importV6?: BGPFilterRule[];
}

const filterRule = (maxPrefix: number) =>
  list(
    obj({
      action: required(oneOf(['Accept', 'Reject'])),
      matchOperator: oneOf(['Equal', 'NotEqual', 'In', 'NotIn']),
      cidr: str(maxPrefix === 32 ? 'ipv4Cidr' : 'ipv6Cidr'),
      prefixLength: obj({ min: int(0, maxPrefix), max: int(0, maxPrefix) }),
      source: oneOf(['RemotePeers']),
      interface: str(),
      peerType: oneOf(['eBGP', 'iBGP']),
      communities: obj({ values: list(str('community')) }),
      asPathPrefix: list(int(0, 4294967295)),
      priority: int(1, 2147483646),
      operations: list(
        obj({
          addCommunity: obj({ value: str('community') }),
          prependASPath: obj({ prefix: list(int(0, 4294967295)) }),
          setPriority: obj({ value: int(1, 2147483646) }),
        }),
      ),
    }),
  );

export const bgpFilterSpecFields = {
  exportV4: filterRule(32),
  importV4: filterRule(32),
  exportV6: filterRule(128),
  importV6: filterRule(128),
} satisfies FieldsOf<BGPFilterSpec>;
