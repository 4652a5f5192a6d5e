// The small IPAM records beside the blocks, as Calico stores them: the handle (addresses per block a handle holds),
// the block affinity (pending -> confirmed -> pendingDeletion) and the global IPAM configuration. Pure JSON codecs.

/** `/calico/ipam/v2/handle/<id>`: how many addresses the handle holds in each block (CIDR written with `/`). */
export interface IpamHandle {
  block: Record<string, number>;
  deleted: boolean;
}

export function decodeHandle(text: string): IpamHandle {
  const raw = JSON.parse(text) as Partial<IpamHandle>;
  return { block: { ...(raw.block ?? {}) }, deleted: Boolean(raw.deleted) };
}

export const encodeHandle = (h: IpamHandle): string => JSON.stringify({ block: h.block, deleted: h.deleted });

/** Adds delta to the handle's count for blockCidr; entries reaching zero are dropped. */
export function adjustHandle(h: IpamHandle, blockCidr: string, delta: number): IpamHandle {
  const block = { ...h.block };
  const n = (block[blockCidr] ?? 0) + delta;
  if (n > 0) block[blockCidr] = n;
  else delete block[blockCidr];
  return { block, deleted: h.deleted };
}

export const handleIsEmpty = (h: IpamHandle): boolean => Object.keys(h.block).length === 0;

export type AffinityState = 'pending' | 'confirmed' | 'pendingDeletion';

/** `/calico/ipam/v2/host/<node>/ipvN/block/<cidr>`; an empty value is a confirmed affinity (old data). */
export interface BlockAffinity {
  state: AffinityState;
  deleted: boolean;
}

export function decodeAffinity(text: string): BlockAffinity {
  if (text.trim() === '') return { state: 'confirmed', deleted: false };
  const raw = JSON.parse(text) as Partial<BlockAffinity>;
  const state = raw.state === 'pending' || raw.state === 'pendingDeletion' ? raw.state : 'confirmed';
  return { state, deleted: Boolean(raw.deleted) };
}

export const encodeAffinity = (a: BlockAffinity): string => JSON.stringify({ state: a.state, deleted: a.deleted });

/** `/calico/ipam/v2/config`. */
export interface IpamConfig {
  strictAffinity: boolean;
  autoAllocateBlocks: boolean;
  /** 0 = not set (the effective limit is then Calico's safety limit of 20). */
  maxBlocksPerHost: number;
  ipCooldownSeconds: number;
}

export const DEFAULT_IPAM_CONFIG: IpamConfig = {
  strictAffinity: false,
  autoAllocateBlocks: true,
  maxBlocksPerHost: 0,
  ipCooldownSeconds: 0,
};

/** The hard-coded per-host, per-family block limit Calico applies when nothing smaller is configured. */
export const SAFETY_BLOCK_LIMIT = 20;

export function decodeIpamConfig(text: string | undefined): IpamConfig {
  if (text === undefined) return { ...DEFAULT_IPAM_CONFIG };
  const raw = JSON.parse(text) as Record<string, unknown>;
  return {
    strictAffinity: raw.strict_affinity === true,
    // Calico writes the field with omitempty: once a config exists, an absent flag is false.
    autoAllocateBlocks: raw.auto_allocate_blocks === true,
    maxBlocksPerHost: typeof raw.maxBlocksPerHost === 'number' ? raw.maxBlocksPerHost : 0,
    ipCooldownSeconds: typeof raw.ipCooldownSeconds === 'number' ? raw.ipCooldownSeconds : 0,
  };
}

export function encodeIpamConfig(c: IpamConfig): string {
  const out: Record<string, unknown> = {};
  if (c.strictAffinity) out.strict_affinity = true;
  if (c.autoAllocateBlocks) out.auto_allocate_blocks = true;
  if (c.maxBlocksPerHost) out.maxBlocksPerHost = c.maxBlocksPerHost;
  if (c.ipCooldownSeconds) out.ipCooldownSeconds = c.ipCooldownSeconds;
  return JSON.stringify(out);
}

/** Checks a configuration before it is written; returns the problems (field: reason). */
export function ipamConfigProblems(c: IpamConfig): string[] {
  const out: string[] = [];
  if (!Number.isInteger(c.maxBlocksPerHost) || c.maxBlocksPerHost < 0 || c.maxBlocksPerHost > 1_000_000) {
    out.push('maxBlocksPerHost: must be an integer between 0 and 1000000');
  } else if (c.maxBlocksPerHost > 0 && !c.strictAffinity) {
    out.push('maxBlocksPerHost: a non-zero value requires strictAffinity to be true');
  }
  if (!Number.isInteger(c.ipCooldownSeconds) || c.ipCooldownSeconds < 0 || c.ipCooldownSeconds > 1200) {
    out.push('ipCooldownSeconds: must be an integer between 0 and 1200');
  }
  return out;
}

/**
 * The block limit one request works with (Calico's autoAssign): the request's own limit, replaced by the configured
 * maxBlocksPerHost when that is set and smaller or when the request gave none; still 0 -> the safety limit.
 */
export function effectiveBlockLimit(requestLimit: number, config: IpamConfig): number {
  let limit = requestLimit;
  if (config.maxBlocksPerHost > 0 && (limit === 0 || config.maxBlocksPerHost < limit)) limit = config.maxBlocksPerHost;
  return limit === 0 ? SAFETY_BLOCK_LIMIT : limit;
}
