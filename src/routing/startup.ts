// calico-node start-up (node/pkg/lifecycle/startup): works out the node name and addresses, registers the Node,
// writes the node name file, creates the default IP pools, ensures ClusterInformation and the built-in tiers,
// allocates tunnel addresses and writes the MTU file.
// In: environment + datastore + host interfaces. Out: StartupResult for the rest of the node.
import { hostname } from 'node:os';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { run } from '../common/exec.js';
import type { Datastore } from '../datastore/types.js';
import { ResourceClient, ensureInitialized } from '../datastore/resources.js';
import { AlreadyExistsError, ConflictError } from '../datastore/types.js';
import { CALICO_API_VERSION, type Resource } from '../api/resource.js';
import { IpamClient } from '../ipam/client.js';
import { parseCidr, formatCidr, hasHostBits, isIp, parseIp, type IpFamily } from '../net/ip.js';
import { autodetectAddress, parseAutodetectMethod, type HostInterface } from './render/autodetect.js';
import { IPIP_OVERHEAD, VXLAN_OVERHEAD_V4, VXLAN_OVERHEAD_V6 } from './render/route-plan.js';
import { MTU_IFACE_PATTERN } from './routes.js';
import type { NetworkingBackend } from './controller.js';

export const DEFAULT_NODENAME_FILE = '/var/lib/calico/nodename';
export const DEFAULT_MTU_FILE = '/var/lib/calico/mtu';

export class StartupError extends Error {}

export interface StartupOptions {
  env: Record<string, string | undefined>;
  /** Network namespace of the node (tests and the lab). */
  netns?: string;
  log?: (msg: string) => void;
}

export interface StartupResult {
  nodeName: string;
  node: Resource;
  backend: NetworkingBackend;
  ipv4Address?: string;
  ipv6Address?: string;
  mtu: number;
  underlayMtu: number;
}

const ipArgs = (netns: string | undefined, args: string[]): string[] => (netns ? ['-n', netns, ...args] : args);

async function hostInterfaces(netns?: string): Promise<(HostInterface & { mtu: number })[]> {
  const raw = JSON.parse(await run('ip', ipArgs(netns, ['-j', 'addr', 'show']))) as any[];
  return raw.map((l) => ({
    name: l.ifname,
    mtu: l.mtu,
    addresses: (l.addr_info ?? []).map((a: any) => ({
      ip: a.local,
      prefix: a.prefixlen,
      family: a.family === 'inet6' ? 6 : 4,
      scope: a.scope,
    })),
  }));
}

/** The node's address for a family from IP/IP6 and the autodetection method; undefined for `none`. */
async function nodeAddress(
  family: IpFamily,
  nodeName: string,
  opts: StartupOptions,
  ifaces: HostInterface[],
  existing: string | undefined,
): Promise<string | undefined> {
  const varName = family === 4 ? 'IP' : 'IP6';
  const methodVar = family === 4 ? 'IP_AUTODETECTION_METHOD' : 'IP6_AUTODETECTION_METHOD';
  const value = (opts.env[varName] ?? (family === 4 ? '' : 'none')).trim();
  if (value === 'none') return undefined;
  if (value === '' && existing) return existing; // Calico keeps a configured address when IP is unset
  if (value !== '' && value !== 'autodetect') {
    const ip = value.split('/')[0];
    if (!isIp(ip) || parseIp(ip).family !== family) {
      throw new StartupError(`${varName}: "${value}" is not an IPv${family} address (or "autodetect", "none")`);
    }
    if (value.includes('/')) return value;
    for (const i of ifaces) {
      const a = i.addresses.find((x) => x.ip === ip);
      if (a) return `${ip}/${a.prefix}`;
    }
    return `${ip}/${family === 4 ? 32 : 128}`;
  }
  const method = parseAutodetectMethod(opts.env[methodVar], methodVar);
  let canReachSource: string | undefined;
  if (method.kind === 'can-reach') {
    const dest = method.destination;
    try {
      const target = isIp(dest)
        ? dest
        : (await import('node:dns')).promises.lookup(dest, { family }).then((r) => r.address);
      const out = JSON.parse(await run('ip', ipArgs(opts.netns, ['-j', 'route', 'get', await target]))) as any[];
      canReachSource = out[0]?.prefsrc;
    } catch (err) {
      throw new StartupError(`${methodVar}: can-reach=${dest}: no route (${(err as Error).message.trim()})`);
    }
  }
  const internal = method.kind === 'kubernetes-internal-ip' ? await internalIPs(opts, nodeName) : undefined;
  const addr = autodetectAddress(method, family, { interfaces: ifaces, canReachSource, internalIPs: internal });
  if (!addr) {
    throw new StartupError(
      `Couldn't autodetect an IPv${family} address with ${methodVar}=${opts.env[methodVar] || 'first-found'}: ` +
        `no interface has a matching global IPv${family} address. Choose a different autodetection method, or set ` +
        `${varName} to an explicit address (or "none").`,
    );
  }
  return addr;
}

/**
 * The Kubernetes Node's InternalIP addresses (method kubernetes-internal-ip), read from the API server with
 * KUBECONFIG or the in-cluster service account; KUBERNETES_NODE_INTERNAL_IPS (comma list) overrides the lookup.
 */
async function internalIPs(opts: StartupOptions, nodeName: string): Promise<string[]> {
  const override = opts.env.KUBERNETES_NODE_INTERNAL_IPS;
  if (override !== undefined) {
    return override
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }
  const name = opts.env.KUBERNETES_NODE_NAME || nodeName;
  try {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    if (opts.env.KUBECONFIG) kc.loadFromFile(opts.env.KUBECONFIG);
    else kc.loadFromCluster();
    const node = await kc.makeApiClient(k8s.CoreV1Api).readNode({ name });
    return (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
  } catch (err) {
    throw new StartupError(
      `IP_AUTODETECTION_METHOD=kubernetes-internal-ip: could not read Kubernetes Node "${name}": ${(err as Error).message}`,
    );
  }
}

export function parseBackend(text: string | undefined): NetworkingBackend {
  const v = (text ?? 'bird').trim() || 'bird';
  if (v === 'bird' || v === 'vxlan' || v === 'none') return v;
  throw new StartupError(`CALICO_NETWORKING_BACKEND: "${v}" is not one of bird, vxlan, none`);
}

const MODES = ['Always', 'CrossSubnet', 'Never'];

/** The default pool spec for a family from CALICO_IPV{4,6}POOL_*; errors name the variable and the reason. */
export function defaultPoolSpec(family: IpFamily, env: Record<string, string | undefined>): Record<string, unknown> {
  const p = `CALICO_IPV${family}POOL_`;
  const cidrText = env[`${p}CIDR`] || (family === 4 ? '192.168.0.0/16' : randomUla());
  let cidr;
  try {
    cidr = parseCidr(cidrText);
  } catch {
    throw new StartupError(`${p}CIDR: "${cidrText}" is not a CIDR`);
  }
  if (cidr.family !== family) throw new StartupError(`${p}CIDR: "${cidrText}" is not an IPv${family} CIDR`);
  if (hasHostBits(cidrText))
    throw new StartupError(`${p}CIDR: "${cidrText}" has host bits set (did you mean ${formatCidr(cidr)}?)`);
  const blockText = env[`${p}BLOCK_SIZE`];
  const blockSize = blockText ? Number(blockText) : family === 4 ? 26 : 122;
  const [lo, hi] = family === 4 ? [20, 32] : [116, 128];
  if (!Number.isInteger(blockSize) || blockSize < lo || blockSize > hi || blockSize < cidr.prefix) {
    throw new StartupError(`${p}BLOCK_SIZE: "${blockText}" must be from ${lo} to ${hi} and not larger than the pool`);
  }
  const mode = (name: string): string => {
    const v = env[`${p}${name}`];
    if (!v) return 'Never';
    const m = MODES.find((x) => x.toLowerCase() === v.toLowerCase());
    if (!m) throw new StartupError(`${p}${name}: "${v}" is not one of Always, CrossSubnet, Never`);
    return m;
  };
  const vxlanMode = mode('VXLAN');
  const ipipMode = family === 4 ? mode('IPIP') : 'Never';
  if (vxlanMode !== 'Never' && ipipMode !== 'Never') {
    throw new StartupError(`${p}IPIP and ${p}VXLAN: a pool cannot use IPIP and VXLAN at once`);
  }
  const natText = env[`${p}NAT_OUTGOING`];
  if (natText && !/^(true|false)$/i.test(natText))
    throw new StartupError(`${p}NAT_OUTGOING: "${natText}" is not true or false`);
  const natOutgoing = natText ? natText.toLowerCase() === 'true' : family === 4;
  const spec: Record<string, unknown> = {
    cidr: formatCidr(cidr),
    blockSize,
    ipipMode,
    vxlanMode,
    natOutgoing,
    nodeSelector: env[`${p}NODE_SELECTOR`] || 'all()',
  };
  return spec;
}

function randomUla(): string {
  const b = randomBytes(5);
  const hex = (i: number): string => ((b[i] << 8) | b[i + 1]).toString(16);
  return `fd${b[0].toString(16).padStart(2, '0')}:${hex(1)}:${hex(3)}::/48`;
}

function randomVtepMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0] & 0xfe) | 0x02; // locally administered, unicast
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Runs start-up; throws StartupError with a message for the operator when the node cannot start. */
export async function runStartup(ds: Datastore, opts: StartupOptions): Promise<StartupResult> {
  const env = opts.env;
  const log = opts.log ?? (() => {});
  const backend = parseBackend(env.CALICO_NETWORKING_BACKEND);
  const nodeName = (env.NODENAME || env.HOSTNAME || hostname()).trim().toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName)) {
    throw new StartupError(`NODENAME: "${nodeName}" is not a valid node name (lower-case DNS subdomain)`);
  }
  const nodenameFile = env.CALICO_NODENAME_FILE || DEFAULT_NODENAME_FILE;
  mkdirSync(path.dirname(nodenameFile), { recursive: true });
  writeFileSync(nodenameFile, nodeName);

  const client = new ResourceClient(ds);
  const ifaces = await hostInterfaces(opts.netns);
  const existing = await client.find('Node', nodeName);
  const ipv4Address = await nodeAddress(4, nodeName, opts, ifaces, existing?.spec?.bgp?.ipv4Address);
  const ipv6Address = await nodeAddress(6, nodeName, opts, ifaces, existing?.spec?.bgp?.ipv6Address);
  if (!ipv4Address && !ipv6Address && backend !== 'none') {
    throw new StartupError(
      'No IPv4 or IPv6 address for this node: set IP or IP6 (both are "none"), or use CALICO_NETWORKING_BACKEND=none',
    );
  }
  const asText = env.AS?.trim();
  if (asText && !/^\d+(\.\d+)?$/.test(asText)) throw new StartupError(`AS: "${asText}" is not an AS number`);
  log(`node ${nodeName}: IPv4 ${ipv4Address ?? 'none'}, IPv6 ${ipv6Address ?? 'none'}, backend ${backend}`);

  // Calico's EnsureInitialized: ClusterInformation and the built-in tiers (created if absent).
  await ensureInitialized(client, { clusterType: `bgp,${backend === 'vxlan' ? 'vxlan' : 'bgp'}` });
  if (!/^true$/i.test(env.NO_DEFAULT_POOLS ?? '')) await createDefaultPools(client, env, !!ipv6Address, log);

  let node = await updateNode(client, nodeName, (spec) => {
    const bgp = { ...(spec.bgp ?? {}) };
    if (ipv4Address) bgp.ipv4Address = ipv4Address;
    else delete bgp.ipv4Address;
    if (ipv6Address) bgp.ipv6Address = ipv6Address;
    else delete bgp.ipv6Address;
    if (asText) bgp.asNumber = Number(asText);
    spec.bgp = bgp;
  });

  const t = await syncTunnels(ds, { ...opts, nodeName, ipv4Address, ipv6Address });
  node = t.node;
  const { mtu, underlayMtu } = t;

  return { nodeName, node, backend, ipv4Address, ipv6Address, mtu, underlayMtu };
}

export interface TunnelSyncOptions extends StartupOptions {
  nodeName: string;
  ipv4Address?: string;
  ipv6Address?: string;
}

/**
 * Tunnel addresses (ipam.md §5) for each encapsulation the enabled pools use — allocated, kept, or released and
 * cleared from the Node — and the MTU file for the CNI plugin (dataplane.md §2). Run at start-up and again by the
 * routing controller whenever the pools' encapsulation changes (Calico's allocate-tunnel-addrs).
 */
export async function syncTunnels(
  ds: Datastore,
  opts: TunnelSyncOptions,
): Promise<{ node: Resource; mtu: number; underlayMtu: number }> {
  const { env, nodeName, ipv4Address, ipv6Address } = opts;
  const log = opts.log ?? (() => {});
  const client = new ResourceClient(ds);
  const ipam = new IpamClient(ds);
  const pools = (await client.list('IPPool')).items.filter((p) => !p.spec?.disabled);
  const famOf = (p: Resource): IpFamily => parseCidr(p.spec.cidr).family;
  const wantVxlan4 = !!ipv4Address && pools.some((p) => famOf(p) === 4 && (p.spec.vxlanMode ?? 'Never') !== 'Never');
  const wantVxlan6 = !!ipv6Address && pools.some((p) => famOf(p) === 6 && (p.spec.vxlanMode ?? 'Never') !== 'Never');
  const wantIpip = !!ipv4Address && pools.some((p) => famOf(p) === 4 && (p.spec.ipipMode ?? 'Never') !== 'Never');
  const vx4 = wantVxlan4 ? await ipam.ensureTunnelAddress(nodeName, 'vxlan', 4) : undefined;
  const vx6 = wantVxlan6 ? await ipam.ensureTunnelAddress(nodeName, 'vxlan', 6) : undefined;
  const ipip = wantIpip ? await ipam.ensureTunnelAddress(nodeName, 'ipip', 4) : undefined;
  if (!wantVxlan4) await ipam.releaseTunnelAddress(nodeName, 'vxlan', 4);
  if (!wantVxlan6) await ipam.releaseTunnelAddress(nodeName, 'vxlan', 6);
  if (!wantIpip) await ipam.releaseTunnelAddress(nodeName, 'ipip', 4);
  const node = await updateNode(client, nodeName, (spec) => {
    const set = (k: string, v: string | undefined): void => {
      if (v) spec[k] = v;
      else delete spec[k];
    };
    set('ipv4VXLANTunnelAddr', vx4);
    set('vxlanTunnelMACAddr', vx4 ? (spec.vxlanTunnelMACAddr ?? randomVtepMac()) : undefined);
    set('ipv6VXLANTunnelAddr', vx6);
    set('vxlanTunnelMACAddrV6', vx6 ? (spec.vxlanTunnelMACAddrV6 ?? randomVtepMac()) : undefined);
    const bgp = { ...(spec.bgp ?? {}) };
    if (ipip) bgp.ipv4IPIPTunnelAddr = ipip;
    else delete bgp.ipv4IPIPTunnelAddr;
    spec.bgp = bgp;
  });

  // MTU: smallest matching host MTU minus the largest overhead in use.
  const ifaces = await hostInterfaces(opts.netns);
  const mtus = ifaces.filter((i) => MTU_IFACE_PATTERN.test(i.name)).map((i) => i.mtu);
  const underlayMtu = mtus.length ? Math.min(...mtus) : 1500;
  const overhead = Math.max(
    0,
    wantVxlan4 ? VXLAN_OVERHEAD_V4 : 0,
    wantVxlan6 ? VXLAN_OVERHEAD_V6 : 0,
    wantIpip ? IPIP_OVERHEAD : 0,
  );
  const mtu = underlayMtu - overhead;
  const mtuFile = env.CALICO_MTU_FILE || DEFAULT_MTU_FILE;
  mkdirSync(path.dirname(mtuFile), { recursive: true });
  writeFileSync(mtuFile, `${mtu}\n`);
  log(`MTU: underlay ${underlayMtu}, encapsulation overhead ${overhead}, pod MTU ${mtu} written to ${mtuFile}`);
  return { node, mtu, underlayMtu };
}

async function updateNode(
  client: ResourceClient,
  name: string,
  edit: (spec: Record<string, any>) => void,
): Promise<Resource> {
  for (let attempt = 0; ; attempt++) {
    const current = await client.find('Node', name);
    const spec = structuredClone(current?.spec ?? {});
    edit(spec);
    try {
      if (!current) {
        return await client.create({ apiVersion: CALICO_API_VERSION, kind: 'Node', metadata: { name }, spec });
      }
      return await client.update({ ...current, spec });
    } catch (err) {
      if ((err instanceof ConflictError || err instanceof AlreadyExistsError) && attempt < 10) continue;
      throw err;
    }
  }
}

async function createDefaultPools(
  client: ResourceClient,
  env: Record<string, string | undefined>,
  ipv6: boolean,
  log: (msg: string) => void,
): Promise<void> {
  const pools = (await client.list('IPPool')).items;
  for (const family of [4, 6] as const) {
    if (family === 6 && !ipv6 && !env.CALICO_IPV6POOL_CIDR) continue;
    if (pools.some((p) => parseCidr(p.spec.cidr).family === family)) continue;
    const name = `default-ipv${family}-ippool`;
    try {
      await client.create({
        apiVersion: CALICO_API_VERSION,
        kind: 'IPPool',
        metadata: { name },
        spec: defaultPoolSpec(family, env),
      });
      log(`created IP pool ${name}`);
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err; // another node created it first
    }
  }
}

/** The MTU calico-node last wrote (for status output and the CNI plugin's fallback). */
export function readMtuFile(file = DEFAULT_MTU_FILE): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
