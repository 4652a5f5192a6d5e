// Typed access to Calico's IPAM keys on the Datastore: blocks, block affinities, handles and the IPAM config under
// /calico/ipam/v2/, plus the v3 resources IPAM reads (IPPools, IPReservations, Nodes). Values flow in and out as
// the pure records of src/ipam/core with the revision needed for the next compare-and-swap. A record read again at
// the same revision is not decoded again (the decoded values are shared: callers never mutate them), and the last
// known version of each block is kept as the allocator's first guess for its next compare-and-swap.
import type { Datastore, KVPair } from '../datastore/types.js';
import {
  IPAM_CONFIG_KEY,
  IPAM_PREFIX,
  blockAffinityKey,
  blockKey,
  handleKey,
  resourceKey,
  resourcePrefix,
} from '../datastore/keys.js';
import { decodeBlock, type AllocationBlock } from './core/block.js';
import {
  decodeAffinity,
  decodeHandle,
  decodeIpamConfig,
  type BlockAffinity,
  type IpamConfig,
  type IpamHandle,
} from './core/records.js';
import { poolFromResource, type IpamPool } from './core/pool.js';
import { ReservationSet } from './core/reservation.js';
import type { IpFamily } from '../net/ip.js';

export interface Versioned<T> {
  value: T;
  revision: number;
}

export interface AffinityRecord extends Versioned<BlockAffinity> {
  host: string;
  cidr: string;
  key: string;
}

export interface HandleRecord extends Versioned<IpamHandle> {
  id: string;
}

const familyDir = (family: IpFamily): string => (family === 4 ? 'ipv4' : 'ipv6');
const BLOCK_PREFIX = (family: IpFamily): string => `${IPAM_PREFIX}assignment/${familyDir(family)}/block/`;
const HOST_PREFIX = `${IPAM_PREFIX}host/`;
const HANDLE_PREFIX = `${IPAM_PREFIX}handle/`;

/** "10.0.0.0-26" -> "10.0.0.0/26" (the last '-' is the prefix separator; IPv6 text has no '-'). */
const cidrFromSegment = (seg: string): string => {
  const i = seg.lastIndexOf('-');
  return `${seg.slice(0, i)}/${seg.slice(i + 1)}`;
};

/** Parses `/calico/ipam/v2/host/<node>/ipv4/block/<cidr>`; undefined for other keys under host/. */
export function parseAffinityKey(key: string): { host: string; cidr: string } | undefined {
  if (!key.startsWith(HOST_PREFIX)) return undefined;
  const m = /^(.+)\/ipv[46]\/block\/([^/]+)$/.exec(key.slice(HOST_PREFIX.length));
  return m ? { host: m[1], cidr: cidrFromSegment(m[2]) } : undefined;
}

/** Decoded records kept per store; past this many the memo starts afresh. */
const MEMO_LIMIT = 20_000;

export class IpamStore {
  /** key -> the record decoded at that revision (undefined value: the record could not be decoded). */
  private readonly memo = new Map<string, { revision: number; value: unknown }>();
  private reservationMemo?: { signature: string; value: ReservationSet };

  constructor(readonly ds: Datastore) {}

  /** Decodes kv, or returns what was decoded for the same key at the same revision. */
  private decoded<T>(kv: KVPair, decode: (text: string) => T): T {
    const hit = this.memo.get(kv.key);
    if (hit && hit.revision === kv.revision) return hit.value as T;
    const value = decode(kv.value);
    this.remember(kv.key, kv.revision, value);
    return value;
  }

  private remember(key: string, revision: number, value: unknown): void {
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(key, { revision, value });
  }

  private blockOf(kv: KVPair): Versioned<AllocationBlock> {
    return { value: this.decoded(kv, decodeBlock), revision: kv.revision };
  }

  async getBlock(cidr: string): Promise<Versioned<AllocationBlock> | undefined> {
    const key = blockKey(cidr);
    const kv = await this.ds.get(key);
    if (!kv) this.memo.delete(key);
    return kv ? this.blockOf(kv) : undefined;
  }

  /**
   * The newest version of the block this store has seen (read, written, or reported by a failed transaction); only
   * a guess for a compare-and-swap, which rejects it if the block changed since.
   */
  knownBlock(cidr: string): Versioned<AllocationBlock> | undefined {
    const hit = this.memo.get(blockKey(cidr));
    return hit ? { value: hit.value as AllocationBlock, revision: hit.revision } : undefined;
  }

  /** Records a block as written at revision (value undefined: deleted). */
  noteBlock(cidr: string, value: AllocationBlock | undefined, revision: number): void {
    if (value) this.remember(blockKey(cidr), revision, value);
    else this.memo.delete(blockKey(cidr));
  }

  /** Records what a failed transaction found for a block key (undefined: absent); undecodable values are forgotten. */
  learnBlock(kv: KVPair | undefined, key: string): void {
    if (!kv) {
      this.memo.delete(key);
      return;
    }
    try {
      this.decoded(kv, decodeBlock);
    } catch {
      this.memo.delete(key);
    }
  }

  /** Forgets what is known of a key (its compare-and-swap failed for an unknown reason). */
  forget(key: string): void {
    this.memo.delete(key);
  }

  async listBlocks(family?: IpFamily): Promise<Versioned<AllocationBlock>[]> {
    const fams: IpFamily[] = family ? [family] : [4, 6];
    const out: Versioned<AllocationBlock>[] = [];
    for (const f of fams) for (const kv of (await this.ds.list(BLOCK_PREFIX(f))).items) out.push(this.blockOf(kv));
    return out;
  }

  async getAffinity(host: string, cidr: string): Promise<AffinityRecord | undefined> {
    const key = blockAffinityKey(host, cidr);
    const kv = await this.ds.get(key);
    return kv ? { host, cidr, key, value: this.decoded(kv, decodeAffinity), revision: kv.revision } : undefined;
  }

  /** The host's affinities (optionally one family); `undefined` host lists every host's. */
  async listAffinities(host?: string, family?: IpFamily): Promise<AffinityRecord[]> {
    const prefix = host === undefined ? HOST_PREFIX : `${HOST_PREFIX}${host}/${family ? `${familyDir(family)}/` : ''}`;
    const out: AffinityRecord[] = [];
    for (const kv of (await this.ds.list(prefix)).items) {
      const parsed = parseAffinityKey(kv.key);
      if (!parsed) continue;
      if (host !== undefined && parsed.host !== host) continue;
      if (family && parsed.cidr.includes(':') !== (family === 6)) continue;
      out.push({ ...parsed, key: kv.key, value: this.decoded(kv, decodeAffinity), revision: kv.revision });
    }
    return out;
  }

  async getHandle(id: string): Promise<HandleRecord | undefined> {
    const kv = await this.ds.get(handleKey(id));
    return kv ? { id, value: decodeHandle(kv.value), revision: kv.revision } : undefined;
  }

  async listHandles(): Promise<HandleRecord[]> {
    return (await this.ds.list(HANDLE_PREFIX)).items.map((kv) => ({
      id: kv.key.slice(HANDLE_PREFIX.length),
      value: decodeHandle(kv.value),
      revision: kv.revision,
    }));
  }

  async getConfig(): Promise<Versioned<IpamConfig> & { exists: boolean }> {
    const kv = await this.ds.get(IPAM_CONFIG_KEY);
    if (!kv) return { value: decodeIpamConfig(undefined), revision: 0, exists: false };
    return { value: { ...this.decoded(kv, decodeIpamConfig) }, revision: kv.revision, exists: true };
  }

  /** Every IPPool; undecodable ones are skipped (they cannot serve addresses). */
  async listPools(): Promise<IpamPool[]> {
    return (await this.readPools()).pools;
  }

  /** The pools with each one's key revision and the revision the list was read at. */
  async readPools(): Promise<{ pools: IpamPool[]; revisions: Map<string, number>; listRevision: number }> {
    const list = await this.ds.list(resourcePrefix('IPPool'));
    const pools: IpamPool[] = [];
    const revisions = new Map<string, number>();
    for (const kv of list.items) {
      // An invalid stored pool serves nothing; `calicoctl get ippools` reports it.
      const pool = this.decoded(kv, (text) => {
        try {
          return poolFromResource(JSON.parse(text));
        } catch {
          return undefined;
        }
      });
      if (!pool) continue;
      pools.push(pool);
      revisions.set(pool.name, kv.revision);
    }
    return { pools, revisions, listRevision: list.revision };
  }

  async listReservations(): Promise<ReservationSet> {
    return (await this.readReservations()).set;
  }

  /** The IPReservations and the revision the list was read at. */
  async readReservations(): Promise<{ set: ReservationSet; listRevision: number }> {
    const list = await this.ds.list(resourcePrefix('IPReservation'));
    const signature = list.items.map((kv) => `${kv.key}@${kv.revision}`).join(' ');
    if (this.reservationMemo?.signature !== signature) {
      const value = ReservationSet.fromResources(list.items.map((kv) => JSON.parse(kv.value)));
      this.reservationMemo = { signature, value };
    }
    return { set: this.reservationMemo.value, listRevision: list.revision };
  }

  /** The Node resource's labels, or undefined when the Node does not exist. */
  async getNodeLabels(node: string): Promise<Record<string, string> | undefined> {
    return (await this.getNode(node))?.labels;
  }

  /** The Node resource's labels and key revision, or undefined when the Node does not exist. */
  async getNode(node: string): Promise<{ labels: Record<string, string>; revision: number } | undefined> {
    const kv = await this.ds.get(resourceKey('Node', node));
    if (!kv) return undefined;
    const labels = this.decoded(kv, (text) => (JSON.parse(text)?.metadata?.labels as Record<string, string>) ?? {});
    return { labels: { ...labels }, revision: kv.revision };
  }

  async listNodeNames(): Promise<Set<string>> {
    const items = (await this.ds.list(resourcePrefix('Node'))).items;
    return new Set(items.map((kv) => kv.key.slice(resourcePrefix('Node').length)));
  }
}
