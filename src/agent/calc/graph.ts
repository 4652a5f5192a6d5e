// CalcGraph: Felix's calculation graph for one node. Datastore updates in, the node's desired dataplane out
// (DataplaneSnapshot), plus the ids that changed since the last flush. Synchronous and pure: the agent loop feeds it
// from the datastore watch and hands snapshots to the nftables dataplane.
import type { Resource } from '../../api/resource.js';
import { ActiveRulesCalculator } from './active-rules.js';
import { dataplaneConfigOf, resolveFelixConfig, type FelixConfig } from './config.js';
import {
  parseHostEndpoint,
  parseNetworkSet,
  parseNodeAddresses,
  parseWorkloadEndpoint,
  type ParsedEndpoint,
} from './endpoint-parser.js';
import { IpSetMemberCalculator } from './ipset-members.js';
import {
  hostEndpointId,
  workloadEndpointId,
  type CalcGraphApi,
  type CalcGraphOptions,
  type CalcUpdate,
  type CompiledPolicy,
  type DataplaneChanges,
  type DataplaneConfig,
  type DataplaneSnapshot,
  type EndpointId,
  type IdChanges,
  type IpSetId,
  type IpSetSpec,
  type LocalEndpoint,
  type PolicyId,
  type ProfileId,
  type ResourceProblem,
  type StagedPolicyInfo,
} from './model.js';
import {
  parsePolicy,
  parseProfile,
  parseTier,
  type ParsedPolicy,
  type ParsedProfile,
  type ParsedTier,
} from './policy-parser.js';
import { PolicyResolver } from './policy-resolver.js';
import { FieldError } from './field-error.js';
import { RuleScanner } from './rule-scanner.js';

export const ALL_HOSTS_NET = 'all-hosts-net';
export const THIS_HOST = 'this-host';

const POLICY_KINDS = new Set<string>([
  'NetworkPolicy',
  'GlobalNetworkPolicy',
  'StagedNetworkPolicy',
  'StagedGlobalNetworkPolicy',
  'StagedKubernetesNetworkPolicy',
]);

type Category = 'endpoints' | 'policies' | 'profiles' | 'ipSets' | 'stagedPolicies';

interface Published {
  endpoints: Map<EndpointId, LocalEndpoint>;
  policies: Map<PolicyId, CompiledPolicy>;
  profiles: Map<ProfileId, CompiledPolicy>;
  ipSets: Map<IpSetId, IpSetSpec>;
  stagedPolicies: Map<PolicyId, StagedPolicyInfo>;
}

const resourceName = (kind: string, name: string, namespace?: string): string =>
  namespace ? `${kind} ${namespace}/${name}` : `${kind} ${name}`;

function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((x, i) => x === b[i]));
}

function sameIpSet(a: IpSetSpec, b: IpSetSpec): boolean {
  return (
    a === b ||
    (a.type === b.type &&
      a.selector === b.selector &&
      sameList(a.v4Members, b.v4Members) &&
      sameList(a.v6Members, b.v6Members) &&
      sameJson(a.namedPort, b.namedPort))
  );
}

/**
 * The wiring (each box is a module of this folder):
 *
 *   onUpdate ──> dispatcher (by kind) ─┬─> endpoint-parser ──> local? ──> ActiveRulesCalculator ──┐ policy matches
 *                                      │          └──────────────────> IpSetMemberCalculator ──┐  │ profile use
 *                                      ├─> policy-parser ─────────────> ActiveRulesCalculator   │  v
 *                                      ├─> Profile labels ────────────> both label indexes      │ #reconcile: active
 *                                      ├─> Tier, Node, FelixConfiguration (config.ts)           │  policies/profiles
 *                                      │                                                        │  ──> RuleScanner
 *                                      │                                RuleScanner ── set refs ─┘  (compiled rules)
 *   snapshot()/flush() ──> PolicyResolver per dirty endpoint, dirty policies/profiles/sets ──> DataplaneSnapshot
 */
export class CalcGraph implements CalcGraphApi {
  readonly #nodeName: string;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #file: Readonly<Record<string, string>>;

  // Inputs, parsed.
  readonly #policiesByResource = new Map<string, ParsedPolicy>();
  readonly #policies = new Map<PolicyId, ParsedPolicy>();
  readonly #profiles = new Map<ProfileId, ParsedProfile>();
  readonly #tiers = new Map<string, ParsedTier>();
  readonly #localEndpoints = new Map<EndpointId, ParsedEndpoint>();
  readonly #nodes = new Map<string, { v4: string[]; v6: string[] }>();
  readonly #felixSpecs: { default?: Record<string, unknown>; node?: Record<string, unknown> } = {};
  readonly #problems = new Map<string, string>();
  #config: FelixConfig;
  #configProblems: string[] = [];

  // Calculators.
  readonly #active = new ActiveRulesCalculator();
  readonly #members = new IpSetMemberCalculator();
  readonly #scanner = new RuleScanner({
    onIpSetActive: (d) => this.#members.addIpSet(d),
    onIpSetInactive: (id) => this.#members.removeIpSet(id),
  });
  readonly #resolver = new PolicyResolver(this.#tiers);

  // Compiled active policies and profiles.
  readonly #compiledPolicies = new Map<PolicyId, CompiledPolicy>();
  readonly #compiledProfiles = new Map<ProfileId, CompiledPolicy>();

  // Work deferred to the next #reconcile / #publish.
  #touchedPolicies = new Set<PolicyId>();
  #touchedProfiles = new Set<ProfileId>();
  readonly #dirty = {
    endpoints: new Set<EndpointId>(),
    policies: new Set<PolicyId>(),
    profiles: new Set<ProfileId>(),
    stagedPolicies: new Set<PolicyId>(),
  };
  #hostIpsDirty = true;
  #configDirty = true;
  #problemsDirty = true;

  // Published state and the changes not yet flushed.
  readonly #pub: Published = {
    endpoints: new Map(),
    policies: new Map(),
    profiles: new Map(),
    ipSets: new Map(),
    stagedPolicies: new Map(),
  };
  readonly #sorted: Partial<Record<Category, Map<string, unknown>>> = {};
  /** Sorted ids per category; kept while only values change, so a snapshot after an update does not re-sort. */
  readonly #sortedKeys: Partial<Record<Category, string[]>> = {};
  #hostIps: { v4: string[]; v6: string[] } = { v4: [], v6: [] };
  #pubConfig: DataplaneConfig;
  #pubProblems: readonly ResourceProblem[] = [];
  #pending = this.#emptyPending();
  #snapshot: DataplaneSnapshot | undefined;

  constructor(opts: CalcGraphOptions) {
    this.#nodeName = opts.nodeName;
    this.#env = opts.env ?? {};
    this.#file = opts.configFile ?? {};
    const r = resolveFelixConfig({ env: this.#env, file: this.#file });
    this.#config = r.config;
    this.#configProblems = r.problems;
    this.#pubConfig = dataplaneConfigOf(r.config);
    this.#pending.configChanged = true;
  }

  /** The full effective Felix configuration (the snapshot carries the dataplane subset). */
  felixConfig(): FelixConfig {
    return this.#config;
  }

  /** Counts for metrics: active policies, profiles, IP sets and local endpoints. */
  stats(): { activePolicies: number; activeProfiles: number; ipSets: number; localEndpoints: number } {
    return {
      activePolicies: this.#compiledPolicies.size,
      activeProfiles: this.#compiledProfiles.size,
      ipSets: this.#scanner.activeIpSetCount,
      localEndpoints: this.#localEndpoints.size,
    };
  }

  onUpdate(update: CalcUpdate): void {
    this.#apply(update);
    this.#reconcile();
  }

  onUpdates(updates: readonly CalcUpdate[]): void {
    for (const u of updates) this.#apply(u);
    this.#reconcile();
  }

  snapshot(): DataplaneSnapshot {
    this.#publish();
    if (!this.#snapshot) {
      const view = <C extends Category>(c: C): Published[C] => {
        let m = this.#sorted[c] as Published[C] | undefined;
        if (!m) {
          const pub = this.#pub[c] as Map<string, any>;
          const keys = (this.#sortedKeys[c] ??= [...pub.keys()].sort());
          this.#sorted[c] = m = new Map(keys.map((k) => [k, pub.get(k)])) as Published[C];
        }
        return m;
      };
      this.#snapshot = {
        nodeName: this.#nodeName,
        endpoints: view('endpoints'),
        policies: view('policies'),
        profiles: view('profiles'),
        ipSets: view('ipSets'),
        stagedPolicies: view('stagedPolicies'),
        hostIps: this.#hostIps,
        config: this.#pubConfig,
        problems: this.#pubProblems,
      };
    }
    return this.#snapshot;
  }

  flush(): DataplaneChanges {
    this.#publish();
    const p = this.#pending;
    this.#pending = this.#emptyPending();
    const ids = (m: Map<string, 'updated' | 'removed'>): IdChanges<string> => {
      const updated: string[] = [];
      const removed: string[] = [];
      for (const [id, what] of m) (what === 'updated' ? updated : removed).push(id);
      return { updated: updated.sort(), removed: removed.sort() };
    };
    return {
      endpoints: ids(p.endpoints),
      policies: ids(p.policies),
      profiles: ids(p.profiles),
      ipSets: ids(p.ipSets),
      stagedPolicies: ids(p.stagedPolicies),
      hostIpsChanged: p.hostIpsChanged,
      configChanged: p.configChanged,
    };
  }

  // ---- dispatch ------------------------------------------------------------------------------------------------

  #apply(u: CalcUpdate): void {
    if (u.type === 'put' && (typeof u.resource?.metadata?.name !== 'string' || typeof u.resource.kind !== 'string')) {
      this.#setProblem('(unnamed resource)', 'kind and metadata.name are required; update ignored');
      return;
    }
    const kind = u.type === 'put' ? u.resource.kind : u.kind;
    const name = u.type === 'put' ? u.resource.metadata.name : u.name;
    const namespace = u.type === 'put' ? u.resource.metadata.namespace : u.namespace;
    const res = u.type === 'put' ? (u.resource as Resource) : undefined;
    const problemKey = resourceName(kind, name, namespace);
    if (!res) this.#setProblem(problemKey, undefined);
    const parseOrReport = <T>(fn: () => T): T | undefined => {
      try {
        const v = fn();
        this.#setProblem(problemKey, undefined);
        return v;
      } catch (e) {
        // Malformed input of any shape is reported and treated as absent (Felix's validation filter does the same).
        const message = e instanceof FieldError ? e.message : `cannot be used: ${(e as Error).message}`;
        this.#setProblem(problemKey, message);
        return undefined;
      }
    };

    switch (kind) {
      case 'WorkloadEndpoint':
      case 'HostEndpoint': {
        const id = kind === 'WorkloadEndpoint' ? workloadEndpointId(namespace ?? '', name) : hostEndpointId(name);
        const ep = res
          ? parseOrReport(() => (kind === 'WorkloadEndpoint' ? parseWorkloadEndpoint(res) : parseHostEndpoint(res)))
          : undefined;
        this.#setEndpoint(id, ep, problemKey);
        break;
      }
      case 'NetworkSet':
      case 'GlobalNetworkSet': {
        const id = kind === 'NetworkSet' ? `netset/${namespace}/${name}` : `gnetset/${name}`;
        const ns = res ? parseOrReport(() => parseNetworkSet(res)) : undefined;
        if (ns) this.#members.updateItem(id, ns.labels, ns.parents, { nets: ns.nets, ports: [] });
        else this.#members.deleteItem(id);
        break;
      }
      case 'Profile': {
        const p = res ? parseOrReport(() => parseProfile(res)) : undefined;
        if (p) {
          this.#profiles.set(name, p);
          this.#members.updateParentLabels(name, p.labelsToApply);
          this.#active.updateProfileLabels(name, p.labelsToApply);
        } else {
          this.#profiles.delete(name);
          this.#members.deleteParent(name);
          this.#active.deleteProfileLabels(name);
        }
        this.#touchedProfiles.add(name);
        break;
      }
      case 'Tier': {
        const t = res ? parseOrReport(() => parseTier(res)) : undefined;
        if (t) this.#tiers.set(name, t);
        else this.#tiers.delete(name);
        // Tier order or default action changes the evaluation of every endpoint with a policy in the tier.
        for (const p of this.#policies.values()) {
          if (p.tier === name) for (const ep of this.#active.endpointsOf(p.id)) this.#dirty.endpoints.add(ep);
        }
        break;
      }
      case 'FelixConfiguration': {
        if (name === 'default') this.#felixSpecs.default = res ? (res.spec ?? {}) : undefined;
        else if (name === `node.${this.#nodeName}`) this.#felixSpecs.node = res ? (res.spec ?? {}) : undefined;
        else break;
        this.#recomputeConfig();
        break;
      }
      case 'Node': {
        if (res) this.#nodes.set(name, parseNodeAddresses(res));
        else this.#nodes.delete(name);
        this.#hostIpsDirty = true;
        break;
      }
      default:
        if (POLICY_KINDS.has(kind)) {
          const key = `${kind}/${namespace ?? ''}/${name}`;
          const p = res ? parseOrReport(() => parsePolicy(res)) : undefined;
          this.#setPolicy(key, p);
        }
    }
  }

  #setProblem(key: string, message: string | undefined): void {
    if (message === undefined) {
      if (this.#problems.delete(key)) this.#problemsDirty = true;
    } else if (this.#problems.get(key) !== message) {
      this.#problems.set(key, message);
      this.#problemsDirty = true;
    }
  }

  #setEndpoint(id: EndpointId, ep: ParsedEndpoint | undefined, problemKey: string): void {
    if (ep) {
      this.#members.updateItem(id, ep.labels, ep.profileIds, {
        nets: [...ep.ipv4Nets, ...ep.ipv6Nets],
        ports: ep.ports,
      });
    } else {
      this.#members.deleteItem(id);
    }
    let local = ep !== undefined && ep.node === this.#nodeName;
    if (local && ep!.kind === 'workload' && ep!.interfaceName === '') {
      this.#setProblem(problemKey, 'spec.interfaceName: is required for an endpoint on this node');
      local = false;
    }
    if (local) {
      this.#localEndpoints.set(id, ep!);
      this.#active.updateEndpoint(id, ep!.labels, ep!.profileIds);
      this.#dirty.endpoints.add(id);
    } else if (this.#localEndpoints.has(id)) {
      this.#localEndpoints.delete(id);
      this.#active.deleteEndpoint(id);
      this.#dirty.endpoints.add(id);
    }
  }

  #setPolicy(key: string, p: ParsedPolicy | undefined): void {
    const old = this.#policiesByResource.get(key);
    if (old && (!p || old.id !== p.id)) {
      for (const ep of this.#active.endpointsOf(old.id)) this.#dirty.endpoints.add(ep);
      this.#active.deletePolicy(old.id);
      this.#policies.delete(old.id);
      this.#touchedPolicies.add(old.id);
    }
    if (p) {
      this.#policiesByResource.set(key, p);
      this.#policies.set(p.id, p);
      this.#active.updatePolicy(p.id, p.selector);
      // Order, tier, types or flags may have changed for endpoints that stay selected.
      for (const ep of this.#active.endpointsOf(p.id)) this.#dirty.endpoints.add(ep);
      this.#touchedPolicies.add(p.id);
    } else {
      this.#policiesByResource.delete(key);
    }
  }

  #recomputeConfig(): void {
    const r = resolveFelixConfig({
      env: this.#env,
      file: this.#file,
      nodeSpec: this.#felixSpecs.node,
      defaultSpec: this.#felixSpecs.default,
    });
    const prev = this.#config;
    this.#config = r.config;
    if (!sameJson(this.#configProblems, r.problems)) {
      this.#configProblems = r.problems;
      this.#problemsDirty = true;
    }
    this.#configDirty = true;
    if (prev.logPrefix !== r.config.logPrefix) {
      for (const id of this.#compiledPolicies.keys()) this.#touchedPolicies.add(id);
      for (const id of this.#compiledProfiles.keys()) this.#touchedProfiles.add(id);
    }
    if (prev.floatingIPs !== r.config.floatingIPs) {
      for (const [id, ep] of this.#localEndpoints) if (ep.kind === 'workload') this.#dirty.endpoints.add(id);
    }
  }

  // ---- active policies and profiles ------------------------------------------------------------------------------

  /** Brings the set of active (compiled) policies and profiles in line with the local matches. */
  #reconcile(): void {
    const changes = this.#active.takeChanges();
    for (const ep of changes.endpoints) this.#dirty.endpoints.add(ep);
    const touched = this.#touchedPolicies;
    const policies = new Set([...changes.policies, ...touched]);
    const profiles = new Set([...changes.profiles, ...this.#touchedProfiles]);
    this.#touchedPolicies = new Set();
    this.#touchedProfiles = new Set();
    const logPrefix = this.#config.logPrefix;

    for (const id of policies) {
      const p = this.#policies.get(id);
      const matched = this.#active.endpointsOf(id).size > 0;
      const shouldBeActive = p !== undefined && !p.staged && (matched || p.assumeNeeded);
      const isActive = this.#compiledPolicies.has(id);
      if (shouldBeActive && (!isActive || touched.has(id))) {
        const compiled = this.#scanner.setRules(id, p, logPrefix)!;
        this.#compiledPolicies.set(id, { id, inbound: compiled.inbound, outbound: compiled.outbound });
        this.#dirty.policies.add(id);
      } else if (!shouldBeActive && isActive) {
        this.#scanner.setRules(id, undefined, logPrefix);
        this.#compiledPolicies.delete(id);
        this.#dirty.policies.add(id);
      }
      this.#dirty.stagedPolicies.add(id);
    }

    for (const id of profiles) {
      const used = this.#active.isProfileUsed(id);
      if (used) {
        // A referenced profile that does not exist is programmed empty: no verdict, so its endpoints drop.
        const p = this.#profiles.get(id) ?? { id, labelsToApply: {}, inbound: [], outbound: [] };
        const compiled = this.#scanner.setRules(`profile:${id}`, p, logPrefix)!;
        this.#compiledProfiles.set(id, { id, inbound: compiled.inbound, outbound: compiled.outbound });
        this.#dirty.profiles.add(id);
      } else if (this.#compiledProfiles.has(id)) {
        this.#scanner.setRules(`profile:${id}`, undefined, logPrefix);
        this.#compiledProfiles.delete(id);
        this.#dirty.profiles.add(id);
      }
    }
  }

  // ---- publishing ------------------------------------------------------------------------------------------------

  #emptyPending() {
    return {
      endpoints: new Map<string, 'updated' | 'removed'>(),
      policies: new Map<string, 'updated' | 'removed'>(),
      profiles: new Map<string, 'updated' | 'removed'>(),
      ipSets: new Map<string, 'updated' | 'removed'>(),
      stagedPolicies: new Map<string, 'updated' | 'removed'>(),
      hostIpsChanged: false,
      configChanged: false,
    };
  }

  #put<C extends Category>(
    c: C,
    id: string,
    next: Published[C] extends Map<string, infer V> ? V | undefined : never,
  ): void {
    const map = this.#pub[c] as Map<string, unknown>;
    const prev = map.get(id);
    if (next === undefined) {
      if (prev === undefined) return;
      map.delete(id);
      this.#pending[c].set(id, 'removed');
      delete this.#sortedKeys[c];
    } else {
      if (
        prev !== undefined &&
        (c === 'ipSets' ? sameIpSet(prev as IpSetSpec, next as IpSetSpec) : sameJson(prev, next))
      ) {
        return;
      }
      if (prev === undefined) delete this.#sortedKeys[c];
      map.set(id, next);
      this.#pending[c].set(id, 'updated');
    }
    delete this.#sorted[c];
    this.#snapshot = undefined;
  }

  #publish(): void {
    for (const id of this.#dirty.endpoints) this.#put('endpoints', id, this.#buildEndpoint(id));
    this.#dirty.endpoints.clear();
    for (const id of this.#dirty.policies) this.#put('policies', id, this.#compiledPolicies.get(id));
    this.#dirty.policies.clear();
    for (const id of this.#dirty.profiles) this.#put('profiles', id, this.#compiledProfiles.get(id));
    this.#dirty.profiles.clear();
    for (const id of this.#dirty.stagedPolicies) this.#put('stagedPolicies', id, this.#stagedInfo(id));
    this.#dirty.stagedPolicies.clear();
    for (const id of this.#members.takeDirty()) this.#put('ipSets', id, this.#members.spec(id));

    if (this.#hostIpsDirty) {
      this.#hostIpsDirty = false;
      const own = this.#nodes.get(this.#nodeName) ?? { v4: [], v6: [] };
      if (!sameJson(own, this.#hostIps)) {
        this.#hostIps = own;
        this.#pending.hostIpsChanged = true;
        this.#snapshot = undefined;
      }
      const all = { v4: new Set<string>(), v6: new Set<string>() };
      for (const n of this.#nodes.values()) {
        n.v4.forEach((ip) => all.v4.add(`${ip}/32`));
        n.v6.forEach((ip) => all.v6.add(`${ip}/128`));
      }
      this.#put('ipSets', ALL_HOSTS_NET, {
        id: ALL_HOSTS_NET,
        type: 'net',
        v4Members: [...all.v4].sort(),
        v6Members: [...all.v6].sort(),
      });
      this.#put('ipSets', THIS_HOST, {
        id: THIS_HOST,
        type: 'net',
        v4Members: own.v4.map((ip) => `${ip}/32`),
        v6Members: own.v6.map((ip) => `${ip}/128`),
      });
    }
    if (this.#configDirty) {
      this.#configDirty = false;
      const next = dataplaneConfigOf(this.#config);
      if (!sameJson(next, this.#pubConfig)) {
        this.#pubConfig = next;
        this.#pending.configChanged = true;
        this.#snapshot = undefined;
      }
    }
    if (this.#problemsDirty) {
      this.#problemsDirty = false;
      const list: ResourceProblem[] = [...this.#problems].map(([resource, message]) => ({ resource, message }));
      for (const message of this.#configProblems) list.push({ resource: 'FelixConfiguration', message });
      list.sort((a, b) =>
        a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : a.message < b.message ? -1 : 1,
      );
      if (!sameJson(list, this.#pubProblems)) {
        this.#pubProblems = list;
        this.#snapshot = undefined;
      }
    }
  }

  #stagedInfo(id: PolicyId): StagedPolicyInfo | undefined {
    const p = this.#policies.get(id);
    if (!p || !p.staged || this.#active.endpointsOf(id).size === 0) return undefined;
    const types: ('Ingress' | 'Egress')[] = [];
    if (p.ingress) types.push('Ingress');
    if (p.egress) types.push('Egress');
    return { id, tier: p.tier, stagedAction: p.stagedAction ?? 'Set', types };
  }

  #buildEndpoint(id: EndpointId): LocalEndpoint | undefined {
    const ep = this.#localEndpoints.get(id);
    if (!ep) return undefined;
    const matching: ParsedPolicy[] = [];
    for (const pid of this.#active.policiesOf(id)) {
      const p = this.#policies.get(pid);
      if (p) matching.push(p);
    }
    const r = this.#resolver.resolve(matching, ep.profileIds);
    const common = {
      id,
      name: ep.name,
      interfaceName: ep.interfaceName,
      ipv4Nets: ep.ipv4Nets,
      ipv6Nets: ep.ipv6Nets,
      ingress: r.ingress,
      egress: r.egress,
      staged: r.staged,
    };
    if (ep.kind === 'host') {
      return { ...common, kind: 'host', forward: r.forward, preDnat: r.preDnat, untracked: r.untracked };
    }
    const nat = this.#config.floatingIPs === 'Enabled';
    const out: LocalEndpoint = {
      ...common,
      kind: 'workload',
      namespace: ep.namespace!,
      allowSpoofedSourcePrefixes: ep.allowSpoofedSourcePrefixes,
      ipv4Nat: nat ? ep.ipv4Nat : [],
      ipv6Nat: nat ? ep.ipv6Nat : [],
    };
    if (ep.mac !== undefined) out.mac = ep.mac;
    return out;
  }
}
