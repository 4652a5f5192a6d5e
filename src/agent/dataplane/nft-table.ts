// NftTable: the desired-vs-applied bookkeeping of `table inet calico` (Felix's shared table object). `plan(desired)`
// turns the difference between what the kernel has (as far as we know) and what is desired into ONE nft script;
// `committed(desired)` records it after `nft -f` succeeded; `adopt(kernelState)` replaces our belief with what was
// read back from the kernel (start-up and periodic resync), so the next plan repairs any drift.
import {
  TABLE_REF,
  addChainCommand,
  addMapCommand,
  addSetCommand,
  elementCommands,
  mapElementCommands,
  emptyTableState,
  ruleLine,
  type NftBaseChainSpec,
  type NftChain,
  type NftTableState,
} from './nft-model.js';

export interface NftPlan {
  /** The nft script (empty string: nothing to do). */
  script: string;
  /** Number of objects (chains, sets, maps) created, changed or removed. */
  changedObjects: number;
  /** True when the plan drops and reloads the whole table (only for drift that cannot be repaired in place). */
  fullReload: boolean;
}

const sameBase = (a?: NftBaseChainSpec, b?: NftBaseChainSpec): boolean =>
  a === b ||
  (!!a && !!b && a.type === b.type && a.hook === b.hook && a.priority === b.priority && a.policy === b.policy);

function sameRules(a: NftChain, b: NftChain): boolean {
  if (a === b) return true;
  if (a.rules.length !== b.rules.length) return false;
  for (let i = 0; i < a.rules.length; i++) if (a.rules[i]!.id !== b.rules[i]!.id) return false;
  return true;
}

export class NftTable {
  /** What the kernel holds, as far as we know; undefined = the table does not exist. */
  private applied: NftTableState | undefined;

  /** Replaces our belief about the kernel (after reading it back); undefined = no table. */
  adopt(kernel: NftTableState | undefined): void {
    this.applied = kernel;
  }

  get appliedState(): NftTableState | undefined {
    return this.applied;
  }

  /**
   * Records that the plan for `desired` was applied. The state is kept as it is, not copied (a renderer makes a new
   * state each time and never changes one it returned), so later plans compare objects by identity first.
   */
  committed(desired: NftTableState): void {
    this.applied = desired;
  }

  plan(desired: NftTableState): NftPlan {
    if (!this.applied) {
      return { ...planChanges(emptyTableState(), desired, [`add table ${TABLE_REF}`]), fullReload: false };
    }
    if (needsFullReload(this.applied, desired)) {
      const prelude = [`delete table ${TABLE_REF}`, `add table ${TABLE_REF}`];
      return { ...planChanges(emptyTableState(), desired, prelude), fullReload: true };
    }
    return { ...planChanges(this.applied, desired, []), fullReload: false };
  }
}

function planChanges(
  applied: NftTableState,
  desired: NftTableState,
  prelude: string[],
): { script: string; changedObjects: number } {
  {
    const lines: string[] = [...prelude];
    let changed = 0;

    // 1. New chains (empty); base chains whose hook spec drifted are recreated.
    const rewrite: NftChain[] = [];
    for (const chain of desired.chains.values()) {
      const old = applied.chains.get(chain.name);
      if (!old) {
        lines.push(addChainCommand(chain));
        rewrite.push(chain);
      } else if (!sameBase(old.base, chain.base)) {
        lines.push(`flush chain ${TABLE_REF} ${chain.name}`, `delete chain ${TABLE_REF} ${chain.name}`);
        lines.push(addChainCommand(chain));
        rewrite.push(chain);
      } else if (!sameRules(old, chain)) rewrite.push(chain);
    }
    changed += rewrite.length;

    // 2. Sets: create, then exact element differences.
    for (const set of desired.sets.values()) {
      const old = applied.sets.get(set.name);
      if (old === set) continue;
      if (!old) {
        lines.push(addSetCommand(set));
        lines.push(...elementCommands('add', set.name, set.elements));
        changed++;
        continue;
      }
      const { removed, added } = elementDiff(old.elements, set.elements);
      if (removed.length || added.length) changed++;
      lines.push(...elementCommands('delete', set.name, removed));
      lines.push(...elementCommands('add', set.name, added));
    }

    // 3. Verdict maps: create, delete stale or changed keys, add new ones (the chains exist by now).
    for (const map of desired.maps.values()) {
      const old = applied.maps.get(map.name);
      if (old === map) continue;
      if (!old) lines.push(addMapCommand(map));
      const removed: [string, string][] = [];
      const added: [string, string][] = [];
      // forEach, not for-of over entries: no [key, value] pair is allocated per unchanged entry.
      old?.entries.forEach((v, k) => {
        if (map.entries.get(k) !== v) removed.push([k, v]);
      });
      map.entries.forEach((v, k) => {
        if (old?.entries.get(k) !== v) added.push([k, v]);
      });
      if (!old || removed.length || added.length) changed++;
      lines.push(...mapElementCommands('delete', map.name, removed));
      lines.push(...mapElementCommands('add', map.name, added));
    }

    // 4. Rewrite changed chains in place: flush, then the full rule list.
    for (const chain of rewrite) {
      if (applied.chains.has(chain.name) && sameBase(applied.chains.get(chain.name)!.base, chain.base)) {
        lines.push(`flush chain ${TABLE_REF} ${chain.name}`);
      }
      for (const r of chain.rules) lines.push(`add rule ${TABLE_REF} ${chain.name} ${ruleLine(r)}`);
    }

    // 5. Removals: empty the stale chains, drop stale maps and sets, then the chains (nothing references them now).
    const staleChains = [...applied.chains.keys()].filter((n) => !desired.chains.has(n));
    for (const n of staleChains) lines.push(`flush chain ${TABLE_REF} ${n}`);
    for (const n of applied.maps.keys()) {
      if (!desired.maps.has(n)) {
        lines.push(`delete map ${TABLE_REF} ${n}`);
        changed++;
      }
    }
    for (const n of applied.sets.keys()) {
      if (!desired.sets.has(n)) {
        lines.push(`delete set ${TABLE_REF} ${n}`);
        changed++;
      }
    }
    for (const n of staleChains) lines.push(`delete chain ${TABLE_REF} ${n}`);
    changed += staleChains.length;

    return { script: lines.length ? lines.join('\n') + '\n' : '', changedObjects: changed };
  }
}

/** A set or map whose type or flags differ cannot be altered in place while rules reference it. */
function needsFullReload(applied: NftTableState, desired: NftTableState): boolean {
  for (const set of desired.sets.values()) {
    const old = applied.sets.get(set.name);
    if (old && old !== set && (old.keyType !== set.keyType || old.flags.join(',') !== set.flags.join(','))) {
      return true;
    }
  }
  for (const map of desired.maps.values()) {
    const old = applied.maps.get(map.name);
    if (old && old.keyType !== map.keyType) return true;
  }
  // A name used for a set in one state and a map in the other.
  for (const n of desired.sets.keys()) if (applied.maps.has(n)) return true;
  for (const n of desired.maps.keys()) if (applied.sets.has(n)) return true;
  return false;
}

const isSorted = (xs: readonly string[]): boolean => xs.every((x, i) => i === 0 || xs[i - 1]! < x);

/** Elements only in `before` (removed) and only in `after` (added); a merge walk when both lists are sorted. */
export function elementDiff(
  before: readonly string[],
  after: readonly string[],
): { removed: string[]; added: string[] } {
  if (!isSorted(before) || !isSorted(after)) {
    const b = new Set(before);
    const a = new Set(after);
    return { removed: before.filter((e) => !a.has(e)), added: after.filter((e) => !b.has(e)) };
  }
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    if (j >= after.length || (i < before.length && before[i]! < after[j]!)) removed.push(before[i++]!);
    else if (i >= before.length || after[j]! < before[i]!) added.push(after[j++]!);
    else {
      i++;
      j++;
    }
  }
  return { removed, added };
}
