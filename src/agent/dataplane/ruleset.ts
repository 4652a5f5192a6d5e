// Renders the calculation graph's desired dataplane (calc/model.ts DataplaneSnapshot) into the content of
// `table inet calico`: Felix's chain structure (dataplane.md §4-§5) in nftables form.
//   in:  DataplaneSnapshot (endpoints with ordered tiers/policies/profiles, compiled policies, IP sets, config)
//   out: NftTableState (base chains per hook, dispatch verdict maps, per-endpoint chains, one chain per policy and
//        profile and direction, one nft set per IP set and family)
// Objects are memoised on the identity of their inputs, so re-rendering an unchanged snapshot costs little and yields
// the identical chain objects (which the NftTable diff skips by identity).
import type { IpFamily } from '../../net/ip.js';
import type {
  CompiledPolicy,
  DataplaneConfig,
  DataplaneSnapshot,
  DirectionPolicies,
  HostPort,
  IpSetId,
  IpSetSpec,
  LocalHostEndpoint,
  LocalWorkloadEndpoint,
} from '../calc/model.js';
import { parseNamedPortMember, PROTOCOL_NUMBERS } from '../calc/model.js';
import { canonicalAddressElement } from './nft-kernel.js';
import { elementDiff } from './nft-table.js';
import { interfaceExcludeMatcher, regexEntry, resolveHostEndpoints, type HostInterface } from './host-endpoints.js';
import {
  contentHash,
  nftName,
  nftRule,
  type NftBaseChainSpec,
  type NftChain,
  type NftRule,
  type NftSet,
  type NftTableState,
  type NftVerdictMap,
} from './nft-model.js';
import { coalesceNets, hex, netMatch, renderPolicyRules, type RuleRenderContext } from './rule-render.js';

/** Names of the fixed chains (Felix's names with the nft table prefix, dataplane.md §5). */
export const CHAINS = {
  filterForward: 'filter-FORWARD',
  filterInput: 'filter-INPUT',
  filterOutput: 'filter-OUTPUT',
  rawPrerouting: 'raw-PREROUTING',
  rawOutput: 'raw-OUTPUT',
  manglePrerouting: 'mangle-PREROUTING',
  natPrerouting: 'nat-PREROUTING',
  natOutput: 'nat-OUTPUT',
  natPostrouting: 'nat-POSTROUTING',
  fromWl: 'filter-cali-from-wl-dispatch',
  toWl: 'filter-cali-to-wl-dispatch',
  wlToHost: 'filter-cali-wl-to-host',
  fromHep: 'filter-cali-from-host-endpoint',
  toHep: 'filter-cali-to-host-endpoint',
  fromHepFwd: 'filter-cali-from-hep-forward',
  toHepFwd: 'filter-cali-to-hep-forward',
  failsafeIn: 'filter-cali-failsafe-in',
  failsafeOut: 'filter-cali-failsafe-out',
  rawFromHep: 'raw-cali-from-host-endpoint',
  rawToHep: 'raw-cali-to-host-endpoint',
  rawAntiSpoof: 'raw-cali-from-wl-dispatch',
  mangleFromHep: 'mangle-cali-from-host-endpoint',
} as const;

/** The verdict map each dispatch chain looks interfaces up in. */
export const mapOf = (dispatchChain: string): string => `${dispatchChain}-map`;

/** Chain-name suffix for an endpoint interface; `*` (all interfaces) becomes `/all`, which no interface can be named. */
const ifaceSuffix = (iface: string): string => (iface === '*' ? '/all' : iface);

export const endpointChainName = (prefix: string, iface: string): string => nftName(prefix, ifaceSuffix(iface));

/**
 * Set name for an IP set id and family: Felix's `cali40<id>` / `cali60<id>` with `:` as `_`. Sets holding CIDRs (an
 * nft interval set) get the suffix `_net`: adding an element to a table with large interval sets makes nft read
 * them all back first (~100 ms at 10,000 elements), so endpoint-only sets, the common case, are plain hash sets.
 */
export const ipSetName = (id: IpSetId, family: IpFamily, interval = false): string =>
  nftName(`cali${family === 4 ? 4 : 6}0`, id.replace(/:/g, '_') + (interval ? '_net' : ''));

interface CachedPolicyChains {
  setIds: IpSetId[];
  sig: string;
  inbound: NftChain;
  outbound: NftChain;
}

function referencedSetIds(pol: CompiledPolicy): IpSetId[] {
  const ids = new Set<IpSetId>();
  for (const r of [...pol.inbound, ...pol.outbound]) {
    for (const id of [...r.srcIpSetIds, ...r.notSrcIpSetIds, ...r.dstIpSetIds, ...r.notDstIpSetIds]) ids.add(id);
  }
  return [...ids].sort();
}

type PolicyContext = 'filter' | 'raw' | 'mangle';
const POLICY_PREFIX: Record<PolicyContext, { in: string; out: string }> = {
  filter: { in: 'filter-cali-pi-', out: 'filter-cali-po-' },
  raw: { in: 'raw-cali-pi-', out: 'raw-cali-po-' },
  mangle: { in: 'mangle-cali-pi-', out: 'mangle-cali-po-' },
};
export const policyChainName = (ctx: PolicyContext, dir: 'in' | 'out', id: string): string =>
  nftName(POLICY_PREFIX[ctx][dir], id);
export const profileChainName = (dir: 'in' | 'out', id: string): string =>
  nftName(dir === 'in' ? 'filter-cali-pri-' : 'filter-cali-pro-', id);

const PRIORITY = { raw: -300, mangle: -150, dstnat: -100, filter: 0, srcnat: 100 };
const base = (type: NftBaseChainSpec['type'], hook: NftBaseChainSpec['hook'], priority: number): NftBaseChainSpec => ({
  type,
  hook,
  priority,
  policy: 'accept',
});

/** Every rule counts the packets it matched (before its first statement), so any verdict can be attributed. */
const STATEMENT =
  /(^| )(?=(?:jump|goto|return|accept|drop|reject|notrack|log|dnat|snat|meta mark set|[io]ifname vmap)\b)/;
export function withCounter(body: string): string {
  if (/(^| )counter( |$)/.test(body)) return body;
  const m = STATEMENT.exec(body);
  if (!m) return `${body} counter`;
  const at = m.index + m[1]!.length;
  return `${body.slice(0, at)}counter ${body.slice(at)}`;
}
const r = (body: string, note: string): NftRule => nftRule(withCounter(body), note);

/** Everything derived from the config alone. */
interface ConfigContext {
  cfg: DataplaneConfig;
  accept: string;
  pass: string;
  /** `meta mark & ACCEPT == ACCEPT` */
  isAccepted: string;
  deny: 'drop' | 'reject';
  ruleCtx: (untracked: boolean) => RuleRenderContext;
}

function configContext(cfg: DataplaneConfig): ConfigContext {
  const accept = hex(cfg.marks.accept);
  const pass = hex(cfg.marks.pass);
  const deny = cfg.filterDenyAction === 'Reject' ? 'reject' : 'drop';
  return {
    cfg,
    accept,
    pass,
    isAccepted: `meta mark & ${accept} == ${accept}`,
    deny,
    ruleCtx: (untracked) => ({
      marks: cfg.marks,
      denyVerdict: deny,
      untracked,
      ipv6: cfg.ipv6Support,
      setName: ipSetName,
    }),
  };
}

// ---------------------------------------------------------------------------------------------------------------

interface EndpointChainOptions {
  policyContext: PolicyContext;
  dir: 'in' | 'out';
  /** Accept established/related and drop invalid first (not in raw: untracked packets have no conntrack state). */
  conntrack: boolean;
  /** Extra rules after the mark reset and before the tiers. */
  extra: NftRule[];
  /** Workloads and normal host chains end in the profiles (and a drop); forward/preDNAT/untracked chains return. */
  profiles: boolean;
  /** Prefix for the notes, e.g. `wep/ns/name ingress`. */
  note: string;
}

function endpointRules(dp: DirectionPolicies, o: EndpointChainOptions, c: ConfigContext): NftRule[] {
  const rules: NftRule[] = [];
  if (o.conntrack) {
    rules.push(r('ct state established,related counter accept', `${o.note}: accept established/related`));
    if (!c.cfg.disableConntrackInvalidCheck) rules.push(r('ct state invalid counter drop', `${o.note}: drop invalid`));
  }
  const clear = ~(c.cfg.marks.accept | c.cfg.marks.pass) >>> 0;
  rules.push(r(`meta mark set meta mark & ${hex(clear)}`, `${o.note}: clear accept and pass marks`));
  rules.push(...o.extra);
  for (const tier of dp.tiers) {
    rules.push(r(`meta mark set meta mark & ${hex(~c.cfg.marks.pass >>> 0)}`, `${o.note}: start of tier ${tier.name}`));
    for (const pid of tier.policyIds) {
      const target = policyChainName(o.policyContext, o.dir, pid);
      rules.push(r(`meta mark & ${c.pass} == 0x0 counter jump ${target}`, `${o.note}: policy ${pid}`));
      rules.push(r(`${c.isAccepted} return`, `${o.note}: return if policy ${pid} accepted`));
    }
    if (tier.endOfTierDrop) {
      rules.push(
        r(
          `meta mark & ${c.pass} == 0x0 counter ${c.deny}`,
          `${o.note}: end of tier ${tier.name}, drop if no policies passed packet`,
        ),
      );
    }
  }
  if (o.profiles) {
    for (const pid of dp.profileIds) {
      rules.push(r(`counter jump ${profileChainName(o.dir, pid)}`, `${o.note}: profile ${pid}`));
      rules.push(r(`${c.isAccepted} return`, `${o.note}: return if profile ${pid} accepted`));
    }
    rules.push(r(`counter ${c.deny}`, `${o.note}: drop if no profiles matched`));
  }
  return rules;
}

/**
 * Policy chains of workload endpoints are shared: every endpoint whose direction has the same ordered tiers,
 * policies and profiles jumps to the same chain (named by a hash of its content), so 1,000 replicas of a few
 * deployments cost a few chains instead of 2,000. The per-interface part (anti-spoofing) stays per endpoint.
 */
class SharedEndpointChains {
  private byKey = new Map<string, NftChain>();
  private used = new Set<string>();

  get(prefix: string, dp: DirectionPolicies, build: () => NftRule[]): NftChain {
    const key = `${prefix}${JSON.stringify(dp.tiers)}${JSON.stringify(dp.profileIds)}`;
    this.used.add(key);
    let chain = this.byKey.get(key);
    if (!chain) {
      const rules = build();
      chain = { name: `${prefix}${contentHash(rules.map((x) => x.id).join(','))}`, rules };
      this.byKey.set(key, chain);
    }
    return chain;
  }

  /** Forgets chains no endpoint used since the last prune. */
  prune(): void {
    for (const k of this.byKey.keys()) if (!this.used.has(k)) this.byKey.delete(k);
    this.used = new Set();
  }
}

function workloadChains(ep: LocalWorkloadEndpoint, c: ConfigContext, shared: SharedEndpointChains): NftChain[] {
  const id = ep.id;
  const common = { policyContext: 'filter' as const, conntrack: true, profiles: true };
  const tw = shared.get('filter-cali-tw-', ep.ingress, () =>
    endpointRules(ep.ingress, { ...common, dir: 'in', extra: [], note: 'workload ingress' }, c),
  );
  const fw = shared.get('filter-cali-fw-', ep.egress, () => {
    const fromExtra: NftRule[] = [];
    if (!c.cfg.allowVXLANPacketsFromWorkloads) {
      fromExtra.push(
        r(`meta l4proto 17 udp dport ${c.cfg.vxlanPort} counter drop`, 'workload egress: drop VXLAN from workload'),
      );
    }
    if (!c.cfg.allowIPIPPacketsFromWorkloads) {
      fromExtra.push(r('meta l4proto 4 counter drop', 'workload egress: drop IPIP from workload'));
    }
    return endpointRules(ep.egress, { ...common, dir: 'out', extra: fromExtra, note: 'workload egress' }, c);
  });
  // Anti-spoofing in raw PREROUTING, before conntrack: the source must be one of the workload's addresses (or an
  // allowed spoofed prefix); IPv6 link-local and the unspecified address are needed for neighbour discovery.
  const spoof: NftRule[] = [];
  // allowSpoofedSourcePrefixes only count when FelixConfiguration workloadSourceSpoofing is Any (Felix's opt-in).
  const spoofable = c.cfg.workloadSourceSpoofing === 'Any' ? ep.allowSpoofedSourcePrefixes : [];
  const allowed4 = coalesceNets([...ep.ipv4Nets, ...spoofable.filter((p) => !p.includes(':'))]);
  spoof.push(
    allowed4.length
      ? r(`meta nfproto ipv4 ${netMatch('ip saddr', allowed4, true)} counter drop`, `${id}: anti-spoofing (IPv4)`)
      : r('meta nfproto ipv4 counter drop', `${id}: anti-spoofing (no IPv4 address)`),
  );
  if (c.cfg.ipv6Support) {
    const allowed6 = coalesceNets([...ep.ipv6Nets, ...spoofable.filter((p) => p.includes(':')), 'fe80::/10', '::/128']);
    spoof.push(
      r(`meta nfproto ipv6 ${netMatch('ip6 saddr', allowed6, true)} counter drop`, `${id}: anti-spoofing (IPv6)`),
    );
  }
  const sp: NftChain = { name: endpointChainName('raw-cali-sp-', ep.interfaceName), rules: spoof };
  return [tw, fw, sp];
}

interface HostEndpointChains {
  chains: NftChain[];
  /** dispatch chain -> chain to go to for this interface */
  dispatch: [string, string][];
}

function hostEndpointChains(ep: LocalHostEndpoint, c: ConfigContext): HostEndpointChains {
  const id = ep.id;
  const iface = ep.interfaceName;
  const chains: NftChain[] = [];
  const dispatch: [string, string][] = [];
  const add = (dispatchChain: string, chain: NftChain): void => {
    chains.push(chain);
    dispatch.push([dispatchChain, chain.name]);
  };
  const normal = { policyContext: 'filter' as const, conntrack: true, profiles: true };
  add(CHAINS.fromHep, {
    name: endpointChainName('filter-cali-fh-', iface),
    rules: endpointRules(
      ep.ingress,
      {
        ...normal,
        dir: 'in',
        note: `${id} ingress`,
        extra: [r(`counter jump ${CHAINS.failsafeIn}`, `${id} ingress: failsafe ports`)],
      },
      c,
    ),
  });
  add(CHAINS.toHep, {
    name: endpointChainName('filter-cali-th-', iface),
    rules: endpointRules(
      ep.egress,
      {
        ...normal,
        dir: 'out',
        note: `${id} egress`,
        extra: [r(`counter jump ${CHAINS.failsafeOut}`, `${id} egress: failsafe ports`)],
      },
      c,
    ),
  });
  const noProfiles = { policyContext: 'filter' as const, conntrack: true, profiles: false, extra: [] };
  if (ep.forward.ingress.tiers.length) {
    add(CHAINS.fromHepFwd, {
      name: endpointChainName('filter-cali-fhfw-', iface),
      rules: endpointRules(ep.forward.ingress, { ...noProfiles, dir: 'in', note: `${id} forward ingress` }, c),
    });
  }
  if (ep.forward.egress.tiers.length) {
    add(CHAINS.toHepFwd, {
      name: endpointChainName('filter-cali-thfw-', iface),
      rules: endpointRules(ep.forward.egress, { ...noProfiles, dir: 'out', note: `${id} forward egress` }, c),
    });
  }
  if (ep.preDnat.ingress.tiers.length) {
    add(CHAINS.mangleFromHep, {
      name: endpointChainName('mangle-cali-fh-', iface),
      rules: endpointRules(
        ep.preDnat.ingress,
        { policyContext: 'mangle', conntrack: false, profiles: false, extra: [], dir: 'in', note: `${id} pre-DNAT` },
        c,
      ),
    });
  }
  const untracked = { policyContext: 'raw' as const, conntrack: false, profiles: false, extra: [] };
  if (ep.untracked.ingress.tiers.length) {
    add(CHAINS.rawFromHep, {
      name: endpointChainName('raw-cali-fh-', iface),
      rules: endpointRules(ep.untracked.ingress, { ...untracked, dir: 'in', note: `${id} untracked ingress` }, c),
    });
  }
  if (ep.untracked.egress.tiers.length) {
    add(CHAINS.rawToHep, {
      name: endpointChainName('raw-cali-th-', iface),
      rules: endpointRules(ep.untracked.egress, { ...untracked, dir: 'out', note: `${id} untracked egress` }, c),
    });
  }
  return { chains, dispatch };
}

function failsafeRules(ports: readonly HostPort[], dir: 'in' | 'out'): NftRule[] {
  return ports.map((p) => {
    const proto = PROTOCOL_NUMBERS[p.protocol];
    let net = '';
    if (p.net) {
      const v6 = p.net.includes(':');
      net = `${v6 ? 'ip6' : 'ip'} ${dir === 'in' ? 'saddr' : 'daddr'} ${canonicalAddressElement(p.net)} `;
    }
    return r(
      `${net}meta l4proto ${proto} th dport ${p.port} counter accept`,
      `failsafe ${dir} ${p.protocol}:${p.port}`,
    );
  });
}

// ---------------------------------------------------------------------------------------------------------------

/** Renders snapshots; keeps memo caches between calls (create one per agent). */
export class RulesetRenderer {
  private cfgRef: DataplaneConfig | undefined;
  private cc: ConfigContext | undefined;
  /** A workload's chains and the verdicts its dispatch entries point at (`goto <chain>`), per endpoint object. */
  private wlCache = new WeakMap<LocalWorkloadEndpoint, { chains: NftChain[]; verdicts: [string, string, string] }>();
  private hepCache = new WeakMap<LocalHostEndpoint, HostEndpointChains>();
  private policyCache = new Map<string, WeakMap<CompiledPolicy, CachedPolicyChains>>();
  private setCache = new WeakMap<IpSetSpec, NftSet[]>();
  /** The sets of the previous render by id, to patch a changed set instead of rendering it again. */
  private lastSets = new Map<IpSetId, RenderedIpSet>();
  private shared = new SharedEndpointChains();

  /**
   * The table for a snapshot. `interfaces` (the host's interfaces and addresses, when known) resolve host endpoints
   * that have only expectedIPs and the regex entries of interfaceExclude.
   */
  render(snap: DataplaneSnapshot, interfaces?: readonly HostInterface[]): NftTableState {
    this.interfaces = interfaces;
    if (snap.config !== this.cfgRef) {
      this.cfgRef = snap.config;
      this.cc = configContext(snap.config);
      this.wlCache = new WeakMap();
      this.hepCache = new WeakMap();
      this.policyCache = new Map();
      this.setCache = new WeakMap();
      this.lastSets = new Map();
      this.shared = new SharedEndpointChains();
    }
    const c = this.cc!;
    const cfg = snap.config;
    this.intervalSets = new Set();
    for (const spec of snap.ipSets.values()) {
      if (spec.type !== 'net') continue;
      let hostOnly = this.hostOnlyCache.get(spec);
      if (hostOnly === undefined) {
        hostOnly = spec.v4Members.every((m) => m.endsWith('/32')) && spec.v6Members.every((m) => m.endsWith('/128'));
        this.hostOnlyCache.set(spec, hostOnly);
      }
      if (!hostOnly) this.intervalSets.add(spec.id);
    }
    const state: NftTableState = { chains: new Map(), sets: new Map(), maps: new Map() };
    const addChain = (ch: NftChain): void => void state.chains.set(ch.name, ch);
    const pass = this.endpointPass(snap, interfaces, c);
    for (const ch of pass.chains) addChain(ch);
    const { dispatch, allInterfaces, natRules, used } = pass;

    // Policy and profile chains: one per direction.
    for (const ctx of ['filter', 'raw', 'mangle'] as const) {
      let cache = this.policyCache.get(ctx);
      if (!cache) this.policyCache.set(ctx, (cache = new WeakMap()));
      const { in: usedIn, out: usedOut } = used[ctx];
      for (const pid of [...new Set([...usedIn, ...usedOut])].sort()) {
        const pol = snap.policies.get(pid) ?? { id: pid, inbound: [], outbound: [] };
        const [inbound, outbound] = this.policyChains(pol, ctx, cache, c) as [NftChain, NftChain];
        if (usedIn.has(pid)) addChain(inbound);
        if (usedOut.has(pid)) addChain(outbound);
      }
    }
    let profCache = this.policyCache.get('profile');
    if (!profCache) this.policyCache.set('profile', (profCache = new WeakMap()));
    for (const prof of snap.profiles.values()) {
      for (const ch of this.policyChains(prof, 'profile', profCache, c)) addChain(ch);
    }
    // A profile that does not exist is an empty chain (no verdict), so the endpoint falls through to "drop if no
    // profiles matched" as in Felix, and the jump to it stays valid.
    for (const name of pass.profileChains) if (!state.chains.has(name)) addChain({ name, rules: [] });

    // IP sets: a set whose members changed is patched from its previous rendering (only the changed members are
    // turned into elements), so one endpoint joining a 10,000-member set does not re-render all of them.
    const rendered = new Map<IpSetId, RenderedIpSet>();
    for (const spec of snap.ipSets.values()) {
      let sets = this.setCache.get(spec);
      if (!sets) {
        const hostOnly = !this.intervalSets.has(spec.id);
        const prev = this.lastSets.get(spec.id);
        sets =
          prev && prev.hostOnly === hostOnly
            ? patchIpSets(prev.spec, prev.sets, spec, cfg.ipv6Support, hostOnly)
            : renderIpSets(spec, cfg.ipv6Support, hostOnly);
        this.setCache.set(spec, sets);
      }
      rendered.set(spec.id, { spec, sets, hostOnly: !this.intervalSets.has(spec.id) });
      for (const s of sets) state.sets.set(s.name, s);
    }
    this.lastSets = rendered;

    this.addStructure(state, dispatch, allInterfaces, natRules, c);
    this.shared.prune();
    return state;
  }

  /**
   * Everything derived from the endpoints: their chains, the dispatch maps, the policies they jump to, floating-IP
   * NAT rules and the profile chains they reference. Reused as it is while the snapshot's endpoints, the host
   * interfaces and the config are the same objects (a policy or IP set change leaves them alone).
   */
  private endpointPass(
    snap: DataplaneSnapshot,
    interfaces: readonly HostInterface[] | undefined,
    c: ConfigContext,
  ): EndpointPass {
    const last = this.lastPass;
    if (last && last.endpoints === snap.endpoints && last.interfaces === interfaces && last.cc === c) return last.pass;
    const cfg = snap.config;
    const passChains: NftChain[] = [];
    const addChain = (ch: NftChain): void => void passChains.push(ch);
    const dispatch = new Map<string, Map<string, string>>();
    for (const d of [CHAINS.fromWl, CHAINS.toWl, CHAINS.rawAntiSpoof, CHAINS.fromHep, CHAINS.toHep]) {
      dispatch.set(d, new Map());
    }
    for (const d of [CHAINS.fromHepFwd, CHAINS.toHepFwd, CHAINS.mangleFromHep, CHAINS.rawFromHep, CHAINS.rawToHep]) {
      dispatch.set(d, new Map());
    }
    const allInterfaces = new Map<string, string>(); // dispatch chain -> chain for the `*` host endpoint
    // Which policy chains are jumped to, per context and direction: only those are created (an Ingress-only
    // policy has no outbound chain).
    const used = {
      filter: { in: new Set<string>(), out: new Set<string>() },
      raw: { in: new Set<string>(), out: new Set<string>() },
      mangle: { in: new Set<string>(), out: new Set<string>() },
    };
    const usePolicies = (ctx: PolicyContext, dp: DirectionPolicies, dir: 'in' | 'out'): void => {
      const into = used[ctx][dir];
      for (const t of dp.tiers) for (const p of t.policyIds) into.add(p);
    };
    const natRules: { pre: NftRule[]; post: NftRule[] } = { pre: [], post: [] };
    const hostEndpoints: LocalHostEndpoint[] = [];
    const [toWl, fromWl, antiSpoof] = [CHAINS.toWl, CHAINS.fromWl, CHAINS.rawAntiSpoof].map((d) =>
      dispatch.get(d)!,
    ) as [Map<string, string>, Map<string, string>, Map<string, string>];

    for (const ep of snap.endpoints.values()) {
      if (ep.kind === 'workload') {
        if (!ep.interfaceName) continue;
        let wl = this.wlCache.get(ep);
        if (!wl) {
          const chains = workloadChains(ep, c, this.shared);
          const [tw, fw, sp] = chains as [NftChain, NftChain, NftChain];
          wl = { chains, verdicts: [`goto ${tw.name}`, `goto ${fw.name}`, `goto ${sp.name}`] };
          this.wlCache.set(ep, wl);
        }
        wl.chains.forEach(addChain);
        toWl.set(ep.interfaceName, wl.verdicts[0]);
        fromWl.set(ep.interfaceName, wl.verdicts[1]);
        antiSpoof.set(ep.interfaceName, wl.verdicts[2]);
        usePolicies('filter', ep.ingress, 'in');
        usePolicies('filter', ep.egress, 'out');
        if (cfg.floatingIPs === 'Enabled') {
          for (const [fam, nats] of [
            ['ip', ep.ipv4Nat],
            ['ip6', ep.ipv6Nat],
          ] as const) {
            for (const n of nats) {
              const note = `${ep.id}: floating IP ${n.externalIp}`;
              natRules.pre.push(r(`${fam} daddr ${n.externalIp} counter dnat ${fam} to ${n.internalIp}`, note));
              natRules.post.push(
                r(
                  `${fam} saddr ${n.internalIp} ${fam} daddr ${n.internalIp} counter snat ${fam} to ${n.externalIp}`,
                  note,
                ),
              );
            }
          }
        }
      } else hostEndpoints.push(ep);
    }

    // Host endpoints: each interface governed by the endpoint Felix would choose for it (host-endpoints.ts).
    const resolved = resolveHostEndpoints(hostEndpoints, interfaces, cfg);
    const governing: [string, LocalHostEndpoint][] = [...resolved.byInterface];
    if (resolved.all) governing.push(['*', resolved.all]);
    for (const [iface, original] of governing) {
      const ep = this.onInterface(original, iface);
      let h = this.hepCache.get(ep);
      if (!h) this.hepCache.set(ep, (h = hostEndpointChains(ep, c)));
      h.chains.forEach(addChain);
      for (const [d, target] of h.dispatch) {
        if (iface === '*') allInterfaces.set(d, target);
        else dispatch.get(d)!.set(iface, `goto ${target}`);
      }
      usePolicies('filter', ep.ingress, 'in');
      usePolicies('filter', ep.egress, 'out');
      usePolicies('filter', ep.forward.ingress, 'in');
      usePolicies('filter', ep.forward.egress, 'out');
      usePolicies('mangle', ep.preDnat.ingress, 'in');
      usePolicies('raw', ep.untracked.ingress, 'in');
      usePolicies('raw', ep.untracked.egress, 'out');
    }

    const profileChains = new Set<string>();
    for (const ep of snap.endpoints.values()) {
      for (const pid of ep.ingress.profileIds) profileChains.add(profileChainName('in', pid));
      for (const pid of ep.egress.profileIds) profileChains.add(profileChainName('out', pid));
    }
    const pass: EndpointPass = { chains: passChains, dispatch, allInterfaces, natRules, used, profileChains };
    this.lastPass = { endpoints: snap.endpoints, interfaces, cc: c, pass };
    return pass;
  }

  private policyChains(
    pol: CompiledPolicy,
    ctx: PolicyContext | 'profile',
    cache: WeakMap<CompiledPolicy, CachedPolicyChains>,
    c: ConfigContext,
  ): NftChain[] {
    // Both directions are cached under the policy object, with the names of the sets they reference: a set that
    // changes flavour (host addresses only <-> CIDRs) changes its name, so the chains are rendered again.
    const cached = cache.get(pol);
    const setIds = cached?.setIds ?? referencedSetIds(pol);
    let sig = '';
    for (const id of setIds) if (this.intervalSets.has(id)) sig += id + ',';
    if (cached && cached.sig === sig) return [cached.inbound, cached.outbound];
    const rc = { ...c.ruleCtx(ctx === 'raw'), setName: (id: IpSetId, f: IpFamily) => this.setName(id, f) };
    const name = (dir: 'in' | 'out'): string =>
      ctx === 'profile' ? profileChainName(dir, pol.id) : policyChainName(ctx, dir, pol.id);
    const entry: CachedPolicyChains = {
      setIds,
      sig,
      inbound: { name: name('in'), rules: renderPolicyRules(pol.inbound, pol.id, 'inbound', rc) },
      outbound: { name: name('out'), rules: renderPolicyRules(pol.outbound, pol.id, 'outbound', rc) },
    };
    cache.set(pol, entry);
    return [entry.inbound, entry.outbound];
  }

  private lastPass:
    | {
        endpoints: DataplaneSnapshot['endpoints'];
        interfaces?: readonly HostInterface[];
        cc: ConfigContext;
        pass: EndpointPass;
      }
    | undefined;
  /** The host's interfaces given to the render in progress. */
  private interfaces: readonly HostInterface[] | undefined;
  /** A host endpoint as it applies to one interface (kept, so an unchanged one hits the chain cache). */
  private onInterfaceCache = new WeakMap<LocalHostEndpoint, Map<string, LocalHostEndpoint>>();

  private onInterface(ep: LocalHostEndpoint, iface: string): LocalHostEndpoint {
    if (ep.interfaceName === iface) return ep;
    let byIface = this.onInterfaceCache.get(ep);
    if (!byIface) this.onInterfaceCache.set(ep, (byIface = new Map()));
    let copy = byIface.get(iface);
    if (!copy) byIface.set(iface, (copy = { ...ep, interfaceName: iface }));
    return copy;
  }

  /** `net` set ids with members wider than a host address in the snapshot being rendered (nft interval sets). */
  private intervalSets = new Set<IpSetId>();
  private hostOnlyCache = new WeakMap<IpSetSpec, boolean>();

  private setName(id: IpSetId, family: IpFamily): string {
    return ipSetName(id, family, this.intervalSets.has(id));
  }

  /** Base chains, dispatch chains and maps, the workload-to-host chain, failsafe chains and NAT. */
  private addStructure(
    state: NftTableState,
    dispatch: Map<string, Map<string, string>>,
    allInterfaces: Map<string, string>,
    natRules: { pre: NftRule[]; post: NftRule[] },
    c: ConfigContext,
  ): void {
    const cfg = c.cfg;
    const add = (name: string, rules: NftRule[], b?: NftBaseChainSpec): void => {
      const prev = this.structureCache.get(name);
      const same =
        prev &&
        prev.rules.length === rules.length &&
        prev.rules.every((x, i) => x.id === rules[i]!.id) &&
        prev.base?.hook === b?.hook;
      const chain: NftChain = same ? prev : b ? { name, base: b, rules } : { name, rules };
      this.structureCache.set(name, chain);
      state.chains.set(name, chain);
    };
    const prefixes = cfg.interfacePrefixes.length ? cfg.interfacePrefixes : ['cali'];
    const wild = (p: string): string => `"${p}*"`;
    const allCalicoBits = cfg.marks.all >>> 0;
    const accepted = c.isAccepted;
    const allowVerdict = cfg.filterAllowAction === 'Return' ? 'return' : 'accept';

    // Dispatch chains: a verdict-map lookup, then what happens to an interface not in the map.
    const dispatchChain = (name: string, key: 'iifname' | 'oifname', fallback: NftRule[]): void => {
      const entries = dispatch.get(name)!;
      const prevMap = this.mapCache.get(name);
      const map: NftVerdictMap =
        prevMap && (prevMap.entries === entries || sameEntries(prevMap.entries, entries))
          ? prevMap
          : { name: mapOf(name), keyType: 'ifname', entries };
      this.mapCache.set(name, map);
      state.maps.set(map.name, map);
      add(name, [r(`${key} vmap @${map.name}`, `dispatch by interface`), ...fallback]);
    };
    const allFallback = (d: string, key: 'iifname' | 'oifname', skipWorkloads: boolean): NftRule[] => {
      const target = allInterfaces.get(d);
      if (!target) return [];
      // lo, the interfaceExclude names and, for forwarded traffic, workload interfaces are not policed by the
      // all-interfaces host endpoint. A /regex/ entry cannot be written in nft: it stands for the host's
      // interfaces whose names it matches (the interface monitor keeps that list current).
      const isExcluded = interfaceExcludeMatcher(cfg.interfaceExclude);
      const excluded = [
        ...new Set([
          ...cfg.interfaceExclude.filter((n) => !regexEntry(n)),
          ...(this.interfaces ?? []).map((i) => i.name).filter((n) => n !== 'lo' && isExcluded(n)),
        ]),
      ].sort();
      const skips = [
        ...['lo', ...excluded].map((n) => `${key} "${n}" return`),
        ...(skipWorkloads ? prefixes.map((p) => `${key} ${wild(p)} return`) : []),
      ];
      return [
        ...skips.map((s) => r(s, 'not policed by the all-interfaces host endpoint')),
        r(`counter goto ${target}`, 'all-interfaces host endpoint'),
      ];
    };

    dispatchChain(CHAINS.fromWl, 'iifname', [r(`counter ${c.deny}`, 'unknown workload interface')]);
    dispatchChain(CHAINS.toWl, 'oifname', [r(`counter ${c.deny}`, 'unknown workload interface')]);
    dispatchChain(CHAINS.rawAntiSpoof, 'iifname', []);
    dispatchChain(CHAINS.fromHep, 'iifname', allFallback(CHAINS.fromHep, 'iifname', false));
    dispatchChain(CHAINS.toHep, 'oifname', allFallback(CHAINS.toHep, 'oifname', false));
    dispatchChain(CHAINS.fromHepFwd, 'iifname', allFallback(CHAINS.fromHepFwd, 'iifname', true));
    dispatchChain(CHAINS.toHepFwd, 'oifname', allFallback(CHAINS.toHepFwd, 'oifname', true));
    dispatchChain(CHAINS.mangleFromHep, 'iifname', allFallback(CHAINS.mangleFromHep, 'iifname', true));
    dispatchChain(CHAINS.rawFromHep, 'iifname', allFallback(CHAINS.rawFromHep, 'iifname', true));
    dispatchChain(CHAINS.rawToHep, 'oifname', allFallback(CHAINS.rawToHep, 'oifname', true));

    // filter FORWARD: host-endpoint forward ingress, workload egress, workload ingress, host-endpoint forward egress.
    const keepAccept = ~(allCalicoBits & ~cfg.marks.accept) >>> 0;
    add(
      CHAINS.filterForward,
      [
        r(`meta mark set meta mark & ${hex(keepAccept)}`, 'clear Calico mark bits except accept'),
        r(`meta mark & ${c.accept} == 0x0 jump ${CHAINS.fromHepFwd}`, 'host endpoint forward ingress policy'),
        ...prefixes.map((p) => r(`iifname ${wild(p)} jump ${CHAINS.fromWl}`, 'from workload: egress policy')),
        ...prefixes.map((p) => r(`oifname ${wild(p)} jump ${CHAINS.toWl}`, 'to workload: ingress policy')),
        r(`jump ${CHAINS.toHepFwd}`, 'host endpoint forward egress policy'),
        r(`${accepted} counter ${allowVerdict}`, 'policy explicitly accepted packet'),
      ],
      base('filter', 'forward', PRIORITY.filter),
    );

    // filter INPUT: workload-to-host, then host endpoint ingress policy.
    add(
      CHAINS.filterInput,
      [
        r(`${accepted} counter ${allowVerdict}`, 'accepted by untracked or pre-DNAT policy'),
        ...prefixes.map((p) => r(`iifname ${wild(p)} goto ${CHAINS.wlToHost}`, 'from workload to this host')),
        r(`jump ${CHAINS.fromHep}`, 'host endpoint ingress policy'),
        r(`${accepted} counter ${allowVerdict}`, 'host endpoint policy accepted packet'),
      ],
      base('filter', 'input', PRIORITY.filter),
    );
    const toHostAction =
      cfg.defaultEndpointToHostAction === 'Accept'
        ? 'accept'
        : cfg.defaultEndpointToHostAction === 'Return'
          ? 'return'
          : 'drop';
    const wlToHost: NftRule[] = [];
    if (cfg.ipv6Support) {
      wlToHost.push(
        r(
          'meta l4proto 58 icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, nd-redirect } counter accept',
          'allow ICMPv6 neighbour discovery',
        ),
      );
    }
    wlToHost.push(r(`jump ${CHAINS.fromWl}`, 'workload egress policy'));
    wlToHost.push(r(`counter ${toHostAction}`, `defaultEndpointToHostAction ${cfg.defaultEndpointToHostAction}`));
    add(CHAINS.wlToHost, wlToHost);

    // filter OUTPUT: traffic from the host to its own workloads is not policed (kubelet probes keep working).
    add(
      CHAINS.filterOutput,
      [
        r(`${accepted} counter ${allowVerdict}`, 'accepted by untracked policy'),
        ...prefixes.map((p) => r(`oifname ${wild(p)} return`, 'host to local workload: not policed')),
        r(`jump ${CHAINS.toHep}`, 'host endpoint egress policy'),
        r(`${accepted} counter ${allowVerdict}`, 'host endpoint policy accepted packet'),
      ],
      base('filter', 'output', PRIORITY.filter),
    );
    add(CHAINS.failsafeIn, failsafeRules(cfg.failsafeInboundHostPorts, 'in'));
    add(CHAINS.failsafeOut, failsafeRules(cfg.failsafeOutboundHostPorts, 'out'));

    // raw: anti-spoofing for workloads and untracked host-endpoint policy, before conntrack.
    add(
      CHAINS.rawPrerouting,
      [
        r(`meta mark set meta mark & ${hex(~allCalicoBits >>> 0)}`, 'clear Calico mark bits'),
        ...prefixes.map((p) => r(`iifname ${wild(p)} jump ${CHAINS.rawAntiSpoof}`, 'workload anti-spoofing')),
        r(`jump ${CHAINS.rawFromHep}`, 'untracked host endpoint ingress policy'),
        r(`${accepted} counter accept`, 'untracked policy accepted packet'),
      ],
      base('filter', 'prerouting', PRIORITY.raw),
    );
    add(
      CHAINS.rawOutput,
      [
        r(`meta mark set meta mark & ${hex(~allCalicoBits >>> 0)}`, 'clear Calico mark bits'),
        r(`jump ${CHAINS.rawToHep}`, 'untracked host endpoint egress policy'),
        r(`${accepted} counter accept`, 'untracked policy accepted packet'),
      ],
      base('filter', 'output', PRIORITY.raw),
    );
    // mangle: pre-DNAT host endpoint policy.
    add(
      CHAINS.manglePrerouting,
      [
        r(`${accepted} accept`, 'accepted by untracked policy'),
        r('ct state established,related accept', 'accept established/related'),
        r(`jump ${CHAINS.mangleFromHep}`, 'pre-DNAT host endpoint policy'),
        r(`${accepted} counter accept`, 'pre-DNAT policy accepted packet'),
      ],
      base('filter', 'prerouting', PRIORITY.mangle),
    );
    // nat: floating IPs (only when some endpoint has one).
    if (natRules.pre.length) {
      add(CHAINS.natPrerouting, natRules.pre, base('nat', 'prerouting', PRIORITY.dstnat));
      add(CHAINS.natOutput, natRules.pre, base('nat', 'output', PRIORITY.dstnat));
      add(CHAINS.natPostrouting, natRules.post, base('nat', 'postrouting', PRIORITY.srcnat));
    }
  }

  private readonly structureCache = new Map<string, NftChain>();
  private readonly mapCache = new Map<string, NftVerdictMap>();
}

function sameEntries(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const k of a.keys()) if (b.get(k) !== a.get(k)) return false;
  return true;
}

/**
 * Elements of a `net` set. Endpoint sets hold only host routes (the common, large case): the calc graph's canonical
 * `a.b.c.d/32` just loses its suffix. Sets with wider CIDRs (network sets) are coalesced.
 */
function setElements(members: readonly string[], family: IpFamily): string[] {
  const host = family === 4 ? '/32' : '/128';
  if (members.every((m) => m.endsWith(host))) {
    const out = members.map((m) => m.slice(0, -host.length));
    return out.every((x, i) => i === 0 || out[i - 1]! < x) ? out : [...new Set(out)].sort();
  }
  return coalesceNets(members);
}

type PolicyUse = Record<PolicyContext, { in: Set<string>; out: Set<string> }>;

interface EndpointPass {
  chains: NftChain[];
  /** dispatch chain -> interface -> verdict */
  dispatch: Map<string, Map<string, string>>;
  /** dispatch chain -> chain for the `*` host endpoint */
  allInterfaces: Map<string, string>;
  natRules: { pre: NftRule[]; post: NftRule[] };
  /** Which policy chains are jumped to, per context and direction. */
  used: PolicyUse;
  /** Profile chains some endpoint jumps to. */
  profileChains: Set<string>;
}

interface RenderedIpSet {
  spec: IpSetSpec;
  sets: NftSet[];
  hostOnly: boolean;
}

/** First index whose element is >= x (arrays sorted by code unit, as Array.prototype.sort orders strings). */
function lowerBound(arr: readonly string[], x: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The element of one member (the same text renderIpSets produces for it). */
function memberElement(spec: IpSetSpec, member: string, family: IpFamily): string {
  if (spec.type === 'net') return member.slice(0, -(family === 4 ? '/32' : '/128').length);
  const p = parseNamedPortMember(member);
  const ip = /^[0-9.]+$/.test(p.ip) ? p.ip : canonicalAddressElement(p.ip);
  return `${ip} . ${PROTOCOL_NUMBERS[p.protocol]} . ${p.port}`;
}

/**
 * A set whose members changed, from its previous rendering: the sorted member lists are diffed and only the changed
 * members are turned into elements and patched into a copy of the previous element list. Host-address and named-port
 * sets only (a set of CIDRs is coalesced, so it is rendered whole); falls back to renderIpSets when many changed.
 */
function patchIpSets(prevSpec: IpSetSpec, prev: NftSet[], spec: IpSetSpec, ipv6: boolean, hostOnly: boolean): NftSet[] {
  if ((spec.type === 'net' && !hostOnly) || spec.type !== prevSpec.type) return renderIpSets(spec, ipv6, hostOnly);
  const out: NftSet[] = [];
  for (const family of ipv6 ? ([4, 6] as const) : ([4] as const)) {
    const before = family === 4 ? prevSpec.v4Members : prevSpec.v6Members;
    const after = family === 4 ? spec.v4Members : spec.v6Members;
    const old = prev[out.length]!;
    const { removed, added } = elementDiff(before, after);
    if (removed.length + added.length > Math.max(64, after.length >> 3)) return renderIpSets(spec, ipv6, hostOnly);
    if (removed.length + added.length === 0) {
      out.push(old);
      continue;
    }
    const elements = [...old.elements];
    for (const m of removed) {
      const e = memberElement(spec, m, family);
      const i = lowerBound(elements, e);
      if (elements[i] === e) elements.splice(i, 1);
    }
    for (const m of added) {
      const e = memberElement(spec, m, family);
      const i = lowerBound(elements, e);
      if (elements[i] !== e) elements.splice(i, 0, e);
    }
    out.push({ ...old, elements });
  }
  return out;
}

function renderIpSets(spec: IpSetSpec, ipv6: boolean, hostOnly: boolean): NftSet[] {
  const out: NftSet[] = [];
  for (const family of ipv6 ? ([4, 6] as const) : ([4] as const)) {
    const members = family === 4 ? spec.v4Members : spec.v6Members;
    const addrType = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
    if (spec.type === 'net') {
      out.push({
        name: ipSetName(spec.id, family, !hostOnly),
        keyType: addrType,
        flags: hostOnly ? [] : ['interval'],
        elements: setElements(members, family),
      });
    } else {
      const mapped = members.map((m) => {
        const p = parseNamedPortMember(m);
        const ip = /^[0-9.]+$/.test(p.ip) ? p.ip : canonicalAddressElement(p.ip);
        return `${ip} . ${PROTOCOL_NUMBERS[p.protocol]} . ${p.port}`;
      });
      const elements = mapped.every((x, i) => i === 0 || mapped[i - 1]! < x) ? mapped : [...new Set(mapped)].sort();
      out.push({
        name: ipSetName(spec.id, family, false),
        keyType: `${addrType} . inet_proto . inet_service`,
        flags: [],
        elements,
      });
    }
  }
  return out;
}
