// IpSetMemberCalculator: the members of every active IP set, kept incrementally from a cluster-wide LabelIndex.
// In: active set descriptors (from the RuleScanner) and every endpoint / network set in the cluster with its labels,
// parents (profiles), addresses and named ports. Out: per set, reference-counted members (two items with the same
// address keep it alive together) and the ids of sets whose membership changed since the last takeDirty().
//
//   addIpSet/removeIpSet ──> LabelIndex.updateSelector ──┐
//   updateItem/deleteItem ──> LabelIndex.updateItem ─────┼─> onMatchStarted/Stopped ──> per (set, item) contribution
//   updateParentLabels ─────> LabelIndex ───────────────┘                               ──> member ref counts
import type { Labels } from '../../selector/index.js';
import { LabelIndex } from '../../selector/label-index.js';
import type { IpSetId, IpSetSpec } from './model.js';
import type { IpSetDescriptor } from './rule-scanner.js';

export interface NamedPortDecl {
  name: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  port: number;
}

/** What an item contributes to sets: its CIDRs (host /32 or /128 for endpoints; any for network sets) and ports. */
export interface MemberSource {
  nets: readonly string[];
  ports: readonly NamedPortDecl[];
}

interface SetState {
  desc: IpSetDescriptor;
  /** member -> number of items contributing it */
  counts: Map<string, number>;
  /** item -> the members it contributes */
  byItem: Map<string, readonly string[]>;
  /** The last spec() result; its member arrays are never mutated (snapshots share them). */
  published?: IpSetSpec;
  /** Members that appeared (true) or disappeared (false) since `published` was built. */
  changed: Map<string, boolean>;
}

export class IpSetMemberCalculator {
  readonly #sets = new Map<IpSetId, SetState>();
  readonly #items = new Map<string, MemberSource>();
  readonly #dirty = new Set<IpSetId>();
  readonly #index: LabelIndex<IpSetId, string>;

  constructor() {
    this.#index = new LabelIndex<IpSetId, string>({
      onMatchStarted: (setId, itemId) => this.#contribute(setId, itemId),
      onMatchStopped: (setId, itemId) => this.#withdraw(setId, itemId),
    });
  }

  addIpSet(desc: IpSetDescriptor): void {
    if (this.#sets.has(desc.id)) return;
    this.#sets.set(desc.id, { desc, counts: new Map(), byItem: new Map(), changed: new Map() });
    this.#dirty.add(desc.id);
    this.#index.updateSelector(desc.id, desc.selector);
  }

  removeIpSet(id: IpSetId): void {
    if (!this.#sets.has(id)) return;
    this.#index.deleteSelector(id);
    this.#sets.delete(id);
    this.#dirty.add(id);
  }

  updateItem(itemId: string, labels: Labels, parents: readonly string[], source: MemberSource): void {
    // Members of plain sets are the item's nets themselves (shared, not copied), so they must be distinct.
    const nets = new Set(source.nets).size === source.nets.length ? source.nets : [...new Set(source.nets)];
    const prev = this.#items.get(itemId);
    this.#items.set(itemId, nets === source.nets ? source : { nets, ports: source.ports });
    this.#index.updateItem(itemId, labels, parents);
    // Sets that matched before and still match: the item's addresses or ports may have changed.
    if (prev) for (const setId of this.#index.selectorsMatching(itemId)) this.#contribute(setId, itemId);
  }

  deleteItem(itemId: string): void {
    this.#index.deleteItem(itemId);
    this.#items.delete(itemId);
  }

  updateParentLabels(parentId: string, labels: Labels): void {
    this.#index.updateParentLabels(parentId, labels);
  }

  deleteParent(parentId: string): void {
    this.#index.deleteParent(parentId);
  }

  has(id: IpSetId): boolean {
    return this.#sets.has(id);
  }

  /** Ids of sets added, removed or with changed members since the last call. */
  takeDirty(): IpSetId[] {
    const out = [...this.#dirty];
    this.#dirty.clear();
    return out;
  }

  /** The set as the model carries it (members sorted), or undefined when not active. */
  spec(id: IpSetId): IpSetSpec | undefined {
    const s = this.#sets.get(id);
    if (!s) return undefined;
    if (s.published && s.changed.size === 0) return s.published;
    let v4: string[];
    let v6: string[];
    const prev = s.published;
    if (prev && s.changed.size <= Math.max(64, s.counts.size >> 3)) {
      // Few changes: patch copies of the sorted arrays instead of re-sorting every member.
      v4 = [...prev.v4Members];
      v6 = [...prev.v6Members];
      for (const [m, present] of s.changed) {
        const arr = memberAddress(m).includes(':') ? v6 : v4;
        const i = lowerBound(arr, m);
        const there = arr[i] === m;
        if (present && !there) arr.splice(i, 0, m);
        else if (!present && there) arr.splice(i, 1);
      }
    } else {
      v4 = [];
      v6 = [];
      for (const m of s.counts.keys()) (memberAddress(m).includes(':') ? v6 : v4).push(m);
      v4.sort();
      v6.sort();
    }
    s.changed.clear();
    const out: IpSetSpec = {
      id,
      type: s.desc.type,
      selector: s.desc.selector.toString(),
      v4Members: v4,
      v6Members: v6,
    };
    if (s.desc.namedPort) out.namedPort = { ...s.desc.namedPort };
    s.published = out;
    return out;
  }

  #membersFor(desc: IpSetDescriptor, source: MemberSource): readonly string[] {
    if (!desc.namedPort) return source.nets;
    const out = new Set<string>();
    const np = desc.namedPort;
    for (const p of source.ports) {
      if (p.name !== np.name || p.protocol !== np.protocol) continue;
      for (const net of source.nets) {
        const slash = net.indexOf('/');
        const ip = slash < 0 ? net : net.slice(0, slash);
        const prefix = slash < 0 ? undefined : Number(net.slice(slash + 1));
        if (prefix !== undefined && prefix !== (ip.includes(':') ? 128 : 32)) continue;
        out.add(`${ip},${p.protocol}:${p.port}`);
      }
    }
    return [...out];
  }

  #contribute(setId: IpSetId, itemId: string): void {
    const s = this.#sets.get(setId);
    const source = this.#items.get(itemId);
    if (!s || !source) return;
    const next = this.#membersFor(s.desc, source);
    const prev = s.byItem.get(itemId);
    if (prev && prev.length === next.length && prev.every((m, i) => m === next[i])) return;
    for (const m of next) {
      const n = s.counts.get(m) ?? 0;
      s.counts.set(m, n + 1);
      if (n === 0) {
        this.#dirty.add(setId);
        s.changed.set(m, true);
      }
    }
    if (prev) this.#release(s, setId, prev);
    s.byItem.set(itemId, next);
  }

  #withdraw(setId: IpSetId, itemId: string): void {
    const s = this.#sets.get(setId);
    if (!s) return;
    const prev = s.byItem.get(itemId);
    if (!prev) return;
    s.byItem.delete(itemId);
    this.#release(s, setId, prev);
  }

  #release(s: SetState, setId: IpSetId, members: readonly string[]): void {
    for (const m of members) {
      const n = s.counts.get(m)! - 1;
      if (n === 0) {
        s.counts.delete(m);
        this.#dirty.add(setId);
        s.changed.set(m, false);
      } else s.counts.set(m, n);
    }
  }
}

/** The address part of a member (`10.0.0.0/24` -> `10.0.0.0`, `fd00::1,tcp:80` -> `fd00::1`). */
const memberAddress = (m: string): string => m.split(/[,/]/, 1)[0]!;

/** First index whose element is >= m (arrays sorted by code unit, as Array.prototype.sort orders strings). */
function lowerBound(arr: readonly string[], m: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid]! < m) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
