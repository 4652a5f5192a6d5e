// Inverted label index (Felix's labelindex): tracks which items (endpoints, network sets) each selector matches.
// In: selectors by ID; items with their own labels and parent IDs (profiles); parents' labels. An item's effective
// labels are its own plus its parents' (own labels win; an earlier parent wins over a later one).
// Out: onMatchStarted / onMatchStopped for exactly the (selector, item) pairs whose membership changed.
//
//   updateSelector ──> selector index (key -> value -> selectors, key -> selectors) ──┐
//                                                                                     ├─> re-evaluate candidates ─> events
//   updateItem / updateParentLabels ──> effective labels ──> changed keys ───────────┘
//
// A label change looks up only the selectors that test a changed key with a value it had or has (or test its
// presence, or its text), so its cost does not grow with the number of selectors. A new selector is checked only
// against items holding a label it requires, when it requires one. Listeners must not call back into the index.
// Items' own and effective label maps are interned (LabelInterner): items with the same labels share one map.
import { labelDependencies, requiredLabels, type RequiredLabels } from './dependencies.js';
import type { Labels, Matcher } from './compile.js';
import { LabelInterner, type InternedLabels } from './label-interner.js';
import { parseSelector, type Selector } from './selector.js';

export interface LabelIndexListener<S, I> {
  onMatchStarted(selectorId: S, itemId: I): void;
  onMatchStopped(selectorId: S, itemId: I): void;
}

type LabelMap = Record<string, string>;

interface SelectorRecord<S> {
  readonly id: S;
  selector: Selector;
  matcher: Matcher;
  readonly items: Set<ItemRecord<unknown>>;
  /** Epoch of the last candidate collection that included this selector (de-duplicates candidates). */
  mark: number;
}

interface ItemRecord<I> {
  readonly id: I;
  /** Own labels, interned. */
  own: InternedLabels;
  parents: readonly string[];
  /** Effective labels: parents' labels overlaid with own labels. Interned (shared, frozen, null prototype). */
  labels: InternedLabels;
  readonly selectors: Set<SelectorRecord<unknown>>;
  mark: number;
}

interface ParentRecord {
  labels: LabelMap | undefined;
  readonly children: Set<ItemRecord<unknown>>;
}

/** A step of the merge cache: the merge so far, and the steps for each next parent's label map. */
interface MergeNode {
  merged?: InternedLabels;
  next?: WeakMap<object, MergeNode>;
}

const NO_LABELS: LabelMap = Object.freeze(Object.create(null) as LabelMap);

function copyLabels(labels: Labels, what: string): LabelMap {
  const out = Object.create(null) as LabelMap;
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string') {
      throw new TypeError(`${what}: label ${JSON.stringify(k)} must be a string, got ${typeof v}`);
    }
    out[k] = v;
  }
  return out;
}

function sameLabels(a: LabelMap, b: LabelMap): boolean {
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set && set.delete(value) && set.size === 0) map.delete(key);
}

export class LabelIndex<S = string, I = string> {
  readonly #listener: LabelIndexListener<S, I>;
  readonly #selectors = new Map<S, SelectorRecord<S>>();
  readonly #items = new Map<I, ItemRecord<I>>();
  readonly #parents = new Map<string, ParentRecord>();
  /** Holds one reference per item for its own labels and one for its effective labels. */
  readonly #interner = new LabelInterner();
  /** own labels -> parents' label maps in order -> the merge (see #effectiveLabels). */
  readonly #merges = new WeakMap<object, MergeNode>();

  // Selector side of the inverted index.
  readonly #selByValue = new Map<string, Map<string, Set<SelectorRecord<S>>>>();
  readonly #selByPresence = new Map<string, Set<SelectorRecord<S>>>();
  readonly #selByAnyValue = new Map<string, Set<SelectorRecord<S>>>();
  /** Selectors that match an item with no labels: candidates for every new item. */
  readonly #selMatchingEmpty = new Set<SelectorRecord<S>>();

  // Item side: lets a new selector visit only the items carrying a label it requires.
  readonly #itemsByValue = new Map<string, Map<string, Set<ItemRecord<I>>>>();
  readonly #itemsByKey = new Map<string, Set<ItemRecord<I>>>();

  #epoch = 0;
  /** Scratch list for #applyLabels (reused to spare an allocation per change). */
  readonly #candidates: SelectorRecord<S>[] = [];

  constructor(listener: LabelIndexListener<S, I>) {
    this.#listener = listener;
  }

  // ---- selectors -------------------------------------------------------------------------------------------

  /** Adds or replaces a selector; emits the membership differences. A selector with the same canonical text is a no-op. */
  updateSelector(id: S, selector: Selector | string): void {
    const sel = typeof selector === 'string' ? parseSelector(selector) : selector;
    let rec = this.#selectors.get(id);
    if (rec) {
      if (rec.selector.toString() === sel.toString()) return;
      this.#unregisterSelector(rec);
      rec.selector = sel;
      rec.matcher = sel.matches;
    } else {
      rec = { id, selector: sel, matcher: sel.matches, items: new Set(), mark: 0 };
      this.#selectors.set(id, rec);
    }
    this.#registerSelector(rec);

    const matcher = rec.matcher;
    const old = rec.items as Set<ItemRecord<I>>;
    const epoch = ++this.#epoch;
    const check = (item: ItemRecord<I>): void => {
      if (item.mark === epoch) return;
      item.mark = epoch;
      const now = matcher(item.labels);
      if (now !== old.has(item)) this.#setMatch(rec, item, now);
    };
    const required = requiredLabels(sel.ast, (alts) => this.#itemCost(alts));
    if (required === undefined) {
      for (const item of this.#items.values()) check(item);
      return;
    }
    for (const item of this.#itemsWith(required)) check(item);
    // Items matched before but lacking every required label cannot match the new selector.
    for (const item of [...old]) if (item.mark !== epoch) this.#setMatch(rec, item, false);
  }

  deleteSelector(id: S): void {
    const rec = this.#selectors.get(id);
    if (!rec) return;
    this.#unregisterSelector(rec);
    this.#selectors.delete(id);
    for (const item of [...(rec.items as Set<ItemRecord<I>>)]) this.#setMatch(rec, item, false);
  }

  // ---- items -----------------------------------------------------------------------------------------------

  /** Adds or replaces an item's own labels and parents; emits membership changes. Identical updates emit nothing. */
  updateItem(id: I, labels: Labels, parentIds: readonly string[] = []): void {
    const own = this.#interner.intern(labels, `item ${String(id)}`);
    const parents = [...new Set(parentIds)];
    let item = this.#items.get(id);
    const isNew = item === undefined;
    if (item) {
      const sameParents = sameList(item.parents, parents);
      this.#interner.release(item.own); // still held by the item's effective labels or by `own` when unchanged
      if (sameParents && item.own === own) return;
      if (!sameParents) {
        for (const p of item.parents) this.#unlinkParent(p, item);
        for (const p of parents) this.#linkParent(p, item);
      }
      item.own = own;
      item.parents = parents;
    } else {
      item = { id, own, parents, labels: NO_LABELS, selectors: new Set(), mark: 0 };
      this.#items.set(id, item);
      for (const p of parents) this.#linkParent(p, item);
    }
    this.#applyLabels(item, this.#effectiveLabels(item), isNew);
  }

  deleteItem(id: I): void {
    const item = this.#items.get(id);
    if (!item) return;
    for (const sel of [...(item.selectors as Set<SelectorRecord<S>>)]) this.#setMatch(sel, item, false);
    for (const k in item.labels) this.#unindexItemLabel(item, k, item.labels[k]!);
    for (const p of item.parents) this.#unlinkParent(p, item);
    this.#interner.release(item.labels);
    this.#interner.release(item.own);
    this.#items.delete(id);
  }

  // ---- parents (profiles) ----------------------------------------------------------------------------------

  /** Sets the labels a parent passes to its children (a profile's labelsToApply). */
  updateParentLabels(parentId: string, labels: Labels): void {
    const copy = copyLabels(labels, `parent ${parentId}`);
    let parent = this.#parents.get(parentId);
    if (parent?.labels && sameLabels(parent.labels, copy)) return;
    if (!parent) this.#parents.set(parentId, (parent = { labels: undefined, children: new Set() }));
    parent.labels = copy;
    this.#refreshChildren(parent);
  }

  /** Removes a parent's labels; its children keep referring to it and pick its labels up if it comes back. */
  deleteParent(parentId: string): void {
    const parent = this.#parents.get(parentId);
    if (!parent || parent.labels === undefined) return;
    parent.labels = undefined;
    if (parent.children.size === 0) this.#parents.delete(parentId);
    else this.#refreshChildren(parent);
  }

  // ---- queries ---------------------------------------------------------------------------------------------

  itemsMatching(selectorId: S): I[] {
    const rec = this.#selectors.get(selectorId);
    return rec ? [...rec.items].map((item) => item.id as I) : [];
  }

  selectorsMatching(itemId: I): S[] {
    const item = this.#items.get(itemId);
    return item ? [...item.selectors].map((sel) => sel.id as S) : [];
  }

  isMatch(selectorId: S, itemId: I): boolean {
    const rec = this.#selectors.get(selectorId);
    const item = this.#items.get(itemId);
    return rec !== undefined && item !== undefined && rec.items.has(item);
  }

  /** An item's effective labels (own over inherited), or undefined for an unknown item. */
  labelsOf(itemId: I): Labels | undefined {
    return this.#items.get(itemId)?.labels;
  }

  get selectorCount(): number {
    return this.#selectors.size;
  }

  get itemCount(): number {
    return this.#items.size;
  }

  /** Distinct label maps held for the items' own and effective labels (items with equal labels share one). */
  get internedLabelMaps(): number {
    return this.#interner.size;
  }

  // ---- internals -------------------------------------------------------------------------------------------

  #setMatch(sel: SelectorRecord<S>, item: ItemRecord<I>, matched: boolean): void {
    if (matched) {
      sel.items.add(item);
      item.selectors.add(sel);
      this.#listener.onMatchStarted(sel.id, item.id);
    } else {
      sel.items.delete(item);
      item.selectors.delete(sel);
      this.#listener.onMatchStopped(sel.id, item.id);
    }
  }

  #registerSelector(rec: SelectorRecord<S>): void {
    const deps = labelDependencies(rec.selector.ast);
    for (const [k, values] of deps.values) {
      let byValue = this.#selByValue.get(k);
      if (!byValue) this.#selByValue.set(k, (byValue = new Map()));
      for (const v of values) addTo(byValue, v, rec);
    }
    for (const k of deps.presence) addTo(this.#selByPresence, k, rec);
    for (const k of deps.anyValue) addTo(this.#selByAnyValue, k, rec);
    if (rec.matcher(NO_LABELS)) this.#selMatchingEmpty.add(rec);
  }

  #unregisterSelector(rec: SelectorRecord<S>): void {
    const deps = labelDependencies(rec.selector.ast);
    for (const [k, values] of deps.values) {
      const byValue = this.#selByValue.get(k);
      if (!byValue) continue;
      for (const v of values) removeFrom(byValue, v, rec);
      if (byValue.size === 0) this.#selByValue.delete(k);
    }
    for (const k of deps.presence) removeFrom(this.#selByPresence, k, rec);
    for (const k of deps.anyValue) removeFrom(this.#selByAnyValue, k, rec);
    this.#selMatchingEmpty.delete(rec);
  }

  /**
   * The item's effective labels, interned, with one reference taken for the caller. Merges are remembered per own
   * label map and the parents' label maps (by identity), so the 10,000 endpoints of a few label sets merge a few times.
   */
  #effectiveLabels(item: ItemRecord<I>): InternedLabels {
    let node = this.#merges.get(item.own);
    if (!node) this.#merges.set(item.own, (node = {}));
    let inherits = false;
    for (const pid of item.parents) {
      const labels = this.#parents.get(pid)?.labels;
      if (!labels) continue;
      inherits = true;
      node.next ??= new WeakMap();
      let next = node.next.get(labels);
      if (!next) node.next.set(labels, (next = {}));
      node = next;
    }
    if (!inherits) {
      this.#interner.retain(item.own);
      return item.own;
    }
    if (node.merged && this.#interner.retain(node.merged)) return node.merged;
    const merged = Object.create(null) as LabelMap;
    // Later parents first so that earlier ones overwrite them; own labels last.
    for (let i = item.parents.length - 1; i >= 0; i--) {
      const labels = this.#parents.get(item.parents[i])?.labels;
      if (labels) for (const k in labels) merged[k] = labels[k];
    }
    for (const k in item.own) merged[k] = item.own[k]!;
    return (node.merged = this.#interner.intern(merged, `item ${String(item.id)}`));
  }

  #refreshChildren(parent: ParentRecord): void {
    for (const child of parent.children) {
      const item = child as ItemRecord<I>;
      this.#applyLabels(item, this.#effectiveLabels(item), false);
    }
  }

  #linkParent(parentId: string, item: ItemRecord<I>): void {
    let parent = this.#parents.get(parentId);
    if (!parent) this.#parents.set(parentId, (parent = { labels: undefined, children: new Set() }));
    parent.children.add(item);
  }

  #unlinkParent(parentId: string, item: ItemRecord<I>): void {
    const parent = this.#parents.get(parentId);
    if (!parent) return;
    parent.children.delete(item);
    if (parent.children.size === 0 && parent.labels === undefined) this.#parents.delete(parentId);
  }

  /**
   * Moves an item to new effective labels (taking over the caller's reference to `next` and dropping the item's
   * reference to its previous ones), re-evaluating only the selectors a changed label could affect.
   */
  #applyLabels(item: ItemRecord<I>, next: InternedLabels, isNew: boolean): void {
    const prev = item.labels;
    this.#interner.release(prev);
    if (next === prev && !isNew) return;
    this.#epoch++;
    const candidates = this.#candidates;
    candidates.length = 0;
    for (const k in prev) {
      const before = prev[k];
      const after = next[k];
      if (before !== after) this.#labelChanged(item, k, before, after);
    }
    for (const k in next) if (prev[k] === undefined) this.#labelChanged(item, k, undefined, next[k]);
    if (isNew) this.#collect(this.#selMatchingEmpty);

    item.labels = next;
    for (let i = 0; i < candidates.length; i++) {
      const sel = candidates[i];
      const now = sel.matcher(next);
      if (now !== sel.items.has(item)) this.#setMatch(sel, item, now);
    }
    candidates.length = 0;
  }

  /** Collects the selectors a change of key k from `before` to `after` could flip, and re-indexes the item. */
  #labelChanged(item: ItemRecord<I>, k: string, before: string | undefined, after: string | undefined): void {
    this.#collect(this.#selByAnyValue.get(k));
    if ((before === undefined) !== (after === undefined)) this.#collect(this.#selByPresence.get(k));
    const byValue = this.#selByValue.get(k);
    if (byValue !== undefined) {
      if (before !== undefined) this.#collect(byValue.get(before));
      if (after !== undefined) this.#collect(byValue.get(after));
    }
    if (before !== undefined) this.#unindexItemLabel(item, k, before);
    if (after !== undefined) this.#indexItemLabel(item, k, after);
  }

  #collect(set: Set<SelectorRecord<S>> | undefined): void {
    if (set === undefined) return;
    const epoch = this.#epoch;
    for (const sel of set) {
      if (sel.mark !== epoch) {
        sel.mark = epoch;
        this.#candidates.push(sel);
      }
    }
  }

  #indexItemLabel(item: ItemRecord<I>, k: string, v: string): void {
    let byValue = this.#itemsByValue.get(k);
    if (!byValue) this.#itemsByValue.set(k, (byValue = new Map()));
    addTo(byValue, v, item);
    addTo(this.#itemsByKey, k, item);
  }

  #unindexItemLabel(item: ItemRecord<I>, k: string, v: string): void {
    const byValue = this.#itemsByValue.get(k);
    if (byValue) {
      removeFrom(byValue, v, item);
      if (byValue.size === 0) this.#itemsByValue.delete(k);
    }
    removeFrom(this.#itemsByKey, k, item);
  }

  #itemCost(alternatives: RequiredLabels): number {
    let n = 0;
    for (const { label, values } of alternatives) {
      if (values === null) n += this.#itemsByKey.get(label)?.size ?? 0;
      else for (const v of values) n += this.#itemsByValue.get(label)?.get(v)?.size ?? 0;
    }
    return n;
  }

  *#itemsWith(alternatives: RequiredLabels): Iterable<ItemRecord<I>> {
    for (const { label, values } of alternatives) {
      if (values === null) {
        const set = this.#itemsByKey.get(label);
        if (set) yield* set;
      } else {
        const byValue = this.#itemsByValue.get(label);
        if (!byValue) continue;
        for (const v of values) {
          const set = byValue.get(v);
          if (set) yield* set;
        }
      }
    }
  }
}
