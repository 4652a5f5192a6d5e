// Calico's node address autodetection (node/pkg/lifecycle/startup/autodetection): first-found, interface=REGEX,
// skip-interface=REGEX, can-reach=DEST, cidr=CIDR[,CIDR], kubernetes-internal-ip.
// In: the host's interfaces and addresses (plus the source address toward DEST, or the Kubernetes InternalIP, when
// the method needs one). Out: the node address in CIDR form, e.g. 10.0.0.5/24, or an error saying why. Pure.
import { parseCidr, parseIp, cidrContainsIp, isIp, type IpFamily } from '../../net/ip.js';

export interface HostInterface {
  name: string;
  addresses: { ip: string; prefix: number; family: IpFamily; scope?: string }[];
}

/** Interfaces Calico never picks (its DEFAULT_INTERFACES_TO_EXCLUDE). */
export const EXCLUDED_INTERFACES = [
  /^docker.*/,
  /^cbr.*/,
  /^dummy.*/,
  /^virbr.*/,
  /^lxcbr.*/,
  /^veth.*/,
  /^lo$/,
  /^cali.*/,
  /^tunl.*/,
  /^flannel.*/,
  /^kube-ipvs.*/,
  /^cni.*/,
  /^vxlan\.calico.*/,
  /^vxlan-v6\.calico.*/,
  /^wireguard\.cali$/,
  /^wg-v6\.cali$/,
  /^nodelocaldns.*/,
  /^br-.*/,
];

export class AutodetectError extends Error {}

export interface AutodetectInput {
  interfaces: HostInterface[];
  /** Source address the kernel chose toward the can-reach destination. */
  canReachSource?: string;
  /** The Kubernetes Node's InternalIP addresses. */
  internalIPs?: string[];
}

export type AutodetectMethod =
  | { kind: 'first-found' }
  | { kind: 'interface' | 'skip-interface'; regexes: RegExp[] }
  | { kind: 'can-reach'; destination: string }
  | { kind: 'cidr'; cidrs: string[] }
  | { kind: 'kubernetes-internal-ip' };

/** Parses IP_AUTODETECTION_METHOD / IP6_AUTODETECTION_METHOD; the error names the variable and the reason. */
export function parseAutodetectMethod(text: string | undefined, envName: string): AutodetectMethod {
  const t = (text ?? '').trim();
  if (t === '' || t === 'first-found') return { kind: 'first-found' };
  if (t === 'kubernetes-internal-ip') return { kind: 'kubernetes-internal-ip' };
  const eq = t.indexOf('=');
  const [k, v] = eq < 0 ? [t, ''] : [t.slice(0, eq), t.slice(eq + 1)];
  if (!v)
    throw new AutodetectError(
      `${envName}: "${t}" is not a method (first-found, interface=REGEX, skip-interface=REGEX, can-reach=DEST, cidr=CIDR, kubernetes-internal-ip)`,
    );
  switch (k) {
    case 'interface':
    case 'skip-interface':
      try {
        return { kind: k, regexes: v.split(',').map((r) => new RegExp(r.trim())) };
      } catch (err) {
        throw new AutodetectError(`${envName}: bad regular expression in "${v}": ${(err as Error).message}`);
      }
    case 'can-reach':
      return { kind: 'can-reach', destination: v };
    case 'cidr': {
      const cidrs = v.split(',').map((c) => c.trim());
      for (const c of cidrs) {
        try {
          parseCidr(c);
        } catch {
          throw new AutodetectError(`${envName}: "${c}" is not a CIDR`);
        }
      }
      return { kind: 'cidr', cidrs };
    }
    default:
      throw new AutodetectError(`${envName}: unknown autodetection method "${k}"`);
  }
}

/** Picks the node address; undefined when nothing matches (the caller stops with a clear message). */
export function autodetectAddress(
  method: AutodetectMethod,
  family: IpFamily,
  input: AutodetectInput,
): string | undefined {
  const usable = input.interfaces.filter((i) => !EXCLUDED_INTERFACES.some((re) => re.test(i.name)));
  const candidates = (ifs: HostInterface[]): { ip: string; prefix: number }[] =>
    ifs.flatMap((i) => i.addresses.filter((a) => a.family === family && (a.scope ?? 'global') === 'global'));
  const cidrOf = (ip: string): string | undefined => {
    for (const i of input.interfaces) {
      const a = i.addresses.find((x) => x.ip === ip);
      if (a) return `${a.ip}/${a.prefix}`;
    }
    return undefined;
  };
  const first = (list: { ip: string; prefix: number }[]): string | undefined =>
    list.length ? `${list[0].ip}/${list[0].prefix}` : undefined;
  switch (method.kind) {
    case 'first-found':
      return first(candidates(usable));
    case 'interface':
      return first(candidates(input.interfaces.filter((i) => method.regexes.some((re) => re.test(i.name)))));
    case 'skip-interface':
      return first(candidates(usable.filter((i) => !method.regexes.some((re) => re.test(i.name)))));
    case 'can-reach':
      return input.canReachSource ? cidrOf(input.canReachSource) : undefined;
    case 'cidr': {
      const nets = method.cidrs.map((c) => parseCidr(c));
      return first(candidates(input.interfaces).filter((a) => nets.some((n) => cidrContainsIp(n, parseIp(a.ip)))));
    }
    case 'kubernetes-internal-ip': {
      const ip = (input.internalIPs ?? []).find((x) => isIp(x) && parseIp(x).family === family);
      return ip ? cidrOf(ip) : undefined;
    }
  }
}
