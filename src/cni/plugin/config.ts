// The calico plugin's network configuration (Calico's NetConf, cni.md §B.2): stdin JSON in, a typed CalicoConfig out,
// with Calico's defaults and an error naming the field for bad values. Also node name (§B.3) and MTU resolution.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { CniError, type NetConf } from '../skel/types.js';

export interface CalicoConfig {
  raw: NetConf;
  name: string;
  cniVersion: string;
  /** 0 = not configured (then the MTU file decides). */
  mtu: number;
  numQueues: number;
  nodename?: string;
  nodenameFile: string;
  nodenameFileOptional: boolean;
  ipamType: string;
  policyType: string;
  kubeconfig?: string;
  k8sApiRoot?: string;
  /** kubernetes.node_name: the Node whose podCIDRs replace host-local's usePodCidr. */
  k8sNodeName?: string;
  ipAddrsNoIpam: boolean;
  floatingIps: boolean;
  allowIpForwarding: boolean;
  policySetupTimeoutSeconds: number;
  endpointStatusDir: string;
  requireMtuFile: boolean;
  mtuFile: string;
  deviceType: 'veth';
  readinessGates: string[];
}

const fieldError = (field: string, why: string): CniError =>
  new CniError(7, `invalid calico network config: ${field}: ${why}`);

function obj(conf: Record<string, unknown>, field: string): Record<string, unknown> {
  const v = conf[field];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw fieldError(field, 'must be an object');
  return v as Record<string, unknown>;
}
function str(o: Record<string, unknown>, field: string, label = field): string | undefined {
  const v = o[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw fieldError(label, 'must be a string');
  return v;
}
function bool(o: Record<string, unknown>, field: string, label = field): boolean {
  const v = o[field];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw fieldError(label, 'must be true or false');
  return v;
}
function int(o: Record<string, unknown>, field: string, dflt: number, label = field): number {
  const v = o[field];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw fieldError(label, `must be an integer, got ${JSON.stringify(v)}`);
  return v;
}

function stringList(o: Record<string, unknown>, field: string): string[] {
  const v = o[field];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw fieldError(field, 'must be a list of strings');
  return v as string[];
}

export function parseCalicoConfig(raw: NetConf, env: Record<string, string | undefined>): CalicoConfig {
  const ipam = obj(raw, 'ipam');
  const policy = obj(raw, 'policy');
  const kubernetes = obj(raw, 'kubernetes');
  const features = obj(raw, 'feature_control');
  const container = obj(raw, 'container_settings');
  const mtu = int(raw, 'mtu', 0);
  if (mtu < 0 || mtu > 65535) throw fieldError('mtu', `must be between 0 and 65535, got ${mtu}`);
  const numQueues = int(raw, 'num_queues', 1);
  const timeout = int(raw, 'policy_setup_timeout_seconds', 0);
  if (timeout < 0) throw fieldError('policy_setup_timeout_seconds', `must not be negative, got ${timeout}`);
  // Calico's device types: veth (the default) and netkit, which falls back to veth where the kernel has no netkit;
  // this plugin makes veths only, so netkit always takes that fallback.
  const deviceType = str(raw, 'device_type') ?? 'veth';
  if (deviceType !== 'veth' && deviceType !== 'netkit')
    throw fieldError('device_type', `unsupported device type "${deviceType}" (supported: veth, netkit)`);
  const ipamType = str(ipam, 'type', 'ipam.type');
  if (!ipamType) throw fieldError('ipam.type', 'required (e.g. "calico-ipam" or "host-local")');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(ipamType)) throw fieldError('ipam.type', `not a plugin name: "${ipamType}"`);
  return {
    raw,
    name: raw.name,
    cniVersion: typeof raw.cniVersion === 'string' && raw.cniVersion ? raw.cniVersion : '0.1.0',
    mtu,
    numQueues: numQueues <= 0 ? 1 : numQueues,
    nodename: str(raw, 'nodename'),
    nodenameFile: str(raw, 'nodename_file') ?? env.CALICO_NODENAME_FILE ?? '/var/lib/calico/nodename',
    nodenameFileOptional: bool(raw, 'nodename_file_optional'),
    ipamType,
    policyType: str(policy, 'type', 'policy.type') ?? '',
    kubeconfig: str(kubernetes, 'kubeconfig', 'kubernetes.kubeconfig'),
    k8sNodeName: str(kubernetes, 'node_name', 'kubernetes.node_name'),
    k8sApiRoot: str(kubernetes, 'k8s_api_root', 'kubernetes.k8s_api_root') ?? str(policy, 'k8s_api_root'),
    ipAddrsNoIpam: bool(features, 'ip_addrs_no_ipam', 'feature_control.ip_addrs_no_ipam'),
    floatingIps: bool(features, 'floating_ips', 'feature_control.floating_ips'),
    allowIpForwarding: bool(container, 'allow_ip_forwarding', 'container_settings.allow_ip_forwarding'),
    policySetupTimeoutSeconds: timeout,
    endpointStatusDir:
      str(raw, 'endpoint_status_dir') ?? env.CALICO_ENDPOINT_STATUS_DIR ?? '/var/run/calico/endpoint-status',
    requireMtuFile: bool(raw, 'require_mtu_file'),
    mtuFile: env.CALICO_MTU_FILE ?? '/var/lib/calico/mtu',
    deviceType: 'veth',
    readinessGates: stringList(raw, 'readiness_gates'),
  };
}

/** Calico refuses to run without the node name file unless told it is optional (calico/node writes it at start-up). */
export function requireNodenameFile(conf: CalicoConfig): void {
  if (conf.nodenameFileOptional || existsSync(conf.nodenameFile)) return;
  throw new CniError(
    999,
    `stat ${conf.nodenameFile}: no such file or directory: check that the calico/node container is running and has mounted /var/lib/calico/`,
  );
}

/** Node name precedence: netconf nodename, the node name file, deprecated netconf hostname, the OS hostname. */
export function resolveNodename(conf: CalicoConfig): string {
  if (conf.nodename) return conf.nodename;
  try {
    const fromFile = readFileSync(conf.nodenameFile, 'utf8').trim();
    if (fromFile) return fromFile;
  } catch {
    // fall through
  }
  const legacy = conf.raw.hostname;
  if (typeof legacy === 'string' && legacy) return legacy;
  return hostname().toLowerCase();
}

/** The pod interface MTU: the config's if set, else the MTU file calico-node writes, else 1500. */
export function resolveMtu(conf: CalicoConfig): number {
  return mtuSetting(conf) ?? 1500;
}

/**
 * The MTU the config or the MTU file sets, undefined when neither does (the veth then gets the kernel's 1500 and,
 * as Calico's, the result names no MTU).
 */
export function mtuSetting(conf: CalicoConfig): number | undefined {
  if (conf.mtu > 0) return conf.mtu;
  try {
    const text = readFileSync(conf.mtuFile, 'utf8').trim();
    const n = Number(text);
    if (!Number.isInteger(n) || n <= 0)
      throw new CniError(999, `MTU file ${conf.mtuFile}: not a positive integer: "${text}"`);
    return n;
  } catch (err) {
    if (err instanceof CniError) throw err;
    if (conf.requireMtuFile)
      throw new CniError(999, `MTU file ${conf.mtuFile} is required (require_mtu_file) but missing`);
    return undefined;
  }
}
