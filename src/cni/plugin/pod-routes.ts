// Which routes a pod gets through its gateway (cni.md §B.5 step 9): Calico's defaults 0.0.0.0/0 and ::/0, or — for a
// Kubernetes pod whose IPAM is host-local — the destinations of host-local's `ipam.routes` (their gateways are
// ignored: the link is point to point), with the defaults added in front when `include_default_routes` is set.
// In: the netconf and the orchestrator; out: the destination CIDRs. Pure.
import { canonicalCidr } from '../../net/ip.js';
import { CniError, type NetConf } from '../skel/types.js';

export const DEFAULT_POD_ROUTES: readonly string[] = ['0.0.0.0/0', '::/0'];

export function podRouteDestinations(config: NetConf, orchestrator: 'k8s' | 'cni'): readonly string[] {
  const ipam = config.ipam as Record<string, unknown> | undefined;
  if (orchestrator !== 'k8s' || ipam?.type !== 'host-local' || ipam.routes === undefined) return DEFAULT_POD_ROUTES;
  if (!Array.isArray(ipam.routes)) {
    throw new CniError(
      7,
      `failed to parse host-local IPAM routes section; expecting list, not: ${JSON.stringify(ipam.routes)}`,
    );
  }
  const custom: string[] = [];
  for (const route of ipam.routes as unknown[]) {
    const dst = (route as Record<string, unknown> | null)?.dst;
    if (dst === undefined) continue; // a route without dst is ignored, as Calico
    if (typeof dst !== 'string') {
      throw new CniError(7, `invalid IPAM routes section; expecting 'dst' to be a string, not: ${JSON.stringify(dst)}`);
    }
    // As Go's net.ParseCIDR: an address with its prefix length, taken as the network it names.
    let network: string;
    try {
      if (!dst.includes('/')) throw new Error('no prefix length');
      network = canonicalCidr(dst);
    } catch {
      throw new CniError(7, `ipam.routes: dst "${dst}" is not a CIDR`);
    }
    custom.push(network);
  }
  if (custom.length === 0) return DEFAULT_POD_ROUTES;
  return config.include_default_routes === true ? [...DEFAULT_POD_ROUTES, ...custom] : custom;
}
