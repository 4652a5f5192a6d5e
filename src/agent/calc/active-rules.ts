// ActiveRulesCalculator: which policies select which LOCAL endpoints, and which profiles local endpoints use.
// In: every policy's endpoint selector (enforced and staged) and this node's endpoints with labels and profiles.
// Out: per endpoint the matching policy ids; per policy its local endpoints; and, since the last takeChanges(), the
// endpoints whose match set changed and the policies/profiles whose local use may have started or stopped.
//
//   updatePolicy ──> LabelIndex (selectors = policy ids) ──┐
//   updateEndpoint ─> LabelIndex (items = local endpoints) ─┼─> onMatchStarted/Stopped ─> policy<->endpoint maps
//   updateProfileLabels ─> LabelIndex parents ──────────────┘
//   updateEndpoint ─> profile reference counts
import type { Labels, Selector } from '../../selector/index.js';
import { LabelIndex } from '../../selector/label-index.js';
import type { EndpointId, PolicyId, ProfileId } from './model.js';

export interface ActiveRulesChanges {
  endpoints: Set<EndpointId>;
  policies: Set<PolicyId>;
  profiles: Set<ProfileId>;
}

export class ActiveRulesCalculator {
  readonly #index: LabelIndex<PolicyId, EndpointId>;
  readonly #policyEndpoints = new Map<PolicyId, Set<EndpointId>>();
  readonly #endpointPolicies = new Map<EndpointId, Set<PolicyId>>();
  readonly #endpointProfiles = new Map<EndpointId, readonly ProfileId[]>();
  readonly #profileUsers = new Map<ProfileId, Set<EndpointId>>();
  #changes: ActiveRulesChanges = { endpoints: new Set(), policies: new Set(), profiles: new Set() };

  constructor() {
    this.#index = new LabelIndex<PolicyId, EndpointId>({
      onMatchStarted: (policyId, endpointId) => {
        addTo(this.#policyEndpoints, policyId, endpointId);
        addTo(this.#endpointPolicies, endpointId, policyId);
        this.#changes.endpoints.add(endpointId);
        this.#changes.policies.add(policyId);
      },
      onMatchStopped: (policyId, endpointId) => {
        removeFrom(this.#policyEndpoints, policyId, endpointId);
        removeFrom(this.#endpointPolicies, endpointId, policyId);
        this.#changes.endpoints.add(endpointId);
        this.#changes.policies.add(policyId);
      },
    });
  }

  updatePolicy(id: PolicyId, selector: Selector): void {
    this.#index.updateSelector(id, selector);
  }

  deletePolicy(id: PolicyId): void {
    this.#index.deleteSelector(id);
  }

  updateEndpoint(id: EndpointId, labels: Labels, profileIds: readonly ProfileId[]): void {
    this.#index.updateItem(id, labels, profileIds);
    const prev = this.#endpointProfiles.get(id) ?? [];
    for (const p of profileIds) if (!prev.includes(p)) this.#addProfileUser(p, id);
    for (const p of prev) if (!profileIds.includes(p)) this.#removeProfileUser(p, id);
    this.#endpointProfiles.set(id, [...profileIds]);
  }

  deleteEndpoint(id: EndpointId): void {
    this.#index.deleteItem(id);
    for (const p of this.#endpointProfiles.get(id) ?? []) this.#removeProfileUser(p, id);
    this.#endpointProfiles.delete(id);
  }

  updateProfileLabels(id: ProfileId, labels: Labels): void {
    this.#index.updateParentLabels(id, labels);
  }

  deleteProfileLabels(id: ProfileId): void {
    this.#index.deleteParent(id);
  }

  policiesOf(endpointId: EndpointId): ReadonlySet<PolicyId> {
    return this.#endpointPolicies.get(endpointId) ?? EMPTY;
  }

  endpointsOf(policyId: PolicyId): ReadonlySet<EndpointId> {
    return this.#policyEndpoints.get(policyId) ?? EMPTY;
  }

  isProfileUsed(id: ProfileId): boolean {
    return this.#profileUsers.has(id);
  }

  get endpointCount(): number {
    return this.#endpointProfiles.size;
  }

  takeChanges(): ActiveRulesChanges {
    const c = this.#changes;
    this.#changes = { endpoints: new Set(), policies: new Set(), profiles: new Set() };
    return c;
  }

  #addProfileUser(p: ProfileId, ep: EndpointId): void {
    if (!this.#profileUsers.has(p)) this.#changes.profiles.add(p);
    addTo(this.#profileUsers, p, ep);
  }

  #removeProfileUser(p: ProfileId, ep: EndpointId): void {
    removeFrom(this.#profileUsers, p, ep);
    if (!this.#profileUsers.has(p)) this.#changes.profiles.add(p);
  }
}

const EMPTY: ReadonlySet<string> = new Set();

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set && set.delete(value) && set.size === 0) map.delete(key);
}
