// The AllocationBlock: Calico's unit of allocation state, one JSON value per block key, exactly as libcalico-go writes
// it (allocations table, FIFO `unallocated` list, shared attributes compacted after release, sequence numbers).
// Pure: every operation mutates a block value in memory; the allocator turns each change into one CAS write.
// IP cooldown (IPAMConfig ipCooldownSeconds > 0): a released ordinal stays in `allocations`, pointing at an attribute
// entry marked `releasedAt`; it is held by no handle and handed out to no one until reclaimCooled frees it.
import {
  addressAt,
  canonicalCidr,
  cidrContainsIp,
  cidrSize,
  formatCidr,
  formatIp,
  offsetOf,
  parseCidr,
  type Cidr,
  type IpAddress,
} from '../../net/ip.js';

/** One allocation owner: handle plus its secondary attributes (node, namespace, pod, type, timestamp ...). */
export interface AllocationAttribute {
  handle_id: string | null;
  secondary: Record<string, string> | null;
  /** RFC 3339 time the addresses pointing here were released; they are cooling down until the cooldown passes. */
  releasedAt?: string;
}

export interface AllocationBlock {
  cidr: string;
  /** `host:<node>` when affine, `virtual:<name>` for LoadBalancer blocks, null when not affine. */
  affinity: string | null;
  /** RFC 3339 time the current affinity was claimed (absent on old data). */
  affinityClaimTime?: string;
  strictAffinity: boolean;
  /** One entry per ordinal: index into `attributes`, or null when free. */
  allocations: (number | null)[];
  /** Free ordinals in reuse order: allocation takes from the front, release appends at the end. */
  unallocated: number[];
  attributes: AllocationAttribute[];
  /** Bumped on every write of the block; > 2^53, hence bigint. */
  sequenceNumber: bigint;
  /** Ordinal (decimal string) -> block sequence number when that ordinal was allocated. */
  sequenceNumberForAllocation: Record<string, bigint>;
  deleted: boolean;
}

export class BlockDecodeError extends Error {}

/** The attribute keys Calico records on an allocation. */
export const ATTR_NODE = 'node';
export const ATTR_POD = 'pod';
export const ATTR_NAMESPACE = 'namespace';
export const ATTR_TYPE = 'type';
export const ATTR_TIMESTAMP = 'timestamp';

export const hostAffinity = (node: string): string => `host:${node}`;

/** The node of a `host:<node>` affinity, else undefined. */
export function affinityHost(affinity: string | null | undefined): string | undefined {
  return affinity && affinity.startsWith('host:') ? affinity.slice(5) : undefined;
}

export function newBlock(
  cidr: Cidr,
  affinity: string | null,
  claimTime: string,
  sequenceNumber: bigint,
): AllocationBlock {
  const size = Number(cidrSize(cidr));
  return {
    cidr: formatCidr(cidr),
    affinity,
    ...(affinity ? { affinityClaimTime: claimTime } : {}),
    strictAffinity: false,
    allocations: new Array<number | null>(size).fill(null),
    unallocated: Array.from({ length: size }, (_, i) => i),
    attributes: [],
    sequenceNumber,
    sequenceNumberForAllocation: {},
    deleted: false,
  };
}

export const blockCidr = (b: AllocationBlock): Cidr => parseCidr(b.cidr);

export function ordinalOf(b: AllocationBlock, ip: IpAddress): number {
  const c = blockCidr(b);
  if (!cidrContainsIp(c, ip)) throw new RangeError(`${formatIp(ip)} is not in block ${b.cidr}`);
  return offsetOf(c, ip);
}

export const addressOf = (b: AllocationBlock, ordinal: number): IpAddress => addressAt(blockCidr(b), ordinal);

/** No ordinal allocated; a cooling ordinal still counts (as in Calico, whose released ordinals stay allocated). */
export function isEmpty(b: AllocationBlock): boolean {
  return b.allocations.every((a) => a === null);
}

/** Ordinals not free: held ones and cooling ones. */
export function inUseCount(b: AllocationBlock): number {
  return b.allocations.reduce<number>((n, a) => (a === null ? n : n + 1), 0);
}

export function coolingCount(b: AllocationBlock): number {
  return b.allocations.reduce<number>(
    (n, a) => (a !== null && b.attributes[a]?.releasedAt !== undefined ? n + 1 : n),
    0,
  );
}

/** Free ordinals that may be handed out (not excluded by a reservation). */
export function freeCount(b: AllocationBlock, isReserved: (ip: IpAddress) => boolean = () => false): number {
  let n = 0;
  const c = blockCidr(b);
  for (const o of b.unallocated) if (!isReserved(addressAt(c, o))) n++;
  return n;
}

function sameSecondary(a: Record<string, string> | null, b: Record<string, string> | null): boolean {
  const ak = Object.keys(a ?? {}).sort();
  const bk = Object.keys(b ?? {}).sort();
  return ak.length === bk.length && ak.every((k, i) => k === bk[i] && a![k] === b![k]);
}

/** Index of an identical (handle, attrs) entry, or a new one appended; Calico shares attribute entries. */
function attributeIndex(
  b: AllocationBlock,
  handle: string | null,
  secondary: Record<string, string> | null,
  releasedAt?: string,
): number {
  const i = b.attributes.findIndex(
    (a) => a.handle_id === handle && a.releasedAt === releasedAt && sameSecondary(a.secondary, secondary),
  );
  if (i >= 0) return i;
  b.attributes.push({
    handle_id: handle,
    secondary: secondary && Object.keys(secondary).length ? { ...secondary } : null,
    ...(releasedAt !== undefined ? { releasedAt } : {}),
  });
  return b.attributes.length - 1;
}

/** Whether the ordinal is released and cooling down (still in `allocations`, held by nobody). */
export function isCooling(b: AllocationBlock, ordinal: number): boolean {
  const a = b.allocations[ordinal];
  return a !== null && a !== undefined && b.attributes[a]?.releasedAt !== undefined;
}

/** Whether any ordinal is cooling (a look at the few attribute entries, not the allocations). */
const hasCooling = (b: AllocationBlock): boolean => b.attributes.some((a) => a.releasedAt !== undefined);

/** Whether a cooling ordinal released at releasedAt may be freed at nowMs; an unreadable time counts as long past. */
function cooledDown(releasedAt: string, nowMs: number, cooldownSeconds: number): boolean {
  const t = Date.parse(releasedAt);
  return Number.isNaN(t) || t + cooldownSeconds * 1000 <= nowMs;
}

/** How many cooling ordinals reclaimCooled would free at nowMs. */
export function reclaimableCount(b: AllocationBlock, nowMs: number, cooldownSeconds: number): number {
  if (!hasCooling(b)) return 0;
  let n = 0;
  for (const a of b.allocations) {
    if (a === null) continue;
    const r = b.attributes[a]?.releasedAt;
    if (r !== undefined && cooledDown(r, nowMs, cooldownSeconds)) n++;
  }
  return n;
}

/**
 * Frees the cooling ordinals whose cooldown has passed (Calico's block garbage collection at read time): they go to
 * the end of `unallocated` in the order they were released. Returns how many were freed.
 */
export function reclaimCooled(b: AllocationBlock, nowMs: number, cooldownSeconds: number): number {
  if (!hasCooling(b)) return 0;
  const due: { o: number; t: number }[] = [];
  b.allocations.forEach((a, o) => {
    if (a === null) return;
    const r = b.attributes[a]?.releasedAt;
    if (r !== undefined && cooledDown(r, nowMs, cooldownSeconds)) due.push({ o, t: Date.parse(r) || 0 });
  });
  if (due.length === 0) return 0;
  due.sort((x, y) => x.t - y.t || x.o - y.o);
  for (const { o } of due) {
    b.allocations[o] = null;
    b.unallocated.push(o);
  }
  compactAttributes(b);
  return due.length;
}

/** Whether every allocation left is cooling and would be freed at nowMs (the block is then as good as empty). */
export function isEmptyOnceCooled(b: AllocationBlock, nowMs: number, cooldownSeconds: number): boolean {
  return b.allocations.every((a) => {
    if (a === null) return true;
    const r = b.attributes[a]?.releasedAt;
    return r !== undefined && cooledDown(r, nowMs, cooldownSeconds);
  });
}

/** Drops attribute entries no allocation refers to and rewrites the indices (Calico compacts after release). */
export function compactAttributes(b: AllocationBlock): void {
  const used = new Set<number>();
  for (const a of b.allocations) if (a !== null) used.add(a);
  const remap = new Map<number, number>();
  const kept: AllocationAttribute[] = [];
  b.attributes.forEach((attr, i) => {
    if (used.has(i)) {
      remap.set(i, kept.length);
      kept.push(attr);
    }
  });
  b.attributes = kept;
  b.allocations = b.allocations.map((a) => (a === null ? null : remap.get(a)!));
}

function recordAllocation(b: AllocationBlock, ordinal: number, attrIndex: number): void {
  b.allocations[ordinal] = attrIndex;
  b.sequenceNumberForAllocation[String(ordinal)] = b.sequenceNumber;
}

/**
 * Takes up to `num` free ordinals from the front of `unallocated`, skipping reserved addresses (which stay where
 * they are), and records them for the handle. Returns the addresses taken (possibly fewer than asked).
 */
export function assignFromBlock(
  b: AllocationBlock,
  num: number,
  handle: string | null,
  secondary: Record<string, string> | null,
  isReserved: (ip: IpAddress) => boolean = () => false,
): IpAddress[] {
  const c = blockCidr(b);
  const taken: number[] = [];
  for (const o of b.unallocated) {
    if (taken.length === num) break;
    if (!isReserved(addressAt(c, o))) taken.push(o);
  }
  if (taken.length === 0) return [];
  const takenSet = new Set(taken);
  b.unallocated = b.unallocated.filter((o) => !takenSet.has(o));
  const attr = attributeIndex(b, handle, secondary);
  for (const o of taken) recordAllocation(b, o, attr);
  return taken.map((o) => addressAt(c, o));
}

export class AddressInUseError extends Error {
  constructor(
    readonly address: string,
    readonly holder: string | null,
  ) {
    // Calico's words (ErrorResourceAlreadyExists over "Address already assigned in block"), then who holds it.
    super(
      `resource already exists: ${address} (Address already assigned in block; held by handle ${holder ?? '<none>'})`,
    );
    this.name = 'AddressInUseError';
  }
}

/** A specific address asked for while it cools down after its release (ipCooldownSeconds). */
export class AddressCoolingDownError extends AddressInUseError {
  constructor(address: string, releasedAt: string) {
    super(address, null);
    this.name = 'AddressCoolingDownError';
    this.message = `IP address ${address} was released at ${releasedAt} and is cooling down (IPAMConfig ipCooldownSeconds); it cannot be assigned yet`;
  }
}

/** Allocates one specific address; AddressInUseError when it is taken (or cooling down). */
export function assignSpecific(
  b: AllocationBlock,
  ip: IpAddress,
  handle: string | null,
  secondary: Record<string, string> | null,
): void {
  const o = ordinalOf(b, ip);
  const cur = b.allocations[o];
  const releasedAt = cur === null ? undefined : b.attributes[cur]?.releasedAt;
  if (releasedAt !== undefined) throw new AddressCoolingDownError(formatIp(ip), releasedAt);
  if (cur !== null) throw new AddressInUseError(formatIp(ip), b.attributes[cur]?.handle_id ?? null);
  b.unallocated = b.unallocated.filter((x) => x !== o);
  recordAllocation(b, o, attributeIndex(b, handle, secondary));
}

export interface ReleaseRequest {
  ip: IpAddress;
  /** When given, the stored allocation must carry this handle (protects a re-used address). */
  handle?: string;
  /** When given, the stored allocation must carry this sequence number. */
  sequenceNumber?: bigint;
}

export class ReleaseConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReleaseConflictError';
  }
}

export interface BlockReleaseResult {
  /** Addresses freed, with the handle each was held by (for handle bookkeeping). */
  released: { ip: IpAddress; handle: string | null }[];
  /** Addresses that were already free. */
  unallocated: IpAddress[];
}

/**
 * Releases the given addresses; a handle/sequence mismatch throws before anything changes. Without releasedAt the
 * ordinals are freed at once; with it (a cooldown is configured) they stay allocated, marked released at that time,
 * held by no handle. An address already released (free or cooling) is reported unallocated.
 */
export function releaseFromBlock(b: AllocationBlock, reqs: ReleaseRequest[], releasedAt?: string): BlockReleaseResult {
  const out: BlockReleaseResult = { released: [], unallocated: [] };
  const ordinals: number[] = [];
  for (const r of reqs) {
    const o = ordinalOf(b, r.ip);
    const attrIdx = b.allocations[o];
    if (attrIdx === null || isCooling(b, o) || ordinals.includes(o)) {
      if (attrIdx === null || isCooling(b, o)) out.unallocated.push(r.ip);
      continue;
    }
    const holder = b.attributes[attrIdx]?.handle_id ?? null;
    if (r.handle !== undefined && r.handle !== holder) {
      throw new ReleaseConflictError(
        `refusing to release ${formatIp(r.ip)}: it is held by handle ${holder ?? '<none>'}, not ${r.handle}`,
      );
    }
    const seq = b.sequenceNumberForAllocation[String(o)];
    if (r.sequenceNumber !== undefined && seq !== undefined && seq !== r.sequenceNumber) {
      throw new ReleaseConflictError(
        `refusing to release ${formatIp(r.ip)}: it was re-allocated (sequence number ${seq}, expected ${r.sequenceNumber})`,
      );
    }
    ordinals.push(o);
    out.released.push({ ip: r.ip, handle: holder });
  }
  for (const o of ordinals) {
    delete b.sequenceNumberForAllocation[String(o)];
    if (releasedAt === undefined) {
      b.allocations[o] = null;
      b.unallocated.push(o);
    } else {
      const held = b.attributes[b.allocations[o]!]!;
      b.allocations[o] = attributeIndex(b, held.handle_id, held.secondary, releasedAt);
    }
  }
  if (ordinals.length) compactAttributes(b);
  return out;
}

/** Every address held by handle in this block (cooling addresses are held by nobody). */
export function addressesOfHandle(b: AllocationBlock, handle: string): IpAddress[] {
  const out: IpAddress[] = [];
  b.allocations.forEach((a, o) => {
    const attr = a === null ? undefined : b.attributes[a];
    if (attr && attr.handle_id === handle && attr.releasedAt === undefined) out.push(addressOf(b, o));
  });
  return out;
}

/** Releases every address held by handle (marked releasedAt when given); returns how many. */
export function releaseHandleFromBlock(b: AllocationBlock, handle: string, releasedAt?: string): number {
  const ips = addressesOfHandle(b, handle);
  releaseFromBlock(
    b,
    ips.map((ip) => ({ ip })),
    releasedAt,
  );
  return ips.length;
}

export interface BlockAllocation {
  ip: IpAddress;
  ordinal: number;
  handle: string | null;
  attrs: Record<string, string>;
  sequenceNumber?: bigint;
}

/** The held allocations (cooling ones excluded: see coolingOf). */
export function allocationsOf(b: AllocationBlock): BlockAllocation[] {
  const out: BlockAllocation[] = [];
  b.allocations.forEach((a, o) => {
    if (a === null) return;
    const attr = b.attributes[a];
    if (attr?.releasedAt !== undefined) return;
    out.push({
      ip: addressOf(b, o),
      ordinal: o,
      handle: attr?.handle_id ?? null,
      attrs: { ...(attr?.secondary ?? {}) },
      sequenceNumber: b.sequenceNumberForAllocation[String(o)],
    });
  });
  return out;
}

export interface CoolingAllocation {
  ip: IpAddress;
  ordinal: number;
  /** The handle that held it before the release. */
  handle: string | null;
  attrs: Record<string, string>;
  releasedAt: string;
}

/** The released ordinals still cooling down. */
export function coolingOf(b: AllocationBlock): CoolingAllocation[] {
  const out: CoolingAllocation[] = [];
  b.allocations.forEach((a, o) => {
    const attr = a === null ? undefined : b.attributes[a];
    if (attr?.releasedAt === undefined) return;
    out.push({
      ip: addressOf(b, o),
      ordinal: o,
      handle: attr.handle_id,
      attrs: { ...(attr.secondary ?? {}) },
      releasedAt: attr.releasedAt,
    });
  });
  return out;
}

/** How far in the future a releasedAt may lie before it counts as invalid (clocks of nodes differ a little). */
export const RELEASED_AT_CLOCK_SKEW_MS = 60_000;

/**
 * Structural problems (`calicoctl ipam check`'s block validation); empty when the block is sound. With nowMs, a
 * releasedAt that cannot be read or lies in the future (beyond the clock skew allowance) is a problem too.
 */
export function blockProblems(b: AllocationBlock, nowMs?: number): string[] {
  const problems: string[] = [];
  const size = b.allocations.length;
  let expected: number;
  try {
    expected = Number(cidrSize(parseCidr(b.cidr)));
  } catch {
    return [`block ${b.cidr}: invalid CIDR`];
  }
  if (size !== expected) problems.push(`block ${b.cidr}: allocations has ${size} entries, expected ${expected}`);
  const referenced = new Set<number>();
  b.allocations.forEach((a, o) => {
    if (a === null) return;
    if (a < 0 || a >= b.attributes.length)
      problems.push(`block ${b.cidr}: ordinal ${o} refers to missing attribute ${a}`);
    referenced.add(a);
  });
  b.attributes.forEach((attr, i) => {
    if (!referenced.has(i)) problems.push(`block ${b.cidr}: attribute ${i} is referenced by no allocation`);
    if (attr.releasedAt === undefined || nowMs === undefined) return;
    const t = Date.parse(attr.releasedAt);
    if (Number.isNaN(t))
      problems.push(`block ${b.cidr}: attribute ${i} has an unreadable releasedAt "${attr.releasedAt}"`);
    else if (t > nowMs + RELEASED_AT_CLOCK_SKEW_MS)
      problems.push(`block ${b.cidr}: attribute ${i} has releasedAt ${attr.releasedAt} in the future`);
  });
  const seen = new Set<number>();
  for (const o of b.unallocated) {
    if (!Number.isInteger(o) || o < 0 || o >= size) problems.push(`block ${b.cidr}: unallocated has bad ordinal ${o}`);
    else if (seen.has(o)) problems.push(`block ${b.cidr}: ordinal ${o} is listed twice in unallocated`);
    else if (b.allocations[o] !== null)
      problems.push(`block ${b.cidr}: ordinal ${o} is both allocated and unallocated`);
    seen.add(o);
  }
  const allocated = size - b.allocations.filter((a) => a === null).length;
  if (allocated + seen.size !== size) {
    problems.push(`block ${b.cidr}: ${allocated} allocated + ${seen.size} unallocated != ${size} addresses`);
  }
  return problems;
}

// --- JSON codec. Sequence numbers exceed 2^53, so they are carried as digit strings through JSON.parse. ---

const SEQ_FIELD = /("sequenceNumber"\s*:\s*)(-?\d+)/;
const SEQ_MAP = /("sequenceNumberForAllocation"\s*:\s*\{)([^}]*)\}/;

export function decodeBlock(text: string): AllocationBlock {
  const quoted = text
    .replace(SEQ_FIELD, '$1"$2"')
    .replace(SEQ_MAP, (_m, head: string, body: string) => `${head}${body.replace(/:\s*(-?\d+)/g, ':"$1"')}}`);
  let raw: any;
  try {
    raw = JSON.parse(quoted);
  } catch (e) {
    throw new BlockDecodeError(`invalid AllocationBlock JSON: ${(e as Error).message}`);
  }
  if (!raw || typeof raw.cidr !== 'string') throw new BlockDecodeError('invalid AllocationBlock: cidr is missing');
  const cidr = canonicalCidr(raw.cidr);
  const seqMap: Record<string, bigint> = {};
  for (const [k, v] of Object.entries(raw.sequenceNumberForAllocation ?? {})) seqMap[k] = BigInt(v as string);
  const affinity: string | null = raw.affinity ?? raw.hostAffinity ?? null;
  return {
    cidr,
    affinity: affinity && !affinity.includes(':') ? hostAffinity(affinity) : affinity,
    ...(raw.affinity_claim_time ? { affinityClaimTime: String(raw.affinity_claim_time) } : {}),
    strictAffinity: Boolean(raw.strictAffinity),
    allocations: Array.isArray(raw.allocations) ? raw.allocations : [],
    unallocated: Array.isArray(raw.unallocated) ? raw.unallocated : [],
    attributes: Array.isArray(raw.attributes)
      ? raw.attributes.map((a: any) => ({
          handle_id: a?.handle_id ?? null,
          secondary: a?.secondary ?? null,
          ...(typeof a?.releasedAt === 'string' ? { releasedAt: a.releasedAt } : {}),
        }))
      : [],
    sequenceNumber: raw.sequenceNumber !== undefined ? BigInt(raw.sequenceNumber) : 0n,
    sequenceNumberForAllocation: seqMap,
    deleted: Boolean(raw.deleted),
  };
}

/** Calico's field order and names; bigint sequence numbers written as JSON numbers. */
export function encodeBlock(b: AllocationBlock): string {
  const seqMap = Object.keys(b.sequenceNumberForAllocation)
    .sort((x, y) => Number(x) - Number(y))
    .map((k) => `${JSON.stringify(k)}:${b.sequenceNumberForAllocation[k].toString()}`)
    .join(',');
  const parts = [
    `"cidr":${JSON.stringify(b.cidr)}`,
    `"affinity":${JSON.stringify(b.affinity)}`,
    ...(b.affinityClaimTime ? [`"affinity_claim_time":${JSON.stringify(b.affinityClaimTime)}`] : []),
    `"strictAffinity":${b.strictAffinity}`,
    `"allocations":${JSON.stringify(b.allocations)}`,
    `"unallocated":${JSON.stringify(b.unallocated)}`,
    `"attributes":${JSON.stringify(b.attributes)}`,
    `"deleted":${b.deleted}`,
    `"sequenceNumber":${b.sequenceNumber.toString()}`,
    `"sequenceNumberForAllocation":{${seqMap}}`,
  ];
  return `{${parts.join(',')}}`;
}

/** A deep copy (what decodeBlock(encodeBlock(b)) gives, without the JSON round trip). */
export function cloneBlock(b: AllocationBlock): AllocationBlock {
  return {
    cidr: b.cidr,
    affinity: b.affinity,
    ...(b.affinityClaimTime ? { affinityClaimTime: b.affinityClaimTime } : {}),
    strictAffinity: b.strictAffinity,
    allocations: b.allocations.slice(),
    unallocated: b.unallocated.slice(),
    attributes: b.attributes.map((a) => ({
      handle_id: a.handle_id,
      secondary: a.secondary ? { ...a.secondary } : null,
      ...(a.releasedAt !== undefined ? { releasedAt: a.releasedAt } : {}),
    })),
    sequenceNumber: b.sequenceNumber,
    sequenceNumberForAllocation: { ...b.sequenceNumberForAllocation },
    deleted: b.deleted,
  };
}
