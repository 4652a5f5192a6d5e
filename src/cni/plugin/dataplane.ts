// The Linux dataplane of a pod (cni.md §B.6): the veth pair, its sysctls, the pod's addresses, gateway routes and
// permanent neighbour entries, and the host's /32 and /128 routes. Pod side: one streamed shell in the pod's
// namespace (nsenter), started before the addresses are known so the veth is made while IPAM runs; host side: sysctls
// written to /proc/sys directly and links/routes through the resident `ip -batch` session. Also removal and inspection.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { CniError } from '../skel/types.js';
import { hostIpSession, type IpFailure } from './ip-session.js';

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

// Exit codes of the pod-side shell, naming the step that failed.
const EXIT_CREATE = 16;
const EXIT_SYSCTL = 20;
const EXIT_BATCH = 21;

/** `sh -s` inside a network namespace, fed its script as the lines become known. */
class PodShell {
  private readonly child;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number>;
  private onStdout: (() => void)[] = [];

  constructor(netns: string) {
    this.child = spawn('nsenter', [`--net=${netns}`, 'sh', '-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d) => {
      this.stdout += d;
      for (const f of this.onStdout) f();
    });
    this.child.stderr.on('data', (d) => (this.stderr += d));
    this.child.stdin.on('error', () => {}); // an early exit is reported through `exited`
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => {
        this.stderr += e.message;
        resolve(127);
      });
      this.child.on('close', (code) => resolve(code ?? 1));
    });
  }

  write(lines: string[]): void {
    this.child.stdin.write(lines.join('\n') + '\n');
  }

  end(lines: string[]): void {
    this.child.stdin.end(lines.join('\n') + '\n');
  }

  /** Resolves true once stdout has a line `marker`, false if the shell exits first. */
  async printed(marker: string): Promise<boolean> {
    const seen = () => this.stdout.split('\n').includes(marker);
    const exited = this.exited.then(() => seen());
    const shown = new Promise<boolean>((resolve) => {
      if (seen()) resolve(true);
      this.onStdout.push(() => seen() && resolve(true));
    });
    return Promise.race([shown, exited]);
  }
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
 * A pod interface being built. `startPodInterface` makes the veth pair at once (pod end named and placed in the pod's
 * namespace, host end here with Calico's MAC); `finish` adds what needs the addresses. Between the two the caller
 * runs IPAM, so the kernel's link creation and the allocation overlap.
 */
export class PodInterfaceBuild {
  /** True once the veth pair exists (so a rollback has something to remove). */
  linkMade = false;
  readonly mac: string;
  private readonly ready: Promise<PodShell>;

  constructor(private readonly spec: PodLinkSpec) {
    this.mac = spec.mac ?? randomPodMac();
    this.ready = this.create();
  }

  private async create(): Promise<PodShell> {
    const spec = this.spec;
    const ifName = batchSafe('interface name', spec.ifName);
    const hostVeth = batchSafe('host interface name', spec.hostVeth);
    // Calico deletes a leftover host link of the wanted name first.
    if (hostLinkExists(hostVeth)) {
      const failed = await hostIpSession().run([`link del dev ${hostVeth}`], [hostVeth]);
      if (failed.length && hostLinkExists(hostVeth))
        throw new CniError(999, `deleting leftover ${hostVeth}: ${failureText(failed)}`);
    }
    const queues = spec.numQueues > 1 ? ` numtxqueues ${spec.numQueues} numrxqueues ${spec.numQueues}` : '';
    const shell = new PodShell(spec.netns);
    shell.write([
      sysctlLine('ipv4/ip_forward', spec.allowIpForwarding ? 1 : 0),
      `ip link add dev ${ifName} mtu ${spec.mtu} address ${this.mac}${queues} type veth peer name ${hostVeth} ` +
        `mtu ${spec.mtu} address ${HOST_VETH_MAC}${queues} netns /proc/${process.pid}/ns/net </dev/null || exit ${EXIT_CREATE}`,
      'echo created',
    ]);
    if (!(await shell.printed('created'))) {
      const code = await shell.exited;
      const err = shell.stderr.trim();
      if (code === EXIT_CREATE && /File exists/.test(err) && !hostLinkExists(hostVeth)) {
        throw new CniError(999, `interface "${spec.ifName}" already exists in ${spec.netns}: ${err}`);
      }
      if (code === EXIT_SYSCTL) throw new CniError(999, `setting sysctls in ${spec.netns}: ${err}`);
      throw new CniError(999, `creating veth ${spec.hostVeth} / ${spec.ifName}: ${err || `exit ${code}`}`);
    }
    this.linkMade = true;
    hostIpSession().linkCreated(hostVeth);
    return shell;
  }

  /** Resolves once the veth pair exists; rejects with the reason it could not be made. */
  async created(): Promise<void> {
    await this.ready;
  }

  /** Addresses, gateway routes and neighbours in the pod; sysctls, link state and routes on the host. */
  async finish(addresses: string[], hostRoutes: boolean): Promise<{ mac: string }> {
    const shell = await this.ready;
    const ifName = this.spec.ifName;
    const hostVeth = this.spec.hostVeth;
    const v4 = addresses.filter((a) => !isV6(a));
    const v6 = addresses.filter(isV6);

    const pod: string[] = [];
    if (v6.length) {
      for (const scope of ['all', 'default', 'lo', ifName]) pod.push(sysctlLine(`ipv6/conf/${scope}/disable_ipv6`, 0));
      pod.push(sysctlLine(`ipv6/conf/${ifName}/accept_dad`, 0));
      pod.push(sysctlLine('ipv6/conf/all/forwarding', this.spec.allowIpForwarding ? 1 : 0));
    }
    const batch: string[] = [`link set dev ${ifName} up`];
    for (const a of v4) batch.push(`addr add ${a} dev ${ifName}`);
    if (v4.length) {
      batch.push(`route add ${GATEWAY_V4}/32 dev ${ifName} scope link`);
      batch.push(`route add default via ${GATEWAY_V4} dev ${ifName}`);
      batch.push(`neigh add ${GATEWAY_V4} dev ${ifName} lladdr ${HOST_VETH_MAC} nud permanent`);
    }
    for (const a of v6) batch.push(`addr add ${a} dev ${ifName} nodad`);
    if (v6.length) {
      batch.push(`route add ::/0 via ${GATEWAY_V6} dev ${ifName}`);
      batch.push(`neigh add ${GATEWAY_V6} dev ${ifName} lladdr ${HOST_VETH_MAC} nud permanent`);
    }
    pod.push(`ip -batch - <<'CALICO_POD' || exit ${EXIT_BATCH}`, ...batch, 'CALICO_POD', 'exit 0');
    shell.end(pod);

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
    const [hostDone, podCode] = await Promise.allSettled([host, shell.exited]);
    if (hostDone.status === 'rejected') throw hostDone.reason;
    const code = podCode.status === 'fulfilled' ? podCode.value : 1;
    if (code !== 0)
      throw new CniError(999, `setting up ${ifName} in ${this.spec.netns}: ${shell.stderr.trim() || `exit ${code}`}`);
    return { mac: this.mac };
  }

  /** Stops the pod-side shell without configuring anything (the caller then removes what was made). */
  async abandon(): Promise<void> {
    try {
      const shell = await this.ready;
      shell.end(['exit 0']);
      await shell.exited;
    } catch {
      // creation failed: nothing is running
    }
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
    const r = await runShell('ip link del dev "$1" 2>&1 || true', [opts.ifName], opts.netns);
    if (r.code !== 0 && !/Cannot find device|does not exist/.test(r.stdout + r.stderr)) {
      throw new CniError(999, `deleting ${opts.ifName} in ${opts.netns}: ${(r.stdout + r.stderr).trim()}`);
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
