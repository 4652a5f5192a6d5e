// The `routes` of the calico plugin's ADD result (cni.md §B.11): whatever the IPAM plugin's result held — calico-ipam
// one `<ip>/<block prefix>` per address, host-local its `ipam.routes` — and none when the ipAddrs or ipAddrsNoIpam
// annotation chose the addresses (Calico builds that result from the addresses alone). Informational only: the pod's
// own routes are its gateway routes (pod-routes.ts). A repeated ADD rebuilds the same routes without a second IPAM
// ADD: calico-ipam's from the blocks its handle holds, another IPAM plugin's from the `ipam.routes` it echoes.
import { canonicalCidr, formatIp, isIp, parseIp } from '../../net/ip.js';
import type { Datastore } from '../../datastore/types.js';
import { heldAddressesResult } from '../../ipam/plugin/index.js';
import type { CniResult, CniRoute } from '../skel/result.js';
import type { NetConf } from '../skel/types.js';

/** How ADD chose the pod's addresses. */
export type AddressSource = 'ipam' | 'ipAddrs' | 'ipAddrsNoIpam';

/** The result routes of a first ADD: the IPAM results' routes, in order, when the IPAM plugin chose the addresses. */
export function firstAddRoutes(source: AddressSource, ipamResults: CniResult[]): CniRoute[] {
  if (source !== 'ipam') return [];
  return ipamResults.flatMap((r) => (r.routes ?? []).map((route) => ({ ...route })));
}

/**
 * The routes an IPAM plugin other than calico-ipam returns: its config's `ipam.routes` (host-local and static print
 * them back as given, with Go's text for the addresses). Entries without a usable `dst` are left out, as those plugins
 * refuse them. Pure.
 */
export function configuredIpamRoutes(config: NetConf): CniRoute[] {
  const routes = (config.ipam as Record<string, unknown> | undefined)?.routes;
  if (!Array.isArray(routes)) return [];
  const out: CniRoute[] = [];
  for (const entry of routes as unknown[]) {
    const r = entry as Record<string, unknown> | null;
    if (typeof r?.dst !== 'string' || !r.dst.includes('/')) continue;
    const [addr, prefix] = r.dst.split('/');
    let dst: string;
    try {
      canonicalCidr(r.dst); // only to refuse what is not a CIDR
      dst = `${formatIp(parseIp(addr!))}/${prefix}`; // host bits kept, as Go's types.ParseCIDR
    } catch {
      continue;
    }
    const route: CniRoute = { dst };
    if (typeof r.gw === 'string' && isIp(r.gw)) route.gw = formatIp(parseIp(r.gw));
    out.push(route);
  }
  return out;
}

export interface RepeatedAddContext {
  source: AddressSource;
  ipamType: string;
  config: NetConf;
  ds: Datastore;
  handleId: string;
  /** The endpoint's addresses (/32 and /128). */
  addresses: string[];
}

/** The result routes a repeated ADD returns: the same the first ADD for this container printed. */
export async function repeatedAddRoutes(ctx: RepeatedAddContext): Promise<CniRoute[]> {
  if (ctx.source !== 'ipam') return [];
  if (ctx.ipamType === 'calico-ipam') {
    return (await heldAddressesResult(ctx.ds, ctx.handleId, ctx.addresses)).routes;
  }
  return configuredIpamRoutes(ctx.config);
}
