// The objects of manifests/calico.yaml (etcd datastore), built in code from one source so the manifest, its tests and
// the CNI template never drift: Secret calico-etcd-secrets and ConfigMap calico-config with calico-etcd.yaml's keys
// (cni_network_config is the install-cni template itself), service accounts and least-privilege RBAC, the
// calico-node DaemonSet (install-cni init container, host network, privileges, mounts, probes) and the
// calico-kube-controllers Deployment. Pure: objects out, no I/O.
import { CALICO_CONFLIST_TEMPLATE } from '../../cni/install/template.js';

export interface ManifestOptions {
  /** The image every container runs (built by the Containerfile). */
  image: string;
  namespace: string;
  /** Placeholder the operator replaces, as calico-etcd.yaml's `http://<ETCD_IP>:<ETCD_PORT>`. */
  etcdEndpoints: string;
}

export const DEFAULT_MANIFEST_OPTIONS: ManifestOptions = {
  image: 'localhost/calico-ts/calico:v0.1.0',
  namespace: 'kube-system',
  etcdEndpoints: 'http://<ETCD_IP>:<ETCD_PORT>',
};

/** calico-kube-controllers' health server port (src/k8s/controllers: HEALTH_PORT, default 9440). */
export const KUBE_CONTROLLERS_HEALTH_PORT = 9440;

export type KubeManifestObject = Record<string, any> & { apiVersion: string; kind: string; metadata: { name: string } };

const configRef = (key: string) => ({ valueFrom: { configMapKeyRef: { name: 'calico-config', key } } });
const nodeNameRef = { valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } };

/** The etcd settings every component reads (CONVENTIONS.md), taken from calico-config. */
const etcdEnv = [
  { name: 'DATASTORE_TYPE', value: 'etcdv3' },
  { name: 'ETCD_ENDPOINTS', ...configRef('etcd_endpoints') },
  { name: 'ETCD_CA_CERT_FILE', ...configRef('etcd_ca') },
  { name: 'ETCD_KEY_FILE', ...configRef('etcd_key') },
  { name: 'ETCD_CERT_FILE', ...configRef('etcd_cert') },
];

const hostPathVolume = (name: string, p: string, type?: string) => ({ name, hostPath: { path: p, ...(type ? { type } : {}) } });

export function calicoEtcdObjects(o: ManifestOptions = DEFAULT_MANIFEST_OPTIONS): KubeManifestObject[] {
  const ns = o.namespace;
  const meta = (name: string, labels?: Record<string, string>) => ({ name, namespace: ns, ...(labels ? { labels } : {}) });

  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: meta('calico-etcd-secrets'),
    // Base64 of each file when etcd uses TLS (cat <file> | base64 -w 0); empty when it does not.
    data: { 'etcd-key': '', 'etcd-cert': '', 'etcd-ca': '' },
  };

  const config = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta('calico-config'),
    data: {
      etcd_endpoints: o.etcdEndpoints,
      // With TLS: "/calico-secrets/etcd-ca", "/calico-secrets/etcd-cert", "/calico-secrets/etcd-key".
      etcd_ca: '',
      etcd_cert: '',
      etcd_key: '',
      typha_service_name: 'none',
      calico_backend: 'bird',
      // 0: calico-node picks the MTU (written to /var/lib/calico/mtu).
      veth_mtu: '0',
      cni_network_config: CALICO_CONFLIST_TEMPLATE,
    },
  };

  const serviceAccounts = ['calico-node', 'calico-cni-plugin', 'calico-kube-controllers'].map((name) => ({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: meta(name),
  }));

  const role = (name: string, rules: object[]) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name },
    rules,
  });
  const binding = (name: string) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace: ns }],
  });

  const roles = [
    // Reads what it mirrors into etcd; leases for leader election between replicas.
    role('calico-kube-controllers', [
      { apiGroups: [''], resources: ['pods', 'nodes', 'namespaces', 'serviceaccounts'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]),
    // Node start-up reads its Node (kubernetes-internal-ip autodetection); it renews the CNI plugin's token.
    role('calico-node', [
      { apiGroups: [''], resources: ['nodes', 'pods', 'namespaces'], verbs: ['get'] },
      { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
      { apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: ['calico-cni-plugin'], verbs: ['create'] },
    ]),
    // The CNI plugin reads the pod (labels, annotations, ports), its namespace and node.
    role('calico-cni-plugin', [{ apiGroups: [''], resources: ['pods', 'nodes', 'namespaces'], verbs: ['get'] }]),
  ];
  const bindings = ['calico-kube-controllers', 'calico-node', 'calico-cni-plugin'].map(binding);

  const probe = (flags: string[], extra: object) => ({ exec: { command: ['calico-node', ...flags] }, periodSeconds: 10, timeoutSeconds: 10, ...extra });

  const daemonSet = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: meta('calico-node', { 'k8s-app': 'calico-node' }),
    spec: {
      selector: { matchLabels: { 'k8s-app': 'calico-node' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels: { 'k8s-app': 'calico-node' } },
        spec: {
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          hostNetwork: true,
          tolerations: [
            { effect: 'NoSchedule', operator: 'Exists' },
            { key: 'CriticalAddonsOnly', operator: 'Exists' },
            { effect: 'NoExecute', operator: 'Exists' },
          ],
          serviceAccountName: 'calico-node',
          // Stop at once on deletion; the next calico-node adopts the dataplane.
          terminationGracePeriodSeconds: 0,
          priorityClassName: 'system-node-critical',
          initContainers: [
            {
              name: 'install-cni',
              image: o.image,
              command: ['calico-node', 'install-cni'],
              env: [
                { name: 'CNI_CONF_NAME', value: '10-calico.conflist' },
                { name: 'CNI_NETWORK_CONFIG', ...configRef('cni_network_config') },
                { name: 'CNI_MTU', ...configRef('veth_mtu') },
                { name: 'CNI_BIN_DIR', value: '/host/opt/cni/bin' },
                { name: 'CNI_NET_DIR', value: '/etc/cni/net.d' },
                { name: 'KUBERNETES_NODE_NAME', ...nodeNameRef },
                { name: 'SLEEP', value: 'false' },
                ...etcdEnv,
              ],
              volumeMounts: [
                { mountPath: '/host/opt/cni/bin', name: 'cni-bin-dir' },
                { mountPath: '/etc/cni/net.d', name: 'cni-net-dir' },
                { mountPath: '/calico-secrets', name: 'etcd-certs' },
              ],
              securityContext: { privileged: true },
            },
          ],
          containers: [
            {
              name: 'calico-node',
              image: o.image,
              command: ['calico-node'],
              env: [
                ...etcdEnv,
                { name: 'NODENAME', ...nodeNameRef },
                { name: 'CALICO_NETWORKING_BACKEND', ...configRef('calico_backend') },
                { name: 'CLUSTER_TYPE', value: 'k8s,bgp' },
                { name: 'IP', value: 'autodetect' },
                { name: 'CALICO_IPV4POOL_IPIP', value: 'Never' },
                { name: 'CALICO_IPV4POOL_VXLAN', value: 'Never' },
                { name: 'FELIX_IPINIPMTU', ...configRef('veth_mtu') },
                { name: 'FELIX_VXLANMTU', ...configRef('veth_mtu') },
                { name: 'FELIX_DEFAULTENDPOINTTOHOSTACTION', value: 'ACCEPT' },
                { name: 'FELIX_HEALTHENABLED', value: 'true' },
                { name: 'CNI_NET_DIR', value: '/etc/cni/net.d' },
                { name: 'CALICO_CNI_SERVICE_ACCOUNT', value: 'calico-cni-plugin' },
              ],
              securityContext: { privileged: true },
              resources: { requests: { cpu: '250m' } },
              livenessProbe: probe(['-felix-live', '-bird-live'], { initialDelaySeconds: 10, failureThreshold: 6 }),
              readinessProbe: probe(['-felix-ready', '-bird-ready'], {}),
              volumeMounts: [
                { mountPath: '/etc/cni/net.d', name: 'cni-net-dir' },
                { mountPath: '/lib/modules', name: 'lib-modules', readOnly: true },
                { mountPath: '/run/xtables.lock', name: 'xtables-lock', readOnly: false },
                { mountPath: '/var/run/calico', name: 'var-run-calico', readOnly: false },
                { mountPath: '/var/lib/calico', name: 'var-lib-calico', readOnly: false },
                { mountPath: '/var/log/calico/cni', name: 'cni-log-dir', readOnly: true },
                { mountPath: '/calico-secrets', name: 'etcd-certs' },
              ],
            },
          ],
          volumes: [
            hostPathVolume('lib-modules', '/lib/modules'),
            hostPathVolume('var-run-calico', '/var/run/calico', 'DirectoryOrCreate'),
            hostPathVolume('var-lib-calico', '/var/lib/calico', 'DirectoryOrCreate'),
            hostPathVolume('xtables-lock', '/run/xtables.lock', 'FileOrCreate'),
            hostPathVolume('cni-bin-dir', '/opt/cni/bin', 'DirectoryOrCreate'),
            hostPathVolume('cni-net-dir', '/etc/cni/net.d'),
            hostPathVolume('cni-log-dir', '/var/log/calico/cni'),
            { name: 'etcd-certs', secret: { secretName: 'calico-etcd-secrets', defaultMode: 0o400 } },
          ],
        },
      },
    },
  };

  const controllers = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta('calico-kube-controllers', { 'k8s-app': 'calico-kube-controllers' }),
    spec: {
      // Leader election through a Lease makes a second replica a standby; one is the default as in Calico.
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { 'k8s-app': 'calico-kube-controllers' } },
      template: {
        metadata: { name: 'calico-kube-controllers', namespace: ns, labels: { 'k8s-app': 'calico-kube-controllers' } },
        spec: {
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [
            { key: 'CriticalAddonsOnly', operator: 'Exists' },
            { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
          ],
          serviceAccountName: 'calico-kube-controllers',
          priorityClassName: 'system-cluster-critical',
          // etcd is usually reachable only on the host network.
          hostNetwork: true,
          containers: [
            {
              name: 'calico-kube-controllers',
              image: o.image,
              command: ['calico-kube-controllers'],
              env: [
                ...etcdEnv,
                { name: 'ENABLED_CONTROLLERS', value: 'policy,namespace,serviceaccount,workloadendpoint,node' },
                { name: 'HEALTH_PORT', value: String(KUBE_CONTROLLERS_HEALTH_PORT) },
              ],
              volumeMounts: [{ mountPath: '/calico-secrets', name: 'etcd-certs' }],
              // Health answers on 127.0.0.1:HEALTH_PORT; with host networking the kubelet reaches it there.
              livenessProbe: {
                httpGet: { host: '127.0.0.1', path: '/liveness', port: KUBE_CONTROLLERS_HEALTH_PORT },
                periodSeconds: 10,
                initialDelaySeconds: 10,
                failureThreshold: 6,
                timeoutSeconds: 10,
              },
              readinessProbe: {
                httpGet: { host: '127.0.0.1', path: '/readiness', port: KUBE_CONTROLLERS_HEALTH_PORT },
                periodSeconds: 10,
              },
            },
          ],
          volumes: [{ name: 'etcd-certs', secret: { secretName: 'calico-etcd-secrets', defaultMode: 0o440 } }],
        },
      },
    },
  };

  return [secret, config, ...serviceAccounts, ...roles, ...bindings, daemonSet, controllers];
}
