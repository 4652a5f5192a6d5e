// NftDataplane: the reconciler between the desired dataplane and the kernel's `table inet calico`.
//   apply(snapshot): render -> diff against what the kernel holds -> ONE `nft -f` transaction -> record it.
//   resync():        read the kernel's table back, adopt it as the truth, and repair any difference (drift).
// Start-up is a resync: an existing table is adopted, never flushed, so a restart does not interrupt traffic.
// A failed transaction changes nothing; the next apply re-reads the kernel first and retries.
import type { DataplaneSnapshot } from '../calc/model.js';
import { parseKernelTable, RuleFingerprints } from './nft-kernel.js';
import type { NftTableState } from './nft-model.js';
import type { NftRunner } from './nft-runner.js';
import { NftTable } from './nft-table.js';
import type { HostInterface } from './host-endpoints.js';
import { RulesetRenderer } from './ruleset.js';

export interface ApplyResult {
  /** Chains, sets and maps created, changed or removed (0: the kernel already matched). */
  changedObjects: number;
  durationMs: number;
  /** Parts of durationMs: rendering the snapshot, planning the diff, running nft. */
  renderMs?: number;
  planMs?: number;
  nftMs?: number;
  scriptBytes?: number;
  fullReload: boolean;
}

export interface ResyncResult extends ApplyResult {
  /** Objects that differed between the kernel and what we had applied (repaired by this resync). */
  driftedObjects: number;
  alteredRules: number;
  foreignRules: number;
}

export class NftDataplane {
  private readonly table = new NftTable();
  private readonly renderer = new RulesetRenderer();
  private readonly fingerprints = new RuleFingerprints();
  private desired: NftTableState | undefined;
  private lastSnapshot: DataplaneSnapshot | undefined;
  private needsReread = true;

  constructor(private readonly runner: NftRunner) {}

  /** The content last rendered (for counts and tests). */
  get desiredState(): NftTableState | undefined {
    return this.desired;
  }

  /**
   * Renders `snapshot` and applies the difference. `interfaces` (the host's interfaces, when known) resolve host
   * endpoints with only expectedIPs and interfaceExclude /regex/ entries; the last ones given are kept for resyncs.
   */
  async apply(snapshot: DataplaneSnapshot, interfaces?: readonly HostInterface[]): Promise<ApplyResult> {
    const started = performance.now();
    if (this.needsReread) await this.readKernel();
    this.lastSnapshot = snapshot;
    const t0 = performance.now();
    this.desired = this.renderer.render(snapshot, interfaces);
    const t1 = performance.now();
    const plan = this.table.plan(this.desired);
    const t2 = performance.now();
    if (plan.script) {
      try {
        await this.runner.apply(plan.script);
      } catch (err) {
        // Our picture of the kernel may be wrong (someone changed the table): re-read before the next attempt.
        this.needsReread = true;
        throw err;
      }
    }
    this.table.committed(this.desired);
    const t3 = performance.now();
    return {
      changedObjects: plan.changedObjects,
      durationMs: t3 - started,
      fullReload: plan.fullReload,
      renderMs: t1 - t0,
      planMs: t2 - t1,
      nftMs: t3 - t2,
      scriptBytes: plan.script.length,
    };
  }

  /** Re-reads the kernel's table and repairs any drift from the last applied snapshot. */
  async resync(): Promise<ResyncResult> {
    const started = performance.now();
    const read = await this.readKernel();
    if (!this.lastSnapshot || !this.desired) {
      return {
        changedObjects: 0,
        durationMs: performance.now() - started,
        fullReload: false,
        driftedObjects: 0,
        ...read,
      };
    }
    const plan = this.table.plan(this.desired);
    if (plan.script) {
      try {
        await this.runner.apply(plan.script);
      } catch (err) {
        this.needsReread = true;
        throw err;
      }
    }
    this.table.committed(this.desired);
    return {
      changedObjects: plan.changedObjects,
      driftedObjects: plan.changedObjects,
      durationMs: performance.now() - started,
      fullReload: plan.fullReload,
      ...read,
    };
  }

  private async readKernel(): Promise<{ alteredRules: number; foreignRules: number }> {
    const json = await this.runner.listTable();
    if (json === undefined) {
      this.table.adopt(undefined);
      this.needsReread = false;
      return { alteredRules: 0, foreignRules: 0 };
    }
    const read = parseKernelTable(json, this.fingerprints);
    this.table.adopt(read.state);
    this.needsReread = false;
    return { alteredRules: read.alteredRules, foreignRules: read.foreignRules };
  }
}

/** Counts for metrics and the bench. */
export function tableCounts(state: NftTableState | undefined): {
  chains: number;
  rules: number;
  sets: number;
  setElements: number;
} {
  if (!state) return { chains: 0, rules: 0, sets: 0, setElements: 0 };
  let rules = 0;
  for (const c of state.chains.values()) rules += c.rules.length;
  let setElements = 0;
  for (const s of state.sets.values()) setElements += s.elements.length;
  return { chains: state.chains.size, rules, sets: state.sets.size, setElements };
}
