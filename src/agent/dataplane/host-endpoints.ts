// Which host endpoint governs which host interface, as Felix's endpoint manager resolves it. In: this node's host
// endpoints from the snapshot, the host's interfaces with their addresses (when known) and the interface settings.
// Out: interface name -> the winning endpoint (named or matched by one of its expectedIPs) and the all-interfaces
// (`*`) endpoint. Pure.
//
// Felix's rule: for each host interface (not a workload interface, not excluded by interfaceExclude), among the
// endpoints that name it or - having no interfaceName - expect one of its addresses, the one with the alphabetically
// earliest name wins; the same for the `*` endpoints. Named endpoints are also programmed while their interface is
// absent (the dispatch entry is inert until it appears), so an interface that comes up is policed at once.
import type { LocalHostEndpoint } from '../calc/model.js';

export interface HostInterface {
  name: string;
  /** Addresses on the interface, without prefix length. */
  addresses: readonly string[];
}

export interface ResolvedHostEndpoints {
  /** Interface name -> the endpoint that governs it (interfaceName set to that interface). */
  byInterface: Map<string, LocalHostEndpoint>;
  /** The all-interfaces endpoint, if any. */
  all: LocalHostEndpoint | undefined;
}

/**
 * A matcher for FelixConfiguration interfaceExclude: entries are interface names, or regular expressions written
 * between slashes (`/^kube-/`), as Felix parses the list.
 */
export function interfaceExcludeMatcher(entries: readonly string[]): (name: string) => boolean {
  const names = new Set<string>();
  const patterns: RegExp[] = [];
  for (const e of entries) {
    const re = regexEntry(e);
    if (re) patterns.push(re);
    else names.add(e);
  }
  return (name) => names.has(name) || patterns.some((p) => p.test(name));
}

/** The regular expression of a `/.../` entry, or undefined for a plain name. Throws when it does not compile. */
export function regexEntry(entry: string): RegExp | undefined {
  if (!/^\/\S+\/$/.test(entry)) return undefined; // Felix's pattern for a regex element: `/<no spaces>/`
  return new RegExp(entry.slice(1, -1));
}

const earlier = (a: LocalHostEndpoint | undefined, b: LocalHostEndpoint): boolean => !a || b.name < a.name;

export function resolveHostEndpoints(
  endpoints: Iterable<LocalHostEndpoint>,
  interfaces: readonly HostInterface[] | undefined,
  settings: { interfacePrefixes: readonly string[]; interfaceExclude: readonly string[] },
): ResolvedHostEndpoints {
  const excluded = interfaceExcludeMatcher(settings.interfaceExclude);
  const prefixes = settings.interfacePrefixes.length ? settings.interfacePrefixes : ['cali'];
  const hostInterface = (name: string): boolean => !excluded(name) && !prefixes.some((p) => name.startsWith(p));
  let all: LocalHostEndpoint | undefined;
  const named = new Map<string, LocalHostEndpoint>();
  const byAddress: LocalHostEndpoint[] = [];
  for (const ep of endpoints) {
    if (ep.interfaceName === '*') {
      if (earlier(all, ep)) all = ep;
    } else if (ep.interfaceName !== '') {
      if (hostInterface(ep.interfaceName) && earlier(named.get(ep.interfaceName), ep)) named.set(ep.interfaceName, ep);
    } else byAddress.push(ep);
  }
  const byInterface = new Map(named);
  if (interfaces && byAddress.length) {
    for (const iface of interfaces) {
      if (!hostInterface(iface.name)) continue;
      let best = named.get(iface.name);
      for (const ep of byAddress) {
        if (!earlier(best, ep)) continue;
        const expected = [...ep.ipv4Nets, ...ep.ipv6Nets].map((n) => n.slice(0, n.indexOf('/')));
        if (expected.some((ip) => iface.addresses.includes(ip))) best = ep;
      }
      if (best) byInterface.set(iface.name, best);
    }
  }
  return { byInterface, all };
}
