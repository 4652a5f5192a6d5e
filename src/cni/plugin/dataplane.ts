// The Linux dataplane of a pod (cni.md §B.6): the veth pair, its sysctls, the pod's addresses, gateway routes and
// permanent neighbour entries, and the host's /32 and /128 routes — done with one shell per namespace (iproute2
// inside), so an ADD costs two process starts. Also removal (idempotent) and inspection for CHECK.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { CniError } from '../skel/types.js';

export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';
export const GATEWAY_V4 = '169.254.1.1';
/** The host veth's link-local address, derived (EUI-64) from HOST_VETH_MAC. */
export const GATEWAY_V6 = 'fe80::ecee:eeff:feee:eeee';

export interface PodInterfaceSpec {
  netns: string;
  ifName: string;
  hostVeth: string;
  mtu: number;
  numQueues: number;
  /** Addresses with their host prefix: a.b.c.d/32, x::y/128. */
  addresses: string[];
  /** Container MAC; random locally administered when absent. */
  mac?: string;
  allowIpForwarding: boolean;
  hostRoutes: boolean;
}

export interface ShellResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `sh -c script sh args...`, optionally inside a network namespace (nsenter keeps /sys and mounts as they are). */
export function runShell(script: string, args: string[], netns?: string): Promise<ShellResult> {
  const argv = netns ? ['--net=' + netns, 'sh', '-c', script, 'sh', ...args] : ['-c', script, 'sh', ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(netns ? 'nsenter' : 'sh', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** A link of this name exists in our own network namespace (/proc/sys/net is per-namespace of the reader). */
export const hostLinkExists = (name: string): boolean =>
  existsSync(`/proc/sys/net/ipv4/conf/${name}`) || existsSync(`/proc/sys/net/ipv6/conf/${name}`);

export function randomPodMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02; // unicast, locally administered
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

const isV6 = (cidr: string): boolean => cidr.includes(':');

// iproute2's batch tokenizer splits on whitespace and honours quotes; names reaching it must not contain these.
function batchSafe(what: string, name: string): string {
  if (!/^[A-Za-z0-9_.@%+=-]+$/.test(name)) {
    throw new CniError(4, `${what} "${name}" contains characters this plugin cannot pass to iproute2`);
  }
  return name;
}

/**
 * Creates the veth pair with the pod end already in the pod's namespace, the host end's MAC, sysctls, state and
 * routes. Returns the container MAC. Throws with the failing command's output; the caller rolls back.
 */
export async function createPodInterface(spec: PodInterfaceSpec): Promise<{ mac: string }> {
  const ifName = batchSafe('interface name', spec.ifName);
  const hostVeth = batchSafe('host interface name', spec.hostVeth);
  const mac = spec.mac ?? randomPodMac();
  const v4 = spec.addresses.filter((a) => !isV6(a));
  const v6 = spec.addresses.filter(isV6);
  const queues = spec.numQueues > 1 ? ` numtxqueues ${spec.numQueues} numrxqueues ${spec.numQueues}` : '';

  // Pod namespace ($1 = pod ifname): sysctls, then one iproute2 batch.
  const pod: string[] = ['set -e'];
  pod.push(`echo ${spec.allowIpForwarding ? 1 : 0} > /proc/sys/net/ipv4/ip_forward`);
  if (v6.length) {
    for (const scope of ['all', 'default', 'lo', '$1'])
      pod.push(`echo 0 > /proc/sys/net/ipv6/conf/${scope}/disable_ipv6`);
    pod.push('echo 0 > /proc/sys/net/ipv6/conf/$1/accept_dad');
    pod.push(`echo ${spec.allowIpForwarding ? 1 : 0} > /proc/sys/net/ipv6/conf/all/forwarding`);
  }
  const podBatch: string[] = [`link set dev ${ifName} up`];
  for (const a of v4) podBatch.push(`addr add ${a} dev ${ifName}`);
  if (v4.length) {
    podBatch.push(`route add ${GATEWAY_V4}/32 dev ${ifName} scope link`);
    podBatch.push(`route add default via ${GATEWAY_V4} dev ${ifName}`);
    podBatch.push(`neigh add ${GATEWAY_V4} dev ${ifName} lladdr ${HOST_VETH_MAC} nud permanent`);
  }
  for (const a of v6) podBatch.push(`addr add ${a} dev ${ifName} nodad`);
  if (v6.length) {
    podBatch.push(`route add ::/0 via ${GATEWAY_V6} dev ${ifName}`);
    podBatch.push(`neigh add ${GATEWAY_V6} dev ${ifName} lladdr ${HOST_VETH_MAC} nud permanent`);
  }
  pod.push(`ip -batch - <<'CALICO_POD'\n${podBatch.join('\n')}\nCALICO_POD`);

  // Host namespace ($1 host veth, $2 pod ifname, $3 pod netns path, $4 pod MAC, $5 the pod script): one shell does
  // it all, so the whole dataplane costs one process start from Node. Exit 16: link creation, 17: route conflict,
  // anything else: the pod side.
  const host: string[] = [];
  if (hostLinkExists(hostVeth)) host.push('ip link del dev "$1" 2>/dev/null || true');
  host.push(
    `ip link add dev "$1" mtu ${spec.mtu} address ${HOST_VETH_MAC}${queues} type veth peer name "$2" mtu ${spec.mtu} address "$4"${queues} netns "$3" || exit 16`,
  );
  host.push('set -e');
  const sysctl = (path: string, value: number, optional = false) =>
    host.push(`echo ${value} > /proc/sys/net/${path}${optional ? ' 2>/dev/null || true' : ''}`);
  if (v4.length) {
    sysctl('ipv4/conf/$1/route_localnet', 1);
    sysctl('ipv4/neigh/$1/proxy_delay', 0, true);
    sysctl('ipv4/conf/$1/proxy_arp', 1);
    sysctl('ipv4/conf/$1/forwarding', 1);
  }
  if (v6.length) {
    sysctl('ipv6/conf/$1/accept_dad', 0);
    sysctl('ipv6/conf/$1/disable_ipv6', 0);
    sysctl('ipv6/conf/$1/proxy_ndp', 1);
    sysctl('ipv6/conf/$1/forwarding', 1);
  }
  sysctl('ipv6/conf/$1/accept_ra', 0, true);
  const hostBatch = [`link set dev ${hostVeth} up`];
  const routed = spec.hostRoutes ? spec.addresses : [];
  for (const a of routed) hostBatch.push(`route add ${a} dev ${hostVeth} scope link`);
  // An existing route is fine on this veth and an error on any other interface (as Calico).
  host.push(
    `if ! err=$(ip -force -batch - 2>&1 <<'CALICO_HOST'\n${hostBatch.join('\n')}\nCALICO_HOST\n); then`,
    `  for a in ${routed.join(' ') || '-'}; do [ "$a" = - ] && continue; r=$(ip route show exact "$a"); case "$r" in *"dev $1 "*) ;; *) echo "route $a already exists for an interface other than '$1': $r" >&2; exit 17;; esac; done`,
    '  ip link show dev "$1" | grep -q ",UP" || { echo "$err" >&2; exit 18; }',
    'fi',
  );
  host.push('exec nsenter --net="$3" sh -c "$5" sh "$2"');
  const h = await runShell(host.join('\n'), [hostVeth, ifName, spec.netns, mac, pod.join('\n')]);
  if (h.code === 16) {
    throw new CniError(
      999,
      /File exists/.test(h.stderr)
        ? `interface "${spec.ifName}" already exists in ${spec.netns}: ${h.stderr.trim()}`
        : `creating veth ${spec.hostVeth} / ${spec.ifName}: ${h.stderr.trim()}`,
    );
  }
  if (h.code === 17 || h.code === 18 || (h.code !== 0 && !hostLinkExists(hostVeth))) {
    throw new CniError(999, `setting up host side of ${spec.hostVeth}: ${h.stderr.trim()}`);
  }
  if (h.code !== 0) throw new CniError(999, `setting up ${spec.ifName} in ${spec.netns}: ${h.stderr.trim()}`);
  return { mac };
}

/**
 * Removes the pod's interface (which removes the host end and its routes too). Missing netns or interface is not an
 * error; with no netns, a leftover host veth is deleted directly.
 */
export async function removePodInterface(opts: { netns?: string; ifName: string; hostVeth?: string }): Promise<void> {
  if (opts.netns && existsSync(opts.netns)) {
    const r = await runShell('ip link del dev "$1" 2>&1 || true', [opts.ifName], opts.netns);
    if (r.code !== 0 && !/Cannot find device|does not exist/.test(r.stdout + r.stderr)) {
      throw new CniError(999, `deleting ${opts.ifName} in ${opts.netns}: ${(r.stdout + r.stderr).trim()}`);
    }
  }
  if (opts.hostVeth && hostLinkExists(opts.hostVeth)) {
    const r = await runShell('ip link del dev "$1"', [opts.hostVeth]);
    if (r.code !== 0 && hostLinkExists(opts.hostVeth)) {
      throw new CniError(999, `deleting host interface ${opts.hostVeth}: ${r.stderr.trim()}`);
    }
  }
}

export interface PodInterfaceState {
  exists: boolean;
  mac?: string;
  mtu?: number;
  addresses: string[];
  routes: { dst: string; gateway?: string }[];
}

/** Reads the pod interface's MAC, addresses and routes (for CHECK). */
export async function inspectPodInterface(netns: string, ifName: string): Promise<PodInterfaceState> {
  if (!existsSync(netns)) return { exists: false, addresses: [], routes: [] };
  const r = await runShell(
    'ip -j link show dev "$1" || exit 3; echo; ip -j addr show dev "$1"; echo; ip -j route show dev "$1"; echo; ip -j -6 route show dev "$1"',
    [ifName],
    netns,
  );
  if (r.code === 3) return { exists: false, addresses: [], routes: [] };
  if (r.code !== 0) throw new CniError(999, `inspecting ${ifName} in ${netns}: ${r.stderr.trim()}`);
  const [link, addrs, routes4, routes6] = r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
  const addresses: string[] = [];
  for (const a of (addrs?.[0]?.addr_info ?? []) as { local: string; prefixlen: number; scope: string }[]) {
    if (a.scope !== 'link') addresses.push(`${a.local}/${a.prefixlen}`);
  }
  const rs = [...(routes4 ?? []), ...(routes6 ?? [])] as { dst: string; gateway?: string }[];
  return {
    exists: true,
    mac: link?.[0]?.address,
    mtu: link?.[0]?.mtu,
    addresses,
    routes: rs.map((x) => ({ dst: x.dst, gateway: x.gateway })),
  };
}

/** The host routes through a veth (for CHECK). */
export async function hostRoutesVia(hostVeth: string): Promise<string[]> {
  if (!hostLinkExists(hostVeth)) return [];
  const r = await runShell('ip -j route show dev "$1"; echo; ip -j -6 route show dev "$1"', [hostVeth]);
  if (r.code !== 0) throw new CniError(999, `listing routes of ${hostVeth}: ${r.stderr.trim()}`);
  const out: string[] = [];
  for (const line of r.stdout.split('\n').filter((l) => l.trim() !== '')) {
    for (const rt of JSON.parse(line) as { dst: string }[]) out.push(rt.dst);
  }
  return out;
}
