// FelixConfiguration (`default`, `node.<name>`, or selector-scoped): every field Felix knows, typed, with its field
// table. Values are stored exactly as written; effective defaults live in the agent that reads them.
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
  stringMap,
  type FieldTable,
  type FieldsOf,
} from '../schema.js';
import type { Port } from './common.js';

/** A failsafe port: protocol TCP/UDP/SCTP, port, and an optional source/destination CIDR. */
export interface ProtoPort {
  protocol?: string;
  port: number;
  net?: string;
}

export const FELIX_LOG_LEVELS = ['Trace', 'Debug', 'Info', 'Warning', 'Error', 'Fatal'] as const;
const logLevel = oneOf(FELIX_LOG_LEVELS, true);
const protoPorts = list(
  obj({ protocol: oneOf(['TCP', 'UDP', 'SCTP']), port: required(int(0, 65535)), net: str('cidr') }),
);
const routeTableRange = obj({ min: required(int(1, 4294967295)), max: required(int(1, 4294967295)) });
const conntrackTimeout = str('conntrackTimeout');
const conntrackTimeouts: FieldTable = {
  creationGracePeriod: conntrackTimeout,
  tcpSynSent: conntrackTimeout,
  tcpEstablished: conntrackTimeout,
  tcpFinsSeen: conntrackTimeout,
  tcpResetSeen: conntrackTimeout,
  udpTimeout: conntrackTimeout,
  genericTimeout: conntrackTimeout,
  icmpTimeout: conntrackTimeout,
};

export interface FelixConfigurationSpec {
  useInternalDataplaneDriver?: boolean;
  dataplaneDriver?: string;
  dataplaneWatchdogTimeout?: string;
  ipv6Support?: boolean;
  routeRefreshInterval?: string;
  interfaceRefreshInterval?: string;
  iptablesRefreshInterval?: string;
  iptablesPostWriteCheckInterval?: string;
  iptablesLockFilePath?: string;
  iptablesLockTimeout?: string;
  iptablesLockProbeInterval?: string;
  featureDetectOverride?: string;
  featureGates?: string;
  ipsetsRefreshInterval?: string;
  maxIpsetSize?: number;
  iptablesBackend?: string;
  xdpRefreshInterval?: string;
  netlinkTimeout?: string;
  metadataAddr?: string;
  metadataPort?: number;
  openstackRegion?: string;
  interfacePrefix?: string;
  interfaceExclude?: string;
  chainInsertMode?: string;
  defaultEndpointToHostAction?: string;
  iptablesFilterAllowAction?: string;
  iptablesMangleAllowAction?: string;
  iptablesFilterDenyAction?: string;
  logPrefix?: string;
  logFilePath?: string;
  logSeverityFile?: string;
  logSeverityScreen?: string;
  logSeveritySys?: string;
  logDebugFilenameRegex?: string;
  ipipEnabled?: boolean;
  ipipMTU?: number;
  vxlanEnabled?: boolean;
  vxlanMTU?: number;
  vxlanMTUV6?: number;
  vxlanPort?: number;
  vxlanVNI?: number;
  allowVXLANPacketsFromWorkloads?: boolean;
  allowIPIPPacketsFromWorkloads?: boolean;
  reportingInterval?: string;
  reportingTTL?: string;
  endpointReportingEnabled?: boolean;
  endpointReportingDelay?: string;
  endpointStatusPathPrefix?: string;
  iptablesMarkMask?: number;
  disableConntrackInvalidCheck?: boolean;
  healthEnabled?: boolean;
  healthHost?: string;
  healthPort?: number;
  healthTimeoutOverrides?: { name: string; timeout: string }[];
  prometheusMetricsEnabled?: boolean;
  prometheusMetricsHost?: string;
  prometheusMetricsPort?: number;
  prometheusGoMetricsEnabled?: boolean;
  prometheusProcessMetricsEnabled?: boolean;
  prometheusWireGuardMetricsEnabled?: boolean;
  failsafeInboundHostPorts?: ProtoPort[];
  failsafeOutboundHostPorts?: ProtoPort[];
  kubeNodePortRanges?: Port[];
  policySyncPathPrefix?: string;
  usageReportingEnabled?: boolean;
  usageReportingInitialDelay?: string;
  usageReportingInterval?: string;
  natPortRange?: Port;
  natOutgoingAddress?: string;
  natOutgoingExclusions?: string;
  deviceRouteSourceAddress?: string;
  deviceRouteSourceAddressIPv6?: string;
  deviceRouteProtocol?: number;
  removeExternalRoutes?: boolean;
  programClusterRoutes?: string;
  ipForwarding?: string;
  externalNodesList?: string[];
  debugMemoryProfilePath?: string;
  debugDisableLogDropping?: boolean;
  debugSimulateCalcGraphHangAfter?: string;
  debugSimulateDataplaneHangAfter?: string;
  debugSimulateDataplaneApplyDelay?: string;
  debugHost?: string;
  debugPort?: number;
  iptablesNATOutgoingInterfaceFilter?: string;
  sidecarAccelerationEnabled?: boolean;
  xdpEnabled?: boolean;
  genericXDPEnabled?: boolean;
  nftablesMode?: string;
  nftablesRefreshInterval?: string;
  nftablesFilterAllowAction?: string;
  nftablesMangleAllowAction?: string;
  nftablesFilterDenyAction?: string;
  nftablesMarkMask?: number;
  bpfEnabled?: boolean;
  bpfDisableUnprivileged?: boolean;
  bpfLogLevel?: string;
  bpfConntrackLogLevel?: string;
  bpfConntrackMode?: string;
  bpfConntrackTimeouts?: Record<string, string>;
  bpfLogFilters?: Record<string, string>;
  bpfCTLBLogFilter?: string;
  bpfDataIfacePattern?: string;
  bpfL3IfacePattern?: string;
  bpfConnectTimeLoadBalancingEnabled?: boolean;
  bpfConnectTimeLoadBalancing?: string;
  bpfHostNetworkedNATWithoutCTLB?: string;
  bpfExternalServiceMode?: string;
  bpfDSROptoutCIDRs?: string[];
  bpfExtToServiceConnmark?: number;
  bpfKubeProxyIptablesCleanupEnabled?: boolean;
  bpfKubeProxyMinSyncPeriod?: string;
  bpfKubeProxyEndpointSlicesEnabled?: boolean;
  bpfKubeProxyHealthzPort?: number;
  bpfPSNATPorts?: Port;
  bpfMapSizeNATFrontend?: number;
  bpfMapSizeNATBackend?: number;
  bpfMapSizeNATAffinity?: number;
  bpfMapSizeRoute?: number;
  bpfMapSizeConntrack?: number;
  bpfMapSizePerCpuConntrack?: number;
  bpfMapSizeConntrackScaling?: string;
  bpfMapSizeConntrackCleanupQueue?: number;
  bpfMapSizeIPSets?: number;
  bpfMapSizeIfState?: number;
  bpfHostConntrackBypass?: boolean;
  bpfEnforceRPF?: string;
  bpfPolicyDebugEnabled?: boolean;
  bpfForceTrackPacketsFromIfaces?: string[];
  bpfDisableGROForIfaces?: string;
  bpfExcludeCIDRsFromNAT?: string[];
  bpfExportBufferSizeMB?: number;
  bpfRedirectToPeer?: string;
  bpfAttachType?: string;
  bpfJITHardening?: string;
  bpfProfiling?: string;
  flowLogsPolicyEvaluationMode?: string;
  flowLogsFlushInterval?: string;
  flowLogsCollectorDebugTrace?: boolean;
  flowLogsGoldmaneServer?: string;
  flowLogsLocalReporter?: string;
  routeSource?: string;
  routeTableRanges?: { min: number; max: number }[];
  routeTableRange?: { min: number; max: number };
  routeSyncDisabled?: boolean;
  wireguardEnabled?: boolean;
  wireguardEnabledV6?: boolean;
  wireguardThreadingEnabled?: boolean;
  wireguardListeningPort?: number;
  wireguardListeningPortV6?: number;
  wireguardRoutingRulePriority?: number;
  wireguardInterfaceName?: string;
  wireguardInterfaceNameV6?: string;
  wireguardMTU?: number;
  wireguardMTUV6?: number;
  wireguardHostEncryptionEnabled?: boolean;
  wireguardKeepAlive?: string;
  awsSrcDstCheck?: string;
  serviceLoopPrevention?: string;
  workloadSourceSpoofing?: string;
  mtuIfacePattern?: string;
  floatingIPs?: string;
  windowsManageFirewallRules?: string;
  goGCThreshold?: number;
  goMemoryLimitMB?: number;
  goMaxProcs?: number;
  requireMTUFile?: boolean;
  cgroupV2Path?: string;
  istioAmbientMode?: string;
  istioDSCPMark?: number;
  nodeSelector?: string;
}

export const felixConfigurationSpecFields = {
  useInternalDataplaneDriver: bool,
  dataplaneDriver: str(),
  dataplaneWatchdogTimeout: duration,
  ipv6Support: bool,
  routeRefreshInterval: duration,
  interfaceRefreshInterval: duration,
  iptablesRefreshInterval: duration,
  iptablesPostWriteCheckInterval: duration,
  iptablesLockFilePath: str(),
  iptablesLockTimeout: duration,
  iptablesLockProbeInterval: duration,
  featureDetectOverride: str('keyValueList'),
  featureGates: str('keyValueList'),
  ipsetsRefreshInterval: duration,
  maxIpsetSize: int(0),
  iptablesBackend: oneOf(['Auto', 'Legacy', 'NFT'], true),
  xdpRefreshInterval: duration,
  netlinkTimeout: duration,
  metadataAddr: str(),
  metadataPort: int(0, 65535),
  openstackRegion: str(),
  interfacePrefix: str(),
  interfaceExclude: str(),
  chainInsertMode: oneOf(['Insert', 'Append'], true),
  defaultEndpointToHostAction: oneOf(['Drop', 'Accept', 'Return'], true),
  iptablesFilterAllowAction: oneOf(['Accept', 'Return'], true),
  iptablesMangleAllowAction: oneOf(['Accept', 'Return'], true),
  iptablesFilterDenyAction: oneOf(['Drop', 'Reject'], true),
  logPrefix: str(),
  logFilePath: str(),
  logSeverityFile: logLevel,
  logSeverityScreen: logLevel,
  logSeveritySys: logLevel,
  logDebugFilenameRegex: str('regexp'),
  ipipEnabled: bool,
  ipipMTU: int(0),
  vxlanEnabled: bool,
  vxlanMTU: int(0),
  vxlanMTUV6: int(0),
  vxlanPort: int(1, 65535),
  vxlanVNI: int(1, 16777215),
  allowVXLANPacketsFromWorkloads: bool,
  allowIPIPPacketsFromWorkloads: bool,
  reportingInterval: duration,
  reportingTTL: duration,
  endpointReportingEnabled: bool,
  endpointReportingDelay: duration,
  endpointStatusPathPrefix: str(),
  iptablesMarkMask: int(0, 4294967295),
  disableConntrackInvalidCheck: bool,
  healthEnabled: bool,
  healthHost: str(),
  healthPort: int(0, 65535),
  healthTimeoutOverrides: list(obj({ name: required(str()), timeout: required(duration) })),
  prometheusMetricsEnabled: bool,
  prometheusMetricsHost: str(),
  prometheusMetricsPort: int(0, 65535),
  prometheusGoMetricsEnabled: bool,
  prometheusProcessMetricsEnabled: bool,
  prometheusWireGuardMetricsEnabled: bool,
  failsafeInboundHostPorts: protoPorts,
  failsafeOutboundHostPorts: protoPorts,
  kubeNodePortRanges: list(intOrStr('port')),
  policySyncPathPrefix: str(),
  usageReportingEnabled: bool,
  usageReportingInitialDelay: duration,
  usageReportingInterval: duration,
  natPortRange: intOrStr('port'),
  natOutgoingAddress: str(),
  natOutgoingExclusions: oneOf(['IPPoolsOnly', 'IPPoolsAndHostIPs']),
  deviceRouteSourceAddress: str(),
  deviceRouteSourceAddressIPv6: str(),
  deviceRouteProtocol: int(0, 255),
  removeExternalRoutes: bool,
  programClusterRoutes: oneOf(['Enabled', 'Disabled', 'EnabledIPIPOnly']),
  ipForwarding: oneOf(['Enabled', 'Disabled']),
  externalNodesList: stringList,
  debugMemoryProfilePath: str(),
  debugDisableLogDropping: bool,
  debugSimulateCalcGraphHangAfter: duration,
  debugSimulateDataplaneHangAfter: duration,
  debugSimulateDataplaneApplyDelay: duration,
  debugHost: str(),
  debugPort: int(0, 65535),
  iptablesNATOutgoingInterfaceFilter: str('ifaceFilter'),
  sidecarAccelerationEnabled: bool,
  xdpEnabled: bool,
  genericXDPEnabled: bool,
  nftablesMode: oneOf(['Disabled', 'Enabled', 'Auto']),
  nftablesRefreshInterval: duration,
  nftablesFilterAllowAction: oneOf(['Accept', 'Return'], true),
  nftablesMangleAllowAction: oneOf(['Accept', 'Return'], true),
  nftablesFilterDenyAction: oneOf(['Drop', 'Reject'], true),
  nftablesMarkMask: int(0, 4294967295),
  bpfEnabled: bool,
  bpfDisableUnprivileged: bool,
  bpfLogLevel: oneOf(['Off', 'Info', 'Debug'], true),
  bpfConntrackLogLevel: oneOf(['Off', 'Debug']),
  bpfConntrackMode: oneOf(['Auto', 'Userspace', 'BPFProgram']),
  bpfConntrackTimeouts: obj(conntrackTimeouts),
  bpfLogFilters: stringMap,
  bpfCTLBLogFilter: str(),
  bpfDataIfacePattern: str('regexp'),
  bpfL3IfacePattern: str('regexp'),
  bpfConnectTimeLoadBalancingEnabled: bool,
  bpfConnectTimeLoadBalancing: oneOf(['TCP', 'Enabled', 'Disabled']),
  bpfHostNetworkedNATWithoutCTLB: oneOf(['Enabled', 'Disabled']),
  bpfExternalServiceMode: oneOf(['Tunnel', 'DSR'], true),
  bpfDSROptoutCIDRs: list(str('cidr')),
  bpfExtToServiceConnmark: int(0, 4294967295),
  bpfKubeProxyIptablesCleanupEnabled: bool,
  bpfKubeProxyMinSyncPeriod: duration,
  bpfKubeProxyEndpointSlicesEnabled: bool,
  bpfKubeProxyHealthzPort: int(0, 65535),
  bpfPSNATPorts: intOrStr('port'),
  bpfMapSizeNATFrontend: int(0),
  bpfMapSizeNATBackend: int(0),
  bpfMapSizeNATAffinity: int(0),
  bpfMapSizeRoute: int(0),
  bpfMapSizeConntrack: int(0),
  bpfMapSizePerCpuConntrack: int(0),
  bpfMapSizeConntrackScaling: oneOf(['Disabled', 'DoubleIfFull'], true),
  bpfMapSizeConntrackCleanupQueue: int(1),
  bpfMapSizeIPSets: int(0),
  bpfMapSizeIfState: int(0),
  bpfHostConntrackBypass: bool,
  bpfEnforceRPF: oneOf(['Disabled', 'Strict', 'Loose'], true),
  bpfPolicyDebugEnabled: bool,
  bpfForceTrackPacketsFromIfaces: list(str('ifaceFilter')),
  bpfDisableGROForIfaces: str('regexp'),
  bpfExcludeCIDRsFromNAT: list(str('cidr')),
  bpfExportBufferSizeMB: int(0),
  bpfRedirectToPeer: oneOf(['Enabled', 'Disabled', 'L2Only']),
  bpfAttachType: oneOf(['TCX', 'TC']),
  bpfJITHardening: oneOf(['Auto', 'Strict']),
  bpfProfiling: oneOf(['Enabled', 'Disabled']),
  flowLogsPolicyEvaluationMode: oneOf(['None', 'Continuous']),
  flowLogsFlushInterval: duration,
  flowLogsCollectorDebugTrace: bool,
  flowLogsGoldmaneServer: str(),
  flowLogsLocalReporter: oneOf(['Disabled', 'Enabled']),
  routeSource: oneOf(['WorkloadIPs', 'CalicoIPAM'], true),
  routeTableRanges: list(routeTableRange),
  routeTableRange: routeTableRange,
  routeSyncDisabled: bool,
  wireguardEnabled: bool,
  wireguardEnabledV6: bool,
  wireguardThreadingEnabled: bool,
  wireguardListeningPort: int(1, 65535),
  wireguardListeningPortV6: int(1, 65535),
  wireguardRoutingRulePriority: int(1, 32765),
  wireguardInterfaceName: str('ifaceName'),
  wireguardInterfaceNameV6: str('ifaceName'),
  wireguardMTU: int(0),
  wireguardMTUV6: int(0),
  wireguardHostEncryptionEnabled: bool,
  wireguardKeepAlive: duration,
  awsSrcDstCheck: oneOf(['DoNothing', 'Enable', 'Disable']),
  serviceLoopPrevention: oneOf(['Drop', 'Reject', 'Disabled']),
  workloadSourceSpoofing: oneOf(['Disabled', 'Any']),
  mtuIfacePattern: str('regexp'),
  floatingIPs: oneOf(['Enabled', 'Disabled']),
  windowsManageFirewallRules: oneOf(['Enabled', 'Disabled']),
  goGCThreshold: int(-1),
  goMemoryLimitMB: int(-1),
  goMaxProcs: int(-1),
  requireMTUFile: bool,
  cgroupV2Path: str(),
  istioAmbientMode: oneOf(['Enabled', 'Disabled']),
  istioDSCPMark: int(0, 63),
  nodeSelector: selector,
} satisfies FieldsOf<FelixConfigurationSpec>;
