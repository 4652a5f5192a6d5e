// The Linux dataplane of a pod (cni.md §B.6): the veth pair, its sysctls, the pod's addresses, gateway routes and
// permanent neighbour entries, and the host's /32 and /128 routes. No process is started per pod from Node: host
// links and routes go through the resident `ip -batch` session (the veth is made there while IPAM runs), host sysctls
// are written to /proc/sys directly, and the pod side runs in the pod's namespace as a chain the resident launcher
// shell starts when the request arrives (nsenter, sh and iproute2's `ip -batch` are started and waiting while the veth
// and IPAM are made) and feeds once the addresses are known. Also removal (idempotent) and inspection for CHECK.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { CniError } from '../skel/types.js';
import { hostIpSession, type IpFailure } from './ip-session.js';
import { EXIT_SYSCTL, PodSideChain, inNetns } from './pod-side.js';
import { shQuote } from './shell-launcher.js';

export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';
export const GATEWAY_V4 = '169.254.1.1';
/** The host veth's link-local address, derived (EUI-64) from HOST_VETH_MAC. */
export const GATEWAY_V6 = 'fe80::ecee:eeff:feee:eeee';

/** What the veth pair needs before the addresses are known. */
export interface PodLinkSpec {
  netns: string;
  ifName: string;
  hostVeth: string;
  mtu: number;
  numQueues: number;
  /** Container MAC; random locally administered when absent. */
  mac?: string;
  allowIpForwarding: boolean;
  /** The pod side, started by the caller already (else started here). */
  podSide?: PodSideChain;
  /** Destinations routed through the gateway in the pod (pod-routes.ts); Calico's defaults when absent. */
  podRoutes?: readonly string[];
}

export interface PodInterfaceSpec extends PodLinkSpec {
  /** Addresses with their host prefix: a.b.c.d/32, x::y/128. */
  addresses: string[];
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

function sysctlLine(path: string, value: number): string {
  return `echo ${value} > /proc/sys/net/${path} || exit ${EXIT_SYSCTL}`;
}

/** Writes a host-side sysctl straight to /proc/sys (this process's own namespace). */
function writeSysctl(path: string, value: number, optional = false): void {
  try {
    writeFileSync(`/proc/sys/net/${path}`, `${value}\n`);
  } catch (err) {
    if (!optional)
      throw new CniError(999, `setting net.${path.replace(/\//g, '.')}=${value}: ${(err as Error).message}`);
  }
}

const failureText = (f: IpFailure[]): string => f.map((x) => `${x.command}: ${x.message}`).join('; ');

/** The route for `addr` when it is on another interface than `dev` (Calico refuses to take it over). */
async function routeElsewhere(addr: string, dev: string): Promise<string | undefined> {
  const r = await runShell(`ip ${isV6(addr) ? '-6 ' : ''}route show exact "$1"`, [addr]);
  const line = r.stdout.trim();
  const words = line.split(/\s+/);
  const at = words.indexOf('dev');
  if (line === '' || (at >= 0 && words[at + 1] === dev)) return undefined;
  return line;
}

/**
 * A pod interface being built. Construction makes the veth pair at once through the host's resident `ip` (host end
 * here with Calico's MAC, pod end named and placed in the pod's namespace); `finish` adds what needs the addresses.
 * Between the two the caller runs IPAM, so the kernel's link creation and the allocation overlap.
 */
export class PodInterfaceBuild {
  /** True once the veth pair exists (so a rollback has something to remove). */
  linkMade = false;
  /** The pod interface's MAC: the one it was made with, or the one useMac() asks for (set in the pod before up). */
  mac: string;
  private readonly madeWithMac: string;
  private readonly ready: Promise<void>;
  /** The pod side: its chain waits in the pod's namespace for the addresses. */
  private readonly podSide: PodSideChain;

  constructor(private readonly spec: PodLinkSpec) {
    this.mac = this.madeWithMac = spec.mac ?? randomPodMac();
    this.ready = this.create();
    this.ready.catch(() => {}); // reported by created() / finish()
    this.podSide = spec.podSide ?? new PodSideChain(spec);
  }

  private async create(): Promise<void> {
    const spec = this.spec;
    const ifName = batchSafe('interface name', spec.ifName);
    const hostVeth = batchSafe('host interface name', spec.hostVeth);
    if (/["\\\n]/.test(spec.netns)) {
      throw new CniError(4, `CNI_NETNS "${spec.netns}" contains characters this plugin cannot pass to iproute2`);
    }
    if (!existsSync(spec.netns)) throw new CniError(999, `CNI_NETNS ${spec.netns} does not exist`);
    const session = hostIpSession();
    // Calico deletes a leftover host link of the wanted name first.
    if (hostLinkExists(hostVeth)) {
      const failed = await session.run([`link del dev ${hostVeth}`], [hostVeth]);
      if (failed.length && hostLinkExists(hostVeth))
        throw new CniError(999, `deleting leftover ${hostVeth}: ${failureText(failed)}`);
    }
    session.linkCreated(hostVeth);
    const queues = spec.numQueues > 1 ? ` numtxqueues ${spec.numQueues} numrxqueues ${spec.numQueues}` : '';
    const failed = await session.run(
      [
        `link add dev ${hostVeth} mtu ${spec.mtu} address ${HOST_VETH_MAC}${queues} type veth peer name ${ifName} ` +
          `mtu ${spec.mtu} address ${this.madeWithMac}${queues} netns "${spec.netns}"`,
      ],
      [],
    );
    if (failed.length) {
      const err = failed[0]!.message;
      if (hostLinkExists(hostVeth)) {
        // Made after all: the session retried the line after iproute2 exited having run it (the retry then meets
        // "File exists"). The name is this pod's own, so the link is ours to finish or roll back.
        this.linkMade = true;
        return;
      }
      if (/File exists/.test(err)) {
        throw new CniError(999, `interface "${spec.ifName}" already exists in ${spec.netns}: ${err}`);
      }
      throw new CniError(999, `creating veth ${spec.hostVeth} / ${spec.ifName}: ${err}`);
    }
    this.linkMade = true;
  }

  /**
   * The pod interface's MAC when it is known only after the pair was started (a pod annotation read while the kernel
   * made the veth): finish() sets it in the pod, before the link goes up.
   */
  useMac(mac: string): void {
    if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac)) throw new CniError(999, `"${mac}" is not a MAC address`);
    this.mac = mac;
  }

  /** Resolves once the veth pair exists; rejects with the reason it could not be made. */
  async created(): Promise<void> {
    await this.ready;
  }

  /** Addresses, gateway routes and neighbours in the pod; sysctls, link state and routes on the host. */
  async finish(addresses: string[], hostRoutes: boolean): Promise<{ mac: string }> {
    try {
      await this.ready;
    } catch (err) {
      this.podSide.release();
      throw err;
    }
    const ifName = this.spec.ifName;
    const hostVeth = this.spec.hostVeth;
    const v4 = addresses.filter((a) => !isV6(a));
    const v6 = addresses.filter(isV6);

    // Pod side: one script in the pod's namespace — sysctls, then one iproute2 batch.
    const pod: string[] = [sysctlLine('ipv4/ip_forward', this.spec.allowIpForwarding ? 1 : 0)];
    if (v6.length) {
      for (const scope of ['all', 'default', 'lo', ifName]) pod.push(sysctlLine(`ipv6/conf/${scope}/disable_ipv6`, 0));
      pod.push(sysctlLine(`ipv6/conf/${ifName}/accept_dad`, 0));
      pod.push(sysctlLine('ipv6/conf/all/forwarding', this.spec.allowIpForwarding ? 1 : 0));
    }
    const batch: string[] = [];
    if (this.mac !== this.madeWithMac) batch.push(`link set dev ${ifName} address ${this.mac}`);
    batch.push(`link set dev ${ifName} up`);
    for (const a of v4) batch.push(`addr add ${a} dev ${ifName}`);
    const routes = this.spec.podRoutes ?? ['0.0.0.0/0', '::/0'];
    if (v4.length) {
      batch.push(`route add ${GATEWAY_V4}/32 dev ${ifName} scope link`);
      for (const dst of routes.filter((r) => !isV6(r))) batch.push(`route add ${dst} via ${GATEWAY_V4} dev ${ifName}`);
      batch.push(`neigh add ${GATEWAY_V4} dev ${ifName} lladdr ${HOST_VETH_MAC} nud permanent`);
    }
    for (const a of v6) batch.push(`addr add ${a} dev ${ifName} nodad`);
    if (v6.length) {
      for (const dst of routes.filter(isV6)) batch.push(`route add ${dst} via ${GATEWAY_V6} dev ${ifName}`);
      batch.push(`neigh add ${GATEWAY_V6} dev ${ifName} lladdr ${HOST_VETH_MAC} nud permanent`);
    }
    const podDone = this.podSide.run(v6.length > 0, pod, batch);

    // Host side, meanwhile: sysctls straight to /proc/sys, then link state and routes through the resident `ip`.
    const host = (async () => {
      if (v4.length) {
        writeSysctl(`ipv4/conf/${hostVeth}/route_localnet`, 1);
        writeSysctl(`ipv4/neigh/${hostVeth}/proxy_delay`, 0, true);
        writeSysctl(`ipv4/conf/${hostVeth}/proxy_arp`, 1);
        writeSysctl(`ipv4/conf/${hostVeth}/forwarding`, 1);
      }
      if (v6.length) {
        writeSysctl(`ipv6/conf/${hostVeth}/accept_dad`, 0);
        writeSysctl(`ipv6/conf/${hostVeth}/disable_ipv6`, 0);
        writeSysctl(`ipv6/conf/${hostVeth}/proxy_ndp`, 1);
        writeSysctl(`ipv6/conf/${hostVeth}/forwarding`, 1);
      }
      writeSysctl(`ipv6/conf/${hostVeth}/accept_ra`, 0, true);
      const routed = hostRoutes ? addresses : [];
      const failed = await hostIpSession().run(
        [`link set dev ${hostVeth} up`, ...routed.map((a) => `route add ${a} dev ${hostVeth} scope link`)],
        [hostVeth],
      );
      for (const f of failed) {
        const addr = /^route add (\S+) /.exec(f.command)?.[1];
        // An existing route is fine on this veth and an error on any other interface (as Calico).
        if (addr && /File exists/.test(f.message)) {
          const other = await routeElsewhere(addr, hostVeth);
          if (other)
            throw new CniError(999, `route ${addr} already exists for an interface other than '${hostVeth}': ${other}`);
          continue;
        }
        throw new CniError(999, `setting up host side of ${hostVeth}: ${f.command}: ${f.message}`);
      }
    })();
    const [hostDone, podResult] = await Promise.allSettled([host, podDone]);
    if (hostDone.status === 'rejected') throw hostDone.reason;
    if (podResult.status === 'rejected') throw new CniError(999, `setting up ${ifName}: ${podResult.reason}`);
    const { code, output } = podResult.value;
    if (code !== 0) {
      const step = code === EXIT_SYSCTL ? 'sysctls' : 'addresses and routes';
      throw new CniError(999, `setting up ${ifName} in ${this.spec.netns} (${step}): ${output.trim()}`);
    }
    return { mac: this.mac };
  }

  /** Ends the waiting pod-side chain and waits for the veth creation to settle, so a rollback sees its outcome. */
  async abandon(): Promise<void> {
    this.podSide.release();
    await this.ready.catch(() => {});
  }
}

export function startPodInterface(spec: PodLinkSpec): PodInterfaceBuild {
  return new PodInterfaceBuild(spec);
}

/**
 * Creates the veth pair with the pod end in the pod's namespace, the host end's MAC, sysctls, state and routes.
 * Returns the container MAC. Throws with the failing command's output; the caller rolls back.
 */
export async function createPodInterface(spec: PodInterfaceSpec): Promise<{ mac: string }> {
  const build = startPodInterface(spec);
  return build.finish(spec.addresses, spec.hostRoutes);
}

/** Deletes host routes to the pod's addresses through its veth (before its addresses are released). */
export async function removeHostRoutes(hostVeth: string, addresses: string[]): Promise<void> {
  if (!addresses.length || !hostLinkExists(hostVeth)) return;
  const failed = await hostIpSession().run(
    addresses.map((a) => `route del ${a} dev ${hostVeth}`),
    [hostVeth],
  );
  const real = failed.filter((f) => !/No such process|Cannot find device|No such device/.test(f.message));
  if (real.length) throw new CniError(999, `deleting routes via ${hostVeth}: ${failureText(real)}`);
}

/**
 * Removes the pod's interface, with its host end and routes. When the host end is given and present, deleting it
 * (from here, no process start) removes its peer in the pod too; otherwise the pod's interface is deleted inside
 * its namespace. A missing namespace or interface is not an error.
 */
export async function removePodInterface(opts: { netns?: string; ifName: string; hostVeth?: string }): Promise<void> {
  if (opts.hostVeth && hostLinkExists(opts.hostVeth)) {
    const failed = await hostIpSession().run([`link del dev ${opts.hostVeth}`], [opts.hostVeth]);
    if (failed.length && hostLinkExists(opts.hostVeth)) {
      throw new CniError(999, `deleting host interface ${opts.hostVeth}: ${failureText(failed)}`);
    }
    return;
  }
  if (opts.netns && existsSync(opts.netns)) {
    const r = await inNetns(opts.netns, (ip) => `${ip} link del dev ${shQuote(opts.ifName)}`);
    if (r.code !== 0 && !/Cannot find device|does not exist/.test(r.output)) {
      throw new CniError(999, `deleting ${opts.ifName} in ${opts.netns}: ${r.output.trim()}`);
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
