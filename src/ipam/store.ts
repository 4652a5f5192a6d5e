// Typed access to Calico's IPAM keys on the Datastore: blocks, block affinities, handles and the IPAM config under
// /calico/ipam/v2/, plus the v3 resources IPAM reads (IPPools, IPReservations, Nodes). Values flow in and out as
// the pure records of src/ipam/core with the revision needed for the next compare-and-swap.
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

export class IpamStore {
  constructor(readonly ds: Datastore) {}

  private blockOf(kv: KVPair): Versioned<AllocationBlock> {
    return { value: decodeBlock(kv.value), revision: kv.revision };
  }

  async getBlock(cidr: string): Promise<Versioned<AllocationBlock> | undefined> {
    const kv = await this.ds.get(blockKey(cidr));
    return kv ? this.blockOf(kv) : undefined;
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
    return kv ? { host, cidr, key, value: decodeAffinity(kv.value), revision: kv.revision } : undefined;
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
      out.push({ ...parsed, key: kv.key, value: decodeAffinity(kv.value), revision: kv.revision });
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
    return { value: decodeIpamConfig(kv?.value), revision: kv?.revision ?? 0, exists: Boolean(kv) };
  }

  /** Every IPPool; undecodable ones are skipped (they cannot serve addresses). */
  async listPools(): Promise<IpamPool[]> {
    const out: IpamPool[] = [];
    for (const kv of (await this.ds.list(resourcePrefix('IPPool'))).items) {
      try {
        out.push(poolFromResource(JSON.parse(kv.value)));
      } catch {
        // An invalid stored pool serves nothing; `calicoctl get ippools` reports it.
      }
    }
    return out;
  }

  async listReservations(): Promise<ReservationSet> {
    const items = (await this.ds.list(resourcePrefix('IPReservation'))).items;
    return ReservationSet.fromResources(items.map((kv) => JSON.parse(kv.value)));
  }

  /** The Node resource's labels, or undefined when the Node does not exist. */
  async getNodeLabels(node: string): Promise<Record<string, string> | undefined> {
    const kv = await this.ds.get(resourceKey('Node', node));
    if (!kv) return undefined;
    return { ...((JSON.parse(kv.value)?.metadata?.labels as Record<string, string>) ?? {}) };
  }

  async listNodeNames(): Promise<Set<string>> {
    const items = (await this.ds.list(resourcePrefix('Node'))).items;
    return new Set(items.map((kv) => kv.key.slice(resourcePrefix('Node').length)));
  }
}
