// Renders the one BIRD 2 configuration a node runs (confd's bird.cfg + bird_aggr.cfg + bird_ipam.cfg, both
// families in one daemon with ipv4 {} / ipv6 {} channels; dataplane.md §8, §8.6).
// In: RoutingState, node name, resolved BGP passwords. Out: the config text, deterministic for golden tests. Pure.
import { parseCidr, type IpFamily } from '../../net/ip.js';
import { sessionsFor, type BgpSession } from './peers.js';
import type { LabelMatcher } from './label-match.js';
import { type RoutingState, hostIp, RoutingInputError } from './state.js';

export interface BirdRenderOptions {
  /** Explicit router id (CALICO_ROUTER_ID); `hash` derives one from the node name. Default: the node's IPv4. */
  routerId?: string;
  /** Password per secret reference, keyed `<secret name>/<key>` (read by the caller from the secret files). */
  passwords?: Record<string, string>;
  matcher?: LabelMatcher;
}

/** Kernel metric for BIRD-programmed routes (ipv4NormalRoutePriority default). */
export const NORMAL_ROUTE_PRIORITY = 1024;
/** Name of the static protocol that originates this node's affine blocks. */
export const BLOCKS_PROTOCOL = 'calico_blocks';
/** Name of the static protocol that originates advertised service ranges. */
export const SERVICES_PROTOCOL = 'calico_services';

/** Router id from a node name (Calico's `hash` mode for IPv6-only nodes): FNV-1a 32-bit as dotted quad. */
export function routerIdFromName(name: string): string {
  let h = 0x811c9dc5;
  for (const ch of new TextEncoder().encode(name)) {
    h ^= ch;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [h >>> 24, (h >>> 16) & 255, (h >>> 8) & 255, h & 255].join('.');
}

/** Blocks affine to the node that BIRD announces as a whole (never /32 or /128 blocks). */
export function ownBlocks(state: RoutingState, nodeName: string, family: IpFamily): string[] {
  return state.blocks
    .filter((b) => b.affinityHost === nodeName)
    .filter((b) => {
      const c = parseCidr(b.cidr);
      return c.family === family && c.prefix < (family === 4 ? 32 : 128);
    })
    .map((b) => b.cidr)
    .sort();
}

const fam = (f: IpFamily): string => (f === 4 ? 'v4' : 'v6');

export function renderBirdConfig(state: RoutingState, nodeName: string, opts: BirdRenderOptions = {}): string {
  const self = state.nodes.find((n) => n.name === nodeName);
  if (!self) throw new RoutingInputError(`node "${nodeName}" has no Node resource`);
  const sessions = sessionsFor(state, nodeName, opts.matcher);
  const v4 = hostIp(self.ipv4Address);
  let routerId = opts.routerId === 'hash' ? routerIdFromName(nodeName) : opts.routerId || v4;
  if (!routerId) routerId = routerIdFromName(nodeName);
  const families = ([4, 6] as const).filter((f) => (f === 4 ? self.ipv4Address : self.ipv6Address));

  const out: string[] = [];
  const w = (s = ''): void => void out.push(s);
  w(`# BIRD 2 configuration for node ${nodeName}, rendered by calico-node from the datastore. Do not edit.`);
  w(`router id ${routerId};`);
  w('timeformat protocol iso short;');
  w();
  for (const f of [4, 6] as const) renderFilters(w, state, nodeName, f);
  renderBgpFilters(w, state, sessions);

  w('protocol device {');
  w('  scan time 2;');
  w('}');
  w();
  const ignored = state.bgp.ignoredInterfaces.map((i) => `-"${quoteSafe(i, 'ignoredInterfaces')}", `).join('');
  w('# Connected subnets, so that recursive BGP next hops resolve.');
  w('protocol direct {');
  w('  ipv4;');
  w('  ipv6;');
  w(`  interface -"cali*", -"kube-ipvs*", -"vxlan*", -"tunl*", ${ignored}"*";`);
  w('}');
  w();
  for (const f of [4, 6] as const) {
    w(`# Learns workload routes (borrowed addresses are announced from these) and programs routes learnt from peers.`);
    w(`protocol kernel kernel_${fam(f)} {`);
    w('  learn;');
    w('  persist;');
    w('  metric 0;  # so that krt_metric from the export filter applies');
    w('  scan time 2;');
    w('  merge paths on;');
    w('  graceful restart on;');
    w(`  ipv${f} {`);
    w('    import all;');
    w(`    export filter calico_kernel_programming_${fam(f)};`);
    w('  };');
    w('}');
    w();
  }

  const blocks4 = ownBlocks(state, nodeName, 4);
  const blocks6 = ownBlocks(state, nodeName, 6);
  for (const [f, blocks] of [
    [4, blocks4],
    [6, blocks6],
  ] as const) {
    if (blocks.length === 0) continue;
    w(
      `# Blocks affine to this node: announced whole; blackholed here for no-encap pools (the agent does encap pools).`,
    );
    w(`protocol static ${BLOCKS_PROTOCOL}_${fam(f)} {`);
    w(`  ipv${f};`);
    for (const b of blocks) w(`  route ${b} blackhole;`);
    w('}');
    w();
  }

  for (const f of [4, 6] as const) {
    const svc = state.bgp.serviceCidrs.filter((c) => parseCidr(c).family === f);
    if (svc.length === 0) continue;
    w(`# Service address ranges from BGPConfiguration, announced by every node (never programmed here).`);
    w(`protocol static ${SERVICES_PROTOCOL}_${fam(f)} {`);
    w(`  ipv${f};`);
    for (const c of svc) w(`  route ${c} blackhole;`);
    w('}');
    w();
  }

  for (const f of [4, 6] as const) {
    const via = sessions.filter((x) => x.family === f && x.reachableBy && families.includes(f));
    if (via.length === 0) continue;
    w(`# Peers reached through a gateway (BGPPeer reachableBy).`);
    w(`protocol static calico_peers_${fam(f)} {`);
    w(`  ipv${f};`);
    for (const x of via) w(`  route ${x.peerIP}/${f === 4 ? 32 : 128} via ${x.reachableBy};`);
    w('}');
    w();
  }

  if (sessions.length === 0) {
    w('# No BGP peers configured for this node.');
  } else {
    w('template bgp bgp_template {');
    w('  description "Connection to BGP peer";');
    w('  graceful restart on;');
    w('  connect delay time 1;');
    w('  connect retry time 5;');
    w('  error wait time 5, 30;');
    w(`  ${debugLine(state.bgp.logSeverityScreen)}`);
    w('}');
    w();
    for (const s of sessions) {
      if (!families.includes(s.family)) continue;
      renderSession(w, s, state, opts);
    }
  }
  return out.join('\n') + '\n';
}

function debugLine(severity: string): string {
  const s = severity.toLowerCase();
  if (s === 'debug') return 'debug all;';
  if (s === 'none' || s === 'fatal' || s === 'error') return 'debug off;';
  return 'debug { states };';
}

function quoteSafe(text: string, field: string): string {
  if (/["\\\n\r]/.test(text))
    throw new RoutingInputError(`${field}: "${text}" may not contain quotes, backslashes or newlines`);
  return text;
}

function renderFilters(w: (s?: string) => void, state: RoutingState, nodeName: string, f: IpFamily): void {
  const pools = state.pools.filter((p) => p.family === f);
  const blocks = ownBlocks(state, nodeName, f);
  w(`# Own blocks: announce each whole, never our /${f === 4 ? 32 : 128} workload routes inside it (a route reflector`);
  w(`# still reflects addresses other nodes borrowed from them).`);
  w(`function calico_aggr_${fam(f)}() {`);
  for (const b of blocks) {
    w(`  if ( net = ${b} ) then { accept; }`);
    w(`  if ( net ~ ${b} && source != RTS_BGP ) then { reject; }`);
  }
  w('}');
  w();
  w(`# Communities from BGPConfiguration prefixAdvertisements.`);
  w(`function apply_communities_${fam(f)}() {`);
  for (const pa of state.bgp.prefixCommunities.filter((x) => parseCidr(x.cidr).family === f)) {
    const adds = pa.communities.map((c) => {
      const parts = c.split(':');
      return parts.length === 3
        ? `bgp_large_community.add((${parts.join(', ')}));`
        : `bgp_community.add((${parts.join(', ')}));`;
    });
    w(`  if ( net ~ ${pa.cidr} ) then { ${adds.join(' ')} }`);
  }
  w('}');
  w();
  w(`# What goes to BGP peers: own blocks, borrowed addresses, service ranges; nothing else from the pools.`);
  w(`function calico_export_to_bgp_peers_${fam(f)}(bool internal_peer) {`);
  for (const p of pools.filter((p) => p.disableBGPExport)) {
    w(`  if ( net ~ ${p.cidr} ) then { reject; }  # ${p.name}: disableBGPExport`);
  }
  w('  if ( internal_peer && ( ifname ~ "vxlan*.calico" || ifname ~ "*.cali" || ifname = "tunl0" ) ) then { reject; }');
  w(`  apply_communities_${fam(f)}();`);
  w(`  if ( proto = "${SERVICES_PROTOCOL}_${fam(f)}" ) then { accept; }`);
  w(`  calico_aggr_${fam(f)}();`);
  for (const p of pools.filter((p) => !p.disableBGPExport && !p.disabled)) {
    w(`  if ( net ~ ${p.cidr} ) then { accept; }`);
  }
  w('}');
  w();
  w(`# What BIRD installs in the kernel: no-encap pool routes (remote blocks, borrowed addresses, the blackholes of`);
  w(`# our own blocks) and routes outside every pool. VXLAN and IPIP pool routes belong to the agent.`);
  w(`filter calico_kernel_programming_${fam(f)} {`);
  w(`  if ( proto = "${SERVICES_PROTOCOL}_${fam(f)}" ) then reject;`);
  w('  if ( source = RTS_DEVICE ) then reject;');
  w(`  krt_metric = ${NORMAL_ROUTE_PRIORITY};`);
  for (const p of pools) {
    const agentOwned = p.vxlanMode !== 'Never' || p.ipipMode !== 'Never';
    w(`  if ( net ~ ${p.cidr} ) then { ${agentOwned ? 'reject' : 'accept'}; }`);
  }
  w('  accept;');
  w('}');
  w();
}

/** BIRD function name of one direction and family of a BGPFilter. */
export const bgpFilterFunction = (name: string, dir: 'import' | 'export', f: IpFamily): string =>
  `calico_filter_${name.replace(/[^A-Za-z0-9]/g, '_')}_${dir}_${fam(f)}`;

function renderBgpFilters(w: (s?: string) => void, state: RoutingState, sessions: BgpSession[]): void {
  const used = new Set(sessions.flatMap((s) => s.filters ?? []));
  for (const filter of (state.filters ?? [])
    .filter((x) => used.has(x.name))
    .sort((a, b) => a.name.localeCompare(b.name))) {
    for (const f of [4, 6] as const) {
      for (const dir of ['import', 'export'] as const) {
        const rules = filter[`${dir}V${f}` as const];
        w(`# BGPFilter ${filter.name}, ${dir}V${f}: the first matching rule decides; no match falls through.`);
        w(`function ${bgpFilterFunction(filter.name, dir, f)}() {`);
        for (const r of rules) {
          const conds: string[] = [];
          if (r.cidr) {
            const op = { Equal: '=', NotEqual: '!=', In: '~', NotIn: '!~' }[r.matchOperator!];
            conds.push(`net ${op} ${r.cidr}`);
          }
          if (r.prefixLength?.min !== undefined) conds.push(`net.len >= ${r.prefixLength.min}`);
          if (r.prefixLength?.max !== undefined) conds.push(`net.len <= ${r.prefixLength.max}`);
          if (r.source === 'RemotePeers') conds.push('source = RTS_BGP');
          if (r.interface) conds.push(`ifname ~ "${r.interface}"`);
          const verdict = r.action === 'Accept' ? 'accept' : 'reject';
          w(
            conds.length ? `  if ( ${conds.map((c) => `(${c})`).join(' && ')} ) then { ${verdict}; }` : `  ${verdict};`,
          );
        }
        w('}');
        w();
      }
    }
  }
}

function renderSession(w: (s?: string) => void, s: BgpSession, state: RoutingState, opts: BirdRenderOptions): void {
  const ibgp = s.peerAS === s.localAS;
  w(`protocol bgp ${s.name} from bgp_template {`);
  const local = [s.sourceAddress ?? '', state.bgp.listenPort ? `port ${state.bgp.listenPort}` : '', `as ${s.localAS}`]
    .filter(Boolean)
    .join(' ');
  w(`  local ${local};`);
  w(`  neighbor ${s.peerIP}${s.port ? ` port ${s.port}` : ''} as ${s.peerAS};`);
  if (state.bgp.bindNodeIP && s.sourceAddress) w('  strict bind on;');
  if (s.ttlSecurity !== undefined) {
    w('  ttl security on;');
    w(`  multihop ${s.ttlSecurity};`);
  } else if (s.sameSubnet) {
    w('  direct;');
  } else {
    w('  multihop;');
  }
  if (s.passive) w('  passive on;  # the mesh is one-way: the peer with the higher address connects');
  if (s.gracefulRestartTime !== undefined) w(`  graceful restart time ${s.gracefulRestartTime};`);
  if (s.holdTime !== undefined) w(`  hold time ${s.holdTime};`);
  if (s.keepaliveTime !== undefined) w(`  keepalive time ${s.keepaliveTime};`);
  if (s.allowLocalAS) w(`  allow local as ${s.allowLocalAS};`);
  if (s.routeReflectorClient) {
    w('  rr client;');
    w(`  rr cluster id ${s.routeReflectorClient};`);
  }
  if (s.passwordSecret) {
    const key = `${s.passwordSecret.name}/${s.passwordSecret.key}`;
    const pw = opts.passwords?.[key];
    if (pw === undefined) throw new RoutingInputError(`${s.name}: BGP password secret "${key}" could not be read`);
    w(`  password "${quoteSafe(pw, `password of ${s.name}`)}";`);
  }
  w(`  ipv${s.family} {`);
  w(`    gateway ${s.sameSubnet && s.ttlSecurity === undefined ? 'direct' : 'recursive'};`);
  const known = new Set((state.filters ?? []).map((x) => x.name));
  const filters = (s.filters ?? []).filter((n) => known.has(n));
  for (const missing of (s.filters ?? []).filter((n) => !known.has(n)))
    w(`    # BGPFilter ${missing} does not exist: skipped`);
  const calls = (dir: 'import' | 'export'): string =>
    filters.map((n) => `${bgpFilterFunction(n, dir, s.family)}(); `).join('');
  w(filters.length ? `    import filter { ${calls('import')}accept; };` : '    import all;');
  w(`    export filter { ${calls('export')}calico_export_to_bgp_peers_${fam(s.family)}(${ibgp}); reject; };`);
  if (s.nextHopMode === 'Self') w('    next hop self;');
  else if (s.nextHopMode === 'Keep') w('    next hop keep;');
  else if (!ibgp) w('    next hop self;');
  w('  };');
  w('}');
  w();
}
