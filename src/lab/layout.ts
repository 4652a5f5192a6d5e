// The lab's topology as data: names of namespaces and links, underlay addresses, per-node root directories and the
// environment each node's processes get (CONVENTIONS.md: node N's root is <labdir>/nodes/<N>/, every host-path
// override set). Pure: computing a layout touches nothing.
import path from 'node:path';

export type LabMode = 'bgp' | 'vxlan' | 'vxlan-crosssubnet';
export type LabDatastore = 'sqlite' | 'etcd';

export interface LabOptions {
  labDir: string;
  nodes: number;
  datastore: LabDatastore;
  mode: LabMode;
  ipv6: boolean;
  /** Prefix of every namespace the lab creates; lets tests run a lab beside a user's. */
  prefix: string;
}

export interface LabNode {
  name: string;
  netns: string;
  /** Name of the node's underlay veth end inside the underlay namespace. */
  underlayPort: string;
  ipv4: string;
  prefixLength: number;
  gateway4: string;
  ipv6?: string;
  gateway6?: string;
  root: string;
}

export interface LabLayout {
  options: LabOptions;
  underlayNetns: string;
  bridge: string;
  /** Addresses the underlay namespace holds on the bridge (one per subnet), CIDR form. */
  underlayAddresses: string[];
  underlayAddresses6: string[];
  /** Where etcd and the Kubernetes API server listen. */
  serviceAddress: string;
  etcdEndpoint: string;
  apiServerUrl: string;
  sqlitePath: string;
  nodes: LabNode[];
  defaultPoolCidr: string;
  defaultPoolCidr6: string;
}

export const DEFAULT_LAB_DIR = '/var/lib/calico-lab';
export const DEFAULT_PREFIX = 'cl-';
export const ETCD_PORT = 2379;
export const API_SERVER_PORT = 6443;

export function labLayout(options: LabOptions): LabLayout {
  const p = options.prefix;
  const crossSubnet = options.mode === 'vxlan-crosssubnet';
  const nodes: LabNode[] = [];
  for (let i = 1; i <= options.nodes; i++) {
    // Cross-subnet: odd nodes in 172.31.255.0/24, even nodes in 172.31.254.0/24, routed by the underlay namespace.
    const subnet = crossSubnet && i % 2 === 0 ? 254 : 255;
    const name = `node${i}`;
    nodes.push({
      name,
      netns: `${p}n${i}`,
      underlayPort: `ul-n${i}`,
      ipv4: `172.31.${subnet}.${10 + i}`,
      prefixLength: 24,
      gateway4: `172.31.${subnet}.1`,
      ipv6: options.ipv6 ? `fd00:ca11:${subnet.toString(16)}::${(10 + i).toString(16)}` : undefined,
      gateway6: options.ipv6 ? `fd00:ca11:${subnet.toString(16)}::1` : undefined,
      root: path.join(options.labDir, 'nodes', name),
    });
  }
  const underlayAddresses = crossSubnet ? ['172.31.255.1/24', '172.31.254.1/24'] : ['172.31.255.1/24'];
  const underlayAddresses6 = !options.ipv6
    ? []
    : crossSubnet
      ? ['fd00:ca11:ff::1/64', 'fd00:ca11:fe::1/64']
      : ['fd00:ca11:ff::1/64'];
  const serviceAddress = '172.31.255.1';
  return {
    options,
    underlayNetns: `${p}ul`,
    bridge: 'br0',
    underlayAddresses,
    underlayAddresses6,
    serviceAddress,
    etcdEndpoint: `http://${serviceAddress}:${ETCD_PORT}`,
    apiServerUrl: `https://${serviceAddress}:${API_SERVER_PORT}`,
    sqlitePath: path.join(options.labDir, 'calico.db'),
    nodes,
    defaultPoolCidr: '192.168.0.0/16',
    defaultPoolCidr6: 'fd00:c0de::/48',
  };
}

/** Host paths of one node (CONVENTIONS.md "Host paths"), all under the node's root. */
export function nodePaths(node: LabNode) {
  const r = node.root;
  return {
    nodenameFile: path.join(r, 'var/lib/calico/nodename'),
    mtuFile: path.join(r, 'var/lib/calico/mtu'),
    ipamLockFile: path.join(r, 'var/run/calico/ipam.lock'),
    agentSocket: path.join(r, 'var/run/calico/cni-server.sock'),
    birdSocket: path.join(r, 'var/run/calico/bird.ctl'),
    birdConfigDir: path.join(r, 'etc/calico/confd/config'),
    endpointStatusDir: path.join(r, 'var/run/calico/endpoint-status'),
    cniNetDir: path.join(r, 'etc/cni/net.d'),
    cniBinDir: path.join(r, 'opt/cni/bin'),
    logDir: path.join(r, 'log'),
  };
}

/** The datastore settings every program of the lab reads (CONVENTIONS.md "Datastore settings"). */
export function datastoreEnv(layout: LabLayout): Record<string, string> {
  return layout.options.datastore === 'etcd'
    ? { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: layout.etcdEndpoint }
    : { DATASTORE_TYPE: 'sqlite', SQLITE_PATH: layout.sqlitePath };
}
