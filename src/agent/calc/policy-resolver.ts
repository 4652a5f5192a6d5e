// PolicyResolver: orders the policies that select one endpoint into tiers, per direction and per policy class.
// In: the endpoint's matching policies (parsed) and the tiers. Out: DirectionPolicies for the normal filter path
// (and, for host endpoints, the forward, preDNAT and untracked paths) plus the staged policies, reported apart.
// Order: tiers by order (unset last) then name; in a tier, policies by order (unset last) then name.
import type { DirectionPolicies, PolicyId, ProfileId, StagedPolicies, TierPolicies } from './model.js';
import { compareOrdered, implicitTier, type ParsedPolicy, type ParsedTier } from './policy-parser.js';

export type Direction = 'ingress' | 'egress';

interface TierGroup {
  tier: ParsedTier;
  policies: ParsedPolicy[];
}

/** Groups and sorts policies that apply in `direction`, tier by tier. */
function groupByTier(
  policies: readonly ParsedPolicy[],
  direction: Direction,
  tierOf: (name: string) => ParsedTier,
): TierGroup[] {
  const groups = new Map<string, TierGroup>();
  for (const p of policies) {
    if (!p[direction]) continue;
    let g = groups.get(p.tier);
    if (!g) groups.set(p.tier, (g = { tier: tierOf(p.tier), policies: [] }));
    g.policies.push(p);
  }
  const sorted = [...groups.values()].sort((a, b) =>
    compareOrdered({ order: a.tier.order, key: a.tier.name }, { order: b.tier.order, key: b.tier.name }),
  );
  for (const g of sorted) {
    g.policies.sort(
      (a, b) =>
        compareOrdered({ order: a.order, key: sortName(a) }, { order: b.order, key: sortName(b) }) || cmp(a.id, b.id),
    );
  }
  return sorted;
}

/** Felix's policy name: `<namespace>/<name>` for namespaced policies. */
const sortName = (p: ParsedPolicy): string => (p.namespace !== undefined ? `${p.namespace}/${p.name}` : p.name);
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `forcePass`: untracked and preDNAT tiers always end with Pass so the normal filter policy still runs (Felix). */
function tiersFor(
  policies: readonly ParsedPolicy[],
  direction: Direction,
  tierOf: (name: string) => ParsedTier,
  forcePass: boolean,
): TierPolicies[] {
  return groupByTier(policies, direction, tierOf).map((g) => {
    const defaultAction = forcePass ? 'Pass' : g.tier.defaultAction;
    return {
      name: g.tier.name,
      defaultAction,
      policyIds: g.policies.map((p) => p.id),
      endOfTierDrop: defaultAction === 'Deny',
    };
  });
}

export interface ResolvedPolicies {
  ingress: DirectionPolicies;
  egress: DirectionPolicies;
  forward: { ingress: DirectionPolicies; egress: DirectionPolicies };
  preDnat: { ingress: DirectionPolicies };
  untracked: { ingress: DirectionPolicies; egress: DirectionPolicies };
  staged: StagedPolicies;
}

export class PolicyResolver {
  readonly #tiers: ReadonlyMap<string, ParsedTier>;

  constructor(tiers: ReadonlyMap<string, ParsedTier>) {
    this.#tiers = tiers;
  }

  tierOf = (name: string): ParsedTier => this.#tiers.get(name) ?? implicitTier(name);

  /**
   * Resolves one endpoint. Workload endpoints use only `ingress`/`egress` (preDNAT and doNotTrack policies never
   * apply to them); host endpoints use all four paths.
   */
  resolve(matching: readonly ParsedPolicy[], profileIds: readonly ProfileId[]): ResolvedPolicies {
    const enforced = matching.filter((p) => !p.staged);
    const normal = enforced.filter((p) => !p.preDNAT && !p.doNotTrack);
    const forward = normal.filter((p) => p.applyOnForward);
    const preDnat = enforced.filter((p) => p.preDNAT);
    const untracked = enforced.filter((p) => p.doNotTrack);
    const staged = matching.filter((p) => p.staged);
    const dir = (
      list: readonly ParsedPolicy[],
      d: Direction,
      profiles: readonly ProfileId[],
      forcePass = false,
    ): DirectionPolicies => ({
      tiers: tiersFor(list, d, this.tierOf, forcePass),
      profileIds: [...profiles],
    });
    const stagedDir = (d: Direction): { tier: string; policyIds: PolicyId[] }[] =>
      groupByTier(staged, d, this.tierOf).map((g) => ({ tier: g.tier.name, policyIds: g.policies.map((p) => p.id) }));
    return {
      ingress: dir(normal, 'ingress', profileIds),
      egress: dir(normal, 'egress', profileIds),
      forward: { ingress: dir(forward, 'ingress', []), egress: dir(forward, 'egress', []) },
      preDnat: { ingress: dir(preDnat, 'ingress', [], true) },
      untracked: { ingress: dir(untracked, 'ingress', [], true), egress: dir(untracked, 'egress', [], true) },
      staged: { ingress: stagedDir('ingress'), egress: stagedDir('egress') },
    };
  }
}
