// The pod and namespace annotations calico-ipam honours, parsed strictly: a malformed value is an error naming the
// annotation and its owner, never silently ignored. Pool lists resolve pod annotation > namespace annotation > CNI
// config (`ipam.ipv4_pools` / `ipv6_pools`). Pure.
import { formatIp, parseIp, type IpAddress } from '../../net/ip.js';

export const ANNOTATION_IPV4_POOLS = 'cni.projectcalico.org/ipv4pools';
export const ANNOTATION_IPV6_POOLS = 'cni.projectcalico.org/ipv6pools';
export const ANNOTATION_IP_ADDRS = 'cni.projectcalico.org/ipAddrs';
export const ANNOTATION_IP_FAMILIES = 'cni.projectcalico.org/ipFamilies';

export class AnnotationError extends Error {
  constructor(
    readonly annotation: string,
    readonly owner: string,
    reason: string,
  ) {
    super(`annotation ${annotation} on ${owner}: ${reason}`);
    this.name = 'AnnotationError';
  }
}

function stringList(annotation: string, owner: string, text: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new AnnotationError(annotation, owner, `must be a JSON list of strings, got ${JSON.stringify(text)}`);
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.trim() === '')) {
    throw new AnnotationError(annotation, owner, `must be a JSON list of non-empty strings, got ${text}`);
  }
  return (v as string[]).map((x) => x.trim());
}

export interface AnnotationSource {
  /** e.g. `pod prod/web-0` or `namespace prod`. */
  owner: string;
  annotations: Record<string, string>;
}

export interface PoolSelection {
  ipv4Pools: string[];
  ipv6Pools: string[];
  /** Where the lists came from, for error messages. */
  ipv4From: string;
  ipv6From: string;
}

/** Resolves the pool lists: the first source that sets an annotation wins, else the CNI config's lists. */
export function resolvePoolLists(
  sources: AnnotationSource[],
  config: { ipv4_pools?: unknown; ipv6_pools?: unknown },
): PoolSelection {
  const pick = (annotation: string, cfg: unknown, cfgName: string): [string[], string] => {
    for (const s of sources) {
      const text = s.annotations[annotation];
      if (text !== undefined) return [stringList(annotation, s.owner, text), `annotation ${annotation} on ${s.owner}`];
    }
    if (cfg === undefined || cfg === null) return [[], 'pool selectors'];
    if (!Array.isArray(cfg) || cfg.some((x) => typeof x !== 'string')) {
      throw new Error(`CNI config ipam.${cfgName}: must be a list of pool names or CIDRs`);
    }
    return [cfg as string[], `CNI config ipam.${cfgName}`];
  };
  const [ipv4Pools, ipv4From] = pick(ANNOTATION_IPV4_POOLS, config.ipv4_pools, 'ipv4_pools');
  const [ipv6Pools, ipv6From] = pick(ANNOTATION_IPV6_POOLS, config.ipv6_pools, 'ipv6_pools');
  return { ipv4Pools, ipv6Pools, ipv4From, ipv6From };
}

/** `cni.projectcalico.org/ipAddrs`: specific addresses, at most one per family. */
export function parseIpAddrs(owner: string, text: string): IpAddress[] {
  const list = stringList(ANNOTATION_IP_ADDRS, owner, text);
  const out: IpAddress[] = [];
  for (const s of list) {
    try {
      out.push(parseIp(s));
    } catch {
      throw new AnnotationError(ANNOTATION_IP_ADDRS, owner, `"${s}" is not an IP address`);
    }
  }
  for (const f of [4, 6] as const) {
    if (out.filter((ip) => ip.family === f).length > 1) {
      throw new AnnotationError(
        ANNOTATION_IP_ADDRS,
        owner,
        `more than one IPv${f} address: ${out.map(formatIp).join(', ')}`,
      );
    }
  }
  return out;
}

/** `cni.projectcalico.org/ipFamilies`: ["IPv4"], ["IPv6"] or both. */
export function parseIpFamilies(owner: string, text: string): { ipv4: boolean; ipv6: boolean } {
  const list = stringList(ANNOTATION_IP_FAMILIES, owner, text);
  for (const f of list) {
    if (f !== 'IPv4' && f !== 'IPv6') throw new AnnotationError(ANNOTATION_IP_FAMILIES, owner, `unknown family "${f}"`);
  }
  return { ipv4: list.includes('IPv4'), ipv6: list.includes('IPv6') };
}
