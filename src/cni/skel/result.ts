// CNI Success results and their per-version shapes (spec §Result, libcni's types 020/040/100). Any accepted shape
// flows in (0.2.0's ip4/ip6 objects, 0.3.x/0.4.0's versioned ips, 1.x's), is normalised, and flows out in the
// shape of the requested version. Pure.
import { CniError } from './types.js';
import { versionAtLeast } from './versions.js';

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}
export interface CniIpConfig {
  address: string;
  gateway?: string;
  interface?: number;
}
export interface CniRoute {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}
export interface CniDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}
/** The normalised (1.x) form every plugin builds; convertResult renders it for a version. */
export interface CniResult {
  cniVersion?: string;
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: CniRoute[];
  dns?: CniDns;
}

const isV6 = (cidrOrIp: string): boolean => cidrOrIp.includes(':');

function clean<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out as T;
}

function normaliseDns(d: unknown): CniDns {
  if (!d || typeof d !== 'object') return {};
  const x = d as Record<string, unknown>;
  const strs = (v: unknown): string[] | undefined =>
    Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : undefined;
  return clean({
    nameservers: strs(x.nameservers),
    domain: typeof x.domain === 'string' ? x.domain : undefined,
    search: strs(x.search),
    options: strs(x.options),
  });
}

/** Reads a result of any supported shape into the normalised form. */
export function normaliseResult(raw: Record<string, unknown>): CniResult {
  if ('ip4' in raw || 'ip6' in raw) {
    const ips: CniIpConfig[] = [];
    const routes: CniRoute[] = [];
    for (const key of ['ip4', 'ip6']) {
      const fam = raw[key] as { ip?: string; gateway?: string; routes?: { dst: string; gw?: string }[] } | undefined;
      if (!fam?.ip) continue;
      ips.push(clean({ address: fam.ip, gateway: fam.gateway }));
      for (const r of fam.routes ?? []) routes.push(clean({ dst: r.dst, gw: r.gw }));
    }
    return { ips, routes, dns: normaliseDns(raw.dns) };
  }
  const ips = ((raw.ips as Record<string, unknown>[] | undefined) ?? []).map((ip) =>
    clean({
      address: String(ip.address),
      gateway: ip.gateway as string | undefined,
      interface: typeof ip.interface === 'number' ? ip.interface : undefined,
    }),
  );
  return {
    interfaces: (raw.interfaces as CniInterface[] | undefined)?.map((i) => ({ ...i })),
    ips,
    routes: (raw.routes as CniRoute[] | undefined)?.map((r) => ({ ...r })),
    dns: normaliseDns(raw.dns),
  };
}

const RENDERED_FOR = Symbol('CNI result already rendered for version');

/**
 * Marks a result already rendered by convertResult for `version` elsewhere (calico-node's CNI server answering a
 * handed-off request): convertResult passes it through. The plugin process then skips running the conversion code
 * a second time on the same result (its first call costs ~0.5 ms in a process that was just started).
 */
export function renderedFor(result: Record<string, unknown>, version: string): Record<string, unknown> {
  Object.defineProperty(result, RENDERED_FOR, { value: version });
  return result;
}

/** Renders a result (any shape) for `version`: 0.1.0/0.2.0 ip4/ip6 objects, 0.3.x/0.4.0 versioned ips, 1.x. */
export function convertResult(raw: Record<string, unknown>, version: string): Record<string, unknown> {
  if ((raw as { [RENDERED_FOR]?: string })[RENDERED_FOR] === version) return raw;
  const r = normaliseResult(raw);
  const dns = r.dns ?? {};
  if (!versionAtLeast(version, '0.3.0')) {
    // 0.1.0/0.2.0 hold one address per family: the first of each, with the routes of that family.
    const v4 = r.ips?.find((ip) => !isV6(ip.address));
    const v6 = r.ips?.find((ip) => isV6(ip.address));
    if (!v4 && !v6) throw new CniError(999, 'cannot convert: no valid IP addresses'); // libcni's text
    const fam = (ip: CniIpConfig | undefined, six: boolean) =>
      ip &&
      clean({
        ip: ip.address,
        gateway: ip.gateway,
        routes: (r.routes ?? []).filter((rt) => isV6(rt.dst) === six).map((rt) => clean({ dst: rt.dst, gw: rt.gw })),
      });
    return clean({ cniVersion: version, ip4: fam(v4, false), ip6: fam(v6, true), dns });
  }
  const modern = versionAtLeast(version, '1.0.0');
  const interfaces = r.interfaces?.map((i) =>
    modern
      ? clean({
          name: i.name,
          mac: i.mac,
          mtu: i.mtu || undefined,
          sandbox: i.sandbox,
          socketPath: i.socketPath,
          pciID: i.pciID,
        })
      : clean({ name: i.name, mac: i.mac, sandbox: i.sandbox }),
  );
  const ips = r.ips?.map((ip) => {
    const base: Record<string, unknown> = {};
    if (!modern) base.version = isV6(ip.address) ? '6' : '4';
    if (ip.interface !== undefined) base.interface = ip.interface;
    base.address = ip.address;
    if (ip.gateway) base.gateway = ip.gateway;
    return base;
  });
  const routes = r.routes?.map((rt) =>
    modern
      ? clean({
          dst: rt.dst,
          gw: rt.gw,
          mtu: rt.mtu || undefined,
          advmss: rt.advmss || undefined,
          priority: rt.priority || undefined,
          table: rt.table ?? undefined,
          scope: rt.scope ?? undefined,
        })
      : clean({ dst: rt.dst, gw: rt.gw }),
  );
  return clean({ cniVersion: version, interfaces, ips, routes, dns });
}
