// The CNI network configuration template, with Calico's install-cni placeholders (cni.md §B.10), and its renderer.
// One template for both install-cni and the manifests' `cni_network_config`, so the two always agree. Pure.

/** Calico's shipped conflist (calico.yaml), plus our datastore and host-path placeholders. */
export const CALICO_CONFLIST_TEMPLATE = `{
  "name": "k8s-pod-network",
  "cniVersion": "1.0.0",
  "plugins": [
    {
      "type": "calico",
      "log_level": "__LOG_LEVEL__",
      "log_file_path": "__LOG_FILE_PATH__",
      "log_file_max_size": __LOG_FILE_MAX_SIZE__,
      "log_file_max_age": __LOG_FILE_MAX_AGE__,
      "log_file_max_count": __LOG_FILE_MAX_COUNT__,
      "datastore_type": "__DATASTORE_TYPE__",
      "sqlite_path": "__SQLITE_PATH__",
      "etcd_endpoints": "__ETCD_ENDPOINTS__",
      "etcd_key_file": "__ETCD_KEY_FILE__",
      "etcd_cert_file": "__ETCD_CERT_FILE__",
      "etcd_ca_cert_file": "__ETCD_CA_CERT_FILE__",
      "nodename": "__KUBERNETES_NODE_NAME__",
      "nodename_file": "__NODENAME_FILE__",
      "agent_socket": "__AGENT_SOCKET__",
      "mtu": __CNI_MTU__,
      "require_mtu_file": __REQUIRE_MTU_FILE__,
      "ipam": {
        "type": "calico-ipam"
      },
      "policy": {
        "type": "k8s"
      },
      "kubernetes": {
        "kubeconfig": "__KUBECONFIG_FILEPATH__"
      }
    },
    {
      "type": "portmap",
      "snat": true,
      "capabilities": { "portMappings": true }
    }
  ]
}
`;

/**
 * The conflist of Calico's manifests for VXLAN-only clusters (calico-vxlan.yaml): the same calico plugin, chained with
 * `portmap` and also `bandwidth` (traffic shaping from the pods' kubernetes.io/*-bandwidth annotations).
 */
export const CALICO_VXLAN_CONFLIST_TEMPLATE = CALICO_CONFLIST_TEMPLATE.replace(
  '      "capabilities": { "portMappings": true }\n    }\n',
  '      "capabilities": { "portMappings": true }\n    },\n    {\n      "type": "bandwidth",\n      "capabilities": { "bandwidth": true }\n    }\n',
);

/** The shipped template for a networking backend (calico-node's CALICO_NETWORKING_BACKEND): `vxlan`, else BGP's. */
export function conflistTemplateFor(backend: string | undefined): string {
  return backend === 'vxlan' ? CALICO_VXLAN_CONFLIST_TEMPLATE : CALICO_CONFLIST_TEMPLATE;
}

/** Every placeholder the renderer knows: Calico's, then ours (sqlite path, node name file, agent socket). */
export const TEMPLATE_PLACEHOLDERS = [
  '__LOG_LEVEL__',
  '__LOG_FILE_PATH__',
  '__LOG_FILE_MAX_SIZE__',
  '__LOG_FILE_MAX_AGE__',
  '__LOG_FILE_MAX_COUNT__',
  '__DATASTORE_TYPE__',
  '__KUBERNETES_NODE_NAME__',
  '__KUBECONFIG_FILEPATH__',
  '__CNI_MTU__',
  '__KUBERNETES_SERVICE_HOST__',
  '__KUBERNETES_SERVICE_PORT__',
  '__SERVICEACCOUNT_TOKEN__',
  '__CALICO_API_GROUP__',
  '__ETCD_CERT_FILE__',
  '__ETCD_CA_CERT_FILE__',
  '__ETCD_KEY_FILE__',
  '__ETCD_ENDPOINTS__',
  '__ETCD_DISCOVERY_SRV__',
  '__REQUIRE_MTU_FILE__',
  '__SQLITE_PATH__',
  '__NODENAME_FILE__',
  '__AGENT_SOCKET__',
] as const;
export type TemplatePlaceholder = (typeof TEMPLATE_PLACEHOLDERS)[number];
export type TemplateValues = Record<TemplatePlaceholder, string>;

export interface TemplateSettings {
  logLevel?: string;
  logFilePath?: string;
  logFileMaxSize?: number;
  logFileMaxAge?: number;
  logFileMaxCount?: number;
  datastoreType?: string;
  nodeName?: string;
  kubeconfigPath?: string;
  mtu?: number;
  kubernetesServiceHost?: string;
  kubernetesServicePort?: string;
  serviceAccountToken?: string;
  calicoApiGroup?: string;
  etcdEndpoints?: string;
  etcdDiscoverySrv?: string;
  etcdCertFile?: string;
  etcdCaCertFile?: string;
  etcdKeyFile?: string;
  requireMtuFile?: boolean;
  sqlitePath?: string;
  nodenameFile?: string;
  agentSocket?: string;
}

/** Placeholder values for settings, with install-cni's defaults. */
export function templateValues(s: TemplateSettings): TemplateValues {
  return {
    __LOG_LEVEL__: s.logLevel ?? 'info',
    __LOG_FILE_PATH__: s.logFilePath ?? '/var/log/calico/cni/cni.log',
    __LOG_FILE_MAX_SIZE__: String(s.logFileMaxSize ?? 100),
    __LOG_FILE_MAX_AGE__: String(s.logFileMaxAge ?? 30),
    __LOG_FILE_MAX_COUNT__: String(s.logFileMaxCount ?? 10),
    __DATASTORE_TYPE__: s.datastoreType ?? 'sqlite',
    __KUBERNETES_NODE_NAME__: s.nodeName ?? '',
    __KUBECONFIG_FILEPATH__: s.kubeconfigPath ?? '',
    __CNI_MTU__: String(s.mtu ?? 1500),
    __KUBERNETES_SERVICE_HOST__: s.kubernetesServiceHost ?? '',
    __KUBERNETES_SERVICE_PORT__: s.kubernetesServicePort ?? '',
    __SERVICEACCOUNT_TOKEN__: s.serviceAccountToken ?? '',
    __CALICO_API_GROUP__: s.calicoApiGroup ?? '',
    __ETCD_CERT_FILE__: s.etcdCertFile ?? '',
    __ETCD_CA_CERT_FILE__: s.etcdCaCertFile ?? '',
    __ETCD_KEY_FILE__: s.etcdKeyFile ?? '',
    __ETCD_ENDPOINTS__: s.etcdEndpoints ?? '',
    __ETCD_DISCOVERY_SRV__: s.etcdDiscoverySrv ?? '',
    __REQUIRE_MTU_FILE__: String(s.requireMtuFile ?? false),
    __SQLITE_PATH__: s.sqlitePath ?? '',
    __NODENAME_FILE__: s.nodenameFile ?? '',
    __AGENT_SOCKET__: s.agentSocket ?? '',
  };
}

const jsonStringBody = (v: string): string => JSON.stringify(v).slice(1, -1);

/**
 * Replaces every placeholder (values inside JSON strings are escaped), then checks the result is JSON with a
 * `plugins` list or a `type`. Returns the text, re-indented with two spaces.
 */
export function renderCniTemplate(template: string, values: TemplateValues): string {
  let text = template;
  for (const name of TEMPLATE_PLACEHOLDERS) {
    text = text.split(`"${name}"`).join(JSON.stringify(values[name]));
    text = text.split(name).join(jsonStringBody(values[name]));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`CNI network config template does not render to valid JSON: ${(err as Error).message}\n${text}`);
  }
  const o = parsed as { plugins?: unknown; type?: unknown };
  if (!o || typeof o !== 'object' || (!Array.isArray(o.plugins) && typeof o.type !== 'string')) {
    throw new Error('CNI network config template: rendered JSON has neither "plugins" nor "type"');
  }
  return JSON.stringify(parsed, null, 2) + '\n';
}
