// Cluster-wide singletons: KubeControllersConfiguration and ClusterInformation — types and field tables.
import {
  bool,
  duration,
  int,
  list,
  map,
  obj,
  oneOf,
  selector,
  str,
  stringMap,
  type FieldTable,
  type FieldsOf,
} from '../schema.js';

const enabledDisabled = oneOf(['Enabled', 'Disabled']);
const reconciler = obj({ reconcilerPeriod: duration });

export interface KubeControllersConfigurationSpec {
  logSeverityScreen?: string;
  healthChecks?: 'Enabled' | 'Disabled';
  etcdV3CompactionPeriod?: string;
  prometheusMetricsPort?: number;
  debugProfilePort?: number;
  controllers?: {
    node?: {
      reconcilerPeriod?: string;
      syncLabels?: 'Enabled' | 'Disabled';
      hostEndpoint?: {
        autoCreate?: 'Enabled' | 'Disabled';
        createDefaultHostEndpoint?: 'Enabled' | 'Disabled';
        templates?: {
          generateName?: string;
          interfaceCIDRs?: string[];
          interfacePattern?: string;
          labels?: Record<string, string>;
          nodeSelector?: string;
        }[];
      };
      leakGracePeriod?: string;
    };
    policy?: { reconcilerPeriod?: string };
    workloadEndpoint?: { reconcilerPeriod?: string };
    serviceAccount?: { reconcilerPeriod?: string };
    namespace?: { reconcilerPeriod?: string };
    loadBalancer?: { assignIPs?: 'AllServices' | 'RequestedServicesOnly' };
  };
}

export const kubeControllersConfigurationSpecFields = {
  logSeverityScreen: oneOf(['Trace', 'Debug', 'Info', 'Warning', 'Error', 'Fatal', 'Panic'], true),
  healthChecks: enabledDisabled,
  etcdV3CompactionPeriod: duration,
  prometheusMetricsPort: int(0, 65535),
  debugProfilePort: int(0, 65535),
  controllers: obj({
    node: obj({
      reconcilerPeriod: duration,
      syncLabels: enabledDisabled,
      hostEndpoint: obj({
        autoCreate: enabledDisabled,
        createDefaultHostEndpoint: enabledDisabled,
        templates: list(
          obj({
            generateName: str('dnsLabel'),
            interfaceCIDRs: list(str('cidr')),
            interfacePattern: str('regexp'),
            labels: stringMap,
            nodeSelector: selector,
          }),
        ),
      }),
      leakGracePeriod: duration,
    }),
    policy: reconciler,
    workloadEndpoint: reconciler,
    serviceAccount: reconciler,
    namespace: reconciler,
    loadBalancer: obj({ assignIPs: oneOf(['AllServices', 'RequestedServicesOnly']) }),
  }),
} satisfies FieldsOf<KubeControllersConfigurationSpec>;

export const kubeControllersConfigurationStatusFields: FieldTable = {
  runningConfig: obj(kubeControllersConfigurationSpecFields),
  environmentVars: map(str()),
};

export interface ClusterInformationSpec {
  clusterGUID?: string;
  clusterType?: string;
  calicoVersion?: string;
  datastoreReady?: boolean;
  variant?: string;
}

export const clusterInformationSpecFields = {
  clusterGUID: str(),
  clusterType: str(),
  calicoVersion: str(),
  datastoreReady: bool,
  variant: str(),
} satisfies FieldsOf<ClusterInformationSpec>;
