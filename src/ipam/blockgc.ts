// Redundant empty-block garbage collection (kube-controllers' releaseUnusedBlocks; reference §4.2a case 5): an empty
// block affine to a node that has at least one OTHER affine block (either family), seen empty and unchanged for
// longer than leakGracePeriod, has its affinity released with must-be-empty, so the block is deleted. A node's last
// block is never released this way; 0 disables the collector. A block written in between (its sequence number
// moved) starts its wait again; a cooling address keeps a block from being empty.
//   scan(): blocks + clock -> affinity releases (must-be-empty, conditional on the sequence number seen) + result
import { affinityHost, isEmpty, type AllocationBlock } from './core/block.js';
import type { IpamClient } from './client.js';
import { AffinityNotEmptyError, BlockChangedError } from './errors.js';

export interface EmptyBlockScanResult {
  /** Blocks whose affinity was released (and which were deleted). */
  released: string[];
  /** Redundant empty blocks still inside their grace period. */
  waiting: string[];
}

interface Seen {
  since: number;
  sequenceNumber: bigint;
}

export class EmptyBlockCollector {
  /** `<node>|<block>` -> when it was first seen empty, at which sequence number. */
  private readonly emptySince = new Map<string, Seen>();
  private readonly gracePeriodMs: number;
  private readonly now: () => number;

  constructor(
    private readonly ipam: IpamClient,
    opts: { gracePeriodMs: number; now?: () => number },
  ) {
    this.gracePeriodMs = opts.gracePeriodMs;
    this.now = opts.now ?? Date.now;
  }

  async scan(): Promise<EmptyBlockScanResult> {
    const result: EmptyBlockScanResult = { released: [], waiting: [] };
    if (!(this.gracePeriodMs > 0)) {
      this.emptySince.clear();
      return result;
    }
    const now = this.now();
    const byNode = new Map<string, AllocationBlock[]>();
    for (const { value: b } of await this.ipam.store.listBlocks()) {
      const node = affinityHost(b.affinity);
      if (node) byNode.set(node, [...(byNode.get(node) ?? []), b]);
    }
    const current = new Set<string>();
    for (const [node, blocks] of byNode) {
      const due: { b: AllocationBlock; key: string; since: number }[] = [];
      for (const b of blocks) {
        if (!isEmpty(b)) continue;
        const key = `${node}|${b.cidr}`;
        current.add(key);
        let seen = this.emptySince.get(key);
        if (!seen || seen.sequenceNumber !== b.sequenceNumber) {
          seen = { since: now, sequenceNumber: b.sequenceNumber };
          this.emptySince.set(key, seen);
        }
        if (blocks.length < 2) continue;
        if (now - seen.since > this.gracePeriodMs) due.push({ b, key, since: seen.since });
        else result.waiting.push(b.cidr);
      }
      // Longest empty first; the node keeps at least one block whatever happens.
      due.sort((x, y) => x.since - y.since || x.b.cidr.localeCompare(y.b.cidr));
      let remaining = blocks.length;
      for (const { b, key } of due) {
        if (remaining <= 1) break;
        try {
          await this.ipam.releaseBlockAffinity(node, b.cidr, {
            mustBeEmpty: true,
            sequenceNumber: b.sequenceNumber,
          });
          remaining--;
          result.released.push(b.cidr);
        } catch (e) {
          if (!(e instanceof AffinityNotEmptyError || e instanceof BlockChangedError)) throw e;
        }
        this.emptySince.delete(key);
      }
    }
    for (const key of this.emptySince.keys()) if (!current.has(key)) this.emptySince.delete(key);
    return result;
  }
}
