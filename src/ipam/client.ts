// IpamClient: Calico's IPAM on the Datastore. Auto-assignment (affine blocks, then a newly claimed block through a
// pending -> confirmed affinity, then borrowing unless strictAffinity), specific addresses, release by address or by
// handle, affinity release (pool no longer selects the node, node deleted, empty-block reclaim, pool deletion) and
// tunnel addresses. Every block change is one compare-and-swap transaction (block + its handles), retried on conflict.
// Hot path: the node's blocks with room are tried first from the versions this client last saw (a failed
// compare-and-swap reports the current version, so a stale guess costs no extra read), starting at a client-specific
// block so concurrent clients of one node spread over its blocks; only when those yield nothing are the node's
// blocks read afresh, and only when all of them are full is a new block claimed, as in Calico.
// IP cooldown (ipCooldownSeconds): a release marks addresses `releasedAt` instead of freeing them; every block this
// client writes is first rid of the cooled-down ones (Calico's read-time block GC), and reclaimCooledAddresses is the
// controllers' backstop for blocks nobody writes. Releases decide from the configuration this client last read, and
// their transaction requires it unchanged.
//
//   request -> choosePools (core/pool) -> affine blocks -> claim (affinity pending, create block, confirm) -> borrow
//                                            |                                   |
//                                            +-- txn{block CAS, handle CAS} <----+
import type { Datastore, TxnCondition, TxnOperation } from '../datastore/types.js';
import { AlreadyExistsError, ConflictError, NotFoundError, TxnConflictError } from '../datastore/types.js';
import {
  blockAffinityKey,
  blockKey,
  handleKey,
  IPAM_CONFIG_KEY,
  IPAM_PREFIX,
  resourceKey,
  resourcePrefix,
} from '../datastore/keys.js';
import {
  addressesOfHandle,
  affinityHost,
  allocationsOf,
  assignFromBlock,
  assignSpecific,
  blockCidr,
  cloneBlock,
  encodeBlock,
  freeCount,
  hostAffinity,
  isEmpty,
  newBlock,
  ordinalOf,
  coolingOf,
  isEmptyOnceCooled,
  reclaimableCount,
  reclaimCooled,
  releaseFromBlock,
  type AllocationBlock,
  type ReleaseRequest,
} from './core/block.js';
import {
  adjustHandle,
  decodeHandle,
  encodeAffinity,
  encodeHandle,
  encodeIpamConfig,
  effectiveBlockLimit,
  handleIsEmpty,
  ipamConfigProblems,
  type IpamConfig,
  type IpamHandle,
} from './core/records.js';
import {
  choosePools,
  PoolChoiceError,
  poolContaining,
  poolServes,
  type IntendedUse,
  type IpamPool,
  type SelectorMatcher,
} from './core/pool.js';
import type { ReservationSet } from './core/reservation.js';
import { calicoSelectorMatcher } from './core/selectors.js';
import { blockCount, fnv32a, walkBlocks } from './core/blockwalk.js';
import {
  bitsOf,
  blockContaining,
  cidrContainsCidr,
  cidrContainsIp,
  formatCidr,
  formatIp,
  parseCidr,
  parseIp,
  type Cidr,
  type IpAddress,
  type IpFamily,
} from '../net/ip.js';
import { IpamStore, type AffinityRecord, type HandleRecord, type Versioned } from './store.js';
import {
  AddressNotInPoolError,
  AffinityNotEmptyError,
  BlockChangedError,
  BlockLimitError,
  HandleNotFoundError,
  InvalidIpamConfigError,
  IpamError,
  MaxRetriesError,
  NoFreeAddressesError,
  NodeNotFoundError,
  ReservedAddressError,
  StrictAffinityError,
} from './errors.js';

/** Calico's datastoreRetries. */
export const DATASTORE_RETRIES = 100;
/** Calico's EmptyBlockMinReclaimAge: an empty block affine to another node may be taken once its claim is this old. */
export const EMPTY_BLOCK_MIN_RECLAIM_AGE_MS = 60_000;

export interface IpamClientOptions {
  /** Calico selector matcher; defaults to src/selector's. */
  matcher?: SelectorMatcher;
  now?: () => Date;
  /** Picks the client's starting block among a node's blocks with room (default random per client). */
  spreadSeed?: number;
}

export interface AutoAssignRequest {
  num4: number;
  num6: number;
  handleId: string;
  /** Secondary attributes stored with each allocation (node, namespace, pod, type, timestamp). */
  attrs: Record<string, string>;
  hostname: string;
  /** Pool names or CIDRs the caller insists on (annotations, CNI config); selectors are then ignored. */
  ipv4Pools?: string[];
  ipv6Pools?: string[];
  namespace?: { name: string; labels: Record<string, string> };
  intendedUse?: IntendedUse;
  /** Per-request block limit (calico-ipam passes 0 = use the configuration). */
  maxBlocksPerHost?: number;
}

export interface AutoAssignResult {
  /** `<ip>/<block prefix>` as Calico returns them. */
  ipv4: string[];
  ipv6: string[];
}

export interface AssignIpRequest {
  ip: string;
  handleId: string;
  attrs: Record<string, string>;
  hostname: string;
  intendedUse?: IntendedUse;
}

export interface ReleaseOptions {
  ip: string;
  handleId?: string;
  sequenceNumber?: bigint;
}

export interface AllocationInfo {
  ip: string;
  block: string;
  blockAffinity: string | null;
  handleId: string | null;
  attrs: Record<string, string>;
  sequenceNumber?: bigint;
}

interface Assigned {
  ip: IpAddress;
  block: Cidr;
}

/** A cooling address: released, held by no handle, not handed out before its cooldown has passed. */
export interface CoolingInfo {
  ip: string;
  block: string;
  /** The handle that held it. */
  handleId: string | null;
  attrs: Record<string, string>;
  releasedAt: string;
  /** When it may be handed out again under the current configuration. */
  availableAt: string;
}

type ConfigView = Versioned<IpamConfig> & { exists: boolean };

/** The transaction condition "the IPAM configuration is still as read". */
const configUnchanged = (v: ConfigView): TxnCondition =>
  v.exists
    ? { key: IPAM_CONFIG_KEY, kind: 'revision', revision: v.revision }
    : { key: IPAM_CONFIG_KEY, kind: 'absent' };

/** What an auto-assignment for one node and family decides from, besides the blocks, as read at one time. */
interface HostContext {
  config: IpamConfig;
  configView: ConfigView;
  reservations: ReservationSet;
  /** Revision the IPReservation list was read at. */
  reservationsRevision: number;
  pools: IpamPool[];
  /** Pool name -> revision of its key. */
  poolRevisions: Map<string, number>;
  /** Revision the IPPool list was read at. */
  poolsRevision: number;
  labels: Record<string, string>;
  nodeRevision: number;
  affinities: AffinityRecord[];
}

/** Where a failed commit learns which condition failed (undefined: the store did not say). */
interface CommitOutcome {
  conflictKey?: string;
}

const HANDLE_KEY_PREFIX = `${IPAM_PREFIX}handle/`;

/** Whether the block has a free address that no reservation excludes (cooled-down ones count as free). */
function hasRoom(b: AllocationBlock, reservations: ReservationSet, cooldownSeconds: number, nowMs: number): boolean {
  const cooled = reclaimableCount(b, nowMs, cooldownSeconds);
  if (b.unallocated.length === 0 && cooled === 0) return false;
  return reservations.cidrs.length === 0 || cooled > 0 || freeCount(b, reservations.isReserved) > 0;
}

/**
 * Paces retries after a block compare-and-swap lost to another writer of the same block. From the second retry on,
 * the pause is random up to 2^(attempt-1) times the writes' recent latency (capped): a rival's commit takes about one
 * write latency, so a shorter pause collides again (a wasted transaction: on etcd a raft round), a much longer one
 * leaves the block idle. On a local SQLite file that is a fraction of a millisecond; on a loaded etcd, several.
 */
class ConflictBackoff {
  private latencyMs = 1;

  /** Times one transaction, keeping an exponentially weighted average of the latency. */
  async timed<T>(write: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await write();
    } finally {
      this.latencyMs = 0.8 * this.latencyMs + 0.2 * (performance.now() - start);
    }
  }

  pause(attempt: number): Promise<void> {
    // The first retry goes at once: the refused transaction reported the block as it is now, and the writer that
    // changed it has usually finished (a single writer per node, as calico-node's, meets only stray rivals).
    if (attempt === 0) return Promise.resolve();
    const ms = Math.random() * Math.min(MAX_CONFLICT_PAUSE_MS, 2 ** Math.min(attempt - 1, 10) * this.latencyMs);
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}
const MAX_CONFLICT_PAUSE_MS = 50;

const isConflict = (e: unknown): boolean =>
  e instanceof ConflictError || e instanceof AlreadyExistsError || e instanceof NotFoundError;

export class IpamClient {
  readonly store: IpamStore;
  private readonly matcher: SelectorMatcher;
  private readonly now: () => Date;
  private readonly backoff = new ConflictBackoff();
  /**
   * Handles as this client last wrote or saw them (null: known absent). Only a first guess for the next
   * compare-and-swap; the transaction's conditions reject a stale guess and report the current version.
   */
  private readonly knownHandles = new Map<string, HandleRecord | null>();
  /** Where this client starts among a node's blocks with room, so that concurrent clients spread over them. */
  private readonly spread: number;
  /**
   * Per `<node>/<family>`: the context of the last auto-assignment. A later assignment from the node's blocks decides
   * from it without reading, and its transaction re-checks that the pools, the node and the reservations it relied
   * on are unchanged; if they changed, or the blocks it knows are full, the assignment reads everything afresh.
   */
  private readonly contexts = new Map<string, HostContext>();
  /** The IPAM configuration as last read, for releases (their transactions require it unchanged). */
  private configView?: ConfigView;

  constructor(
    readonly ds: Datastore,
    opts: IpamClientOptions = {},
  ) {
    this.store = new IpamStore(ds);
    this.matcher = opts.matcher ?? calicoSelectorMatcher;
    this.now = opts.now ?? (() => new Date());
    this.spread = opts.spreadSeed ?? Math.floor(Math.random() * 0x7fffffff);
  }

  // ---------------------------------------------------------------- configuration

  async getConfig(): Promise<IpamConfig> {
    return (await this.store.getConfig()).value;
  }

  /** Updates the IPAM configuration (CAS); validates as Calico's SetIPAMConfig. */
  async setConfig(change: Partial<IpamConfig>): Promise<IpamConfig> {
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      const cur = await this.store.getConfig();
      const next = { ...cur.value, ...change };
      const problems = ipamConfigProblems(next);
      if (problems.length) throw new InvalidIpamConfigError(`invalid IPAM configuration: ${problems.join('; ')}`);
      try {
        if (cur.exists) await this.ds.update(IPAM_CONFIG_KEY, encodeIpamConfig(next), cur.revision);
        else await this.ds.create(IPAM_CONFIG_KEY, encodeIpamConfig(next));
        return next;
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
    }
    throw new MaxRetriesError('IPAM config update');
  }

  // ---------------------------------------------------------------- auto-assignment

  /**
   * Assigns num4 IPv4 and num6 IPv6 addresses to the handle. All or nothing: on any error the addresses this call
   * took are released again before the error is thrown.
   */
  async autoAssign(req: AutoAssignRequest): Promise<AutoAssignResult> {
    const taken: Assigned[] = [];
    try {
      const out: AutoAssignResult = { ipv4: [], ipv6: [] };
      if (req.num4 > 0) {
        for (const a of await this.autoAssignFamily(4, req.num4, req, taken))
          out.ipv4.push(`${formatIp(a.ip)}/${a.block.prefix}`);
      }
      if (req.num6 > 0) {
        for (const a of await this.autoAssignFamily(6, req.num6, req, taken))
          out.ipv6.push(`${formatIp(a.ip)}/${a.block.prefix}`);
      }
      return out;
    } catch (e) {
      if (taken.length) {
        await this.releaseIps(taken.map((a) => ({ ip: formatIp(a.ip), handleId: req.handleId }))).catch(
          () => undefined,
        );
      }
      throw e;
    }
  }

  private async nodeLabels(host: string): Promise<Record<string, string>> {
    const labels = await this.store.getNodeLabels(host);
    if (!labels) throw new NodeNotFoundError(host);
    return labels;
  }

  private async autoAssignFamily(
    family: IpFamily,
    num: number,
    req: AutoAssignRequest,
    taken: Assigned[],
  ): Promise<Assigned[]> {
    const host = req.hostname;
    const got: Assigned[] = [];
    const need = () => num - got.length;
    const record = (a: Assigned[]) => {
      got.push(...a);
      taken.push(...a);
    };
    const contextKey = `${host}/${family}`;
    // (0) From the context this client read last time, checked by the transaction itself: no read at all.
    const cached = this.contexts.get(contextKey);
    if (cached) record(await this.assignFromCachedContext(cached, contextKey, family, num, req));
    if (need() === 0) return got;

    // Everything the decision needs, read in one round of parallel reads.
    const [cfg, res, poolList, node, affinities] = await Promise.all([
      this.store.getConfig(),
      this.store.readReservations(),
      this.store.readPools(),
      this.store.getNode(host),
      this.store.listAffinities(host, family),
    ]);
    if (!node) throw new NodeNotFoundError(host);
    const config = cfg.value;
    const reservations = res.set;
    const pools = poolList.pools;
    const labels = node.labels;
    if (this.contexts.size >= 1000) this.contexts.clear();
    this.configView = cfg;
    this.contexts.set(contextKey, {
      config,
      configView: cfg,
      reservations,
      reservationsRevision: res.listRevision,
      pools,
      poolRevisions: poolList.revisions,
      poolsRevision: poolList.listRevision,
      labels,
      nodeRevision: node.revision,
      affinities,
    });
    const chosen = choosePools(
      pools,
      {
        family,
        named: family === 4 ? req.ipv4Pools : req.ipv6Pools,
        nodeName: host,
        nodeLabels: labels,
        namespace: req.namespace,
        intendedUse: req.intendedUse ?? 'Workload',
      },
      this.matcher,
    );
    const limit = effectiveBlockLimit(req.maxBlocksPerHost ?? 0, config);

    const cooldown = config.ipCooldownSeconds;
    let affine = await this.prepareAffineBlocks(host, affinities, chosen, pools, labels);
    // (a) the node's blocks, all read afresh at once, those with room tried from a client-specific start.
    const seenFull = new Set<string>();
    if (affine.length)
      record(await this.assignFromRoomyBlocks(affine, host, need(), req, reservations, cooldown, seenFull));
    for (let round = 0; need() > 0; round++) {
      if (round > DATASTORE_RETRIES) throw new MaxRetriesError(`claiming a block for ${host}`);
      // (a') one by one, read afresh (except, at first, those (a) just read and found full or not ours).
      const stale: string[] = [];
      for (const cidr of affine) {
        if (need() === 0) break;
        if (round === 0 && seenFull.has(cidr)) {
          if (this.store.knownBlock(cidr)?.value.affinity !== hostAffinity(host)) stale.push(cidr);
          continue;
        }
        if (reservations.coversWholly(parseCidr(cidr))) continue;
        const r = await this.assignFromAffineBlock(cidr, host, need(), req, reservations, cooldown);
        if (r === 'not-ours') stale.push(cidr);
        else record(r);
      }
      affine = affine.filter((c) => !stale.includes(c));
      if (need() === 0) break;
      // (b) claim a new block, within the block limit.
      if (!config.autoAllocateBlocks) break;
      if (affine.length >= limit) throw new BlockLimitError(host, limit);
      const cidr = await this.findUsableBlock(host, family, chosen, reservations, cooldown);
      if (!cidr) break;
      if (await this.claimAffineBlock(host, cidr)) affine.push(cidr);
    }
    // (c) borrow from blocks that exist, unless strict affinity forbids it.
    if (need() > 0 && !config.strictAffinity) {
      for (const pool of chosen) {
        if (need() === 0) break;
        record(await this.borrowFromPool(pool, host, need(), req, reservations, cooldown));
      }
    }
    if (need() > 0) {
      const why = config.strictAffinity
        ? `no free address in the ${affine.length} block(s) affine to ${host}, no unclaimed block left, strictAffinity forbids borrowing`
        : `every block is full or reserved (${got.length} of ${num} assigned)`;
      throw new NoFreeAddressesError(
        family,
        chosen.map((p) => p.cidrText),
        got.length,
        num,
        `${why}; pools tried: ${chosen.map((p) => p.name).join(', ')}`,
      );
    }
    return got;
  }

  /**
   * The node's affine blocks inside the chosen pools (step 4 of Calico's AutoAssign). Empty affine blocks whose pool
   * no longer selects the node, or which lie in no pool at all, lose their affinity here.
   */
  private async prepareAffineBlocks(
    host: string,
    affinities: AffinityRecord[],
    chosen: IpamPool[],
    pools: IpamPool[],
    labels: Record<string, string>,
  ): Promise<string[]> {
    const out: string[] = [];
    for (const aff of affinities) {
      const c = parseCidr(aff.cidr);
      if (chosen.some((p) => cidrContainsCidr(p.cidr, c))) {
        out.push(aff.cidr);
        continue;
      }
      const pool = pools.find((p) => cidrContainsCidr(p.cidr, c));
      if (!pool || !this.matcher(pool.nodeSelector, labels)) {
        await this.releaseBlockAffinity(host, aff.cidr, { mustBeEmpty: true }).catch((e) => {
          if (!(e instanceof AffinityNotEmptyError)) throw e;
        });
      }
    }
    return out;
  }

  /**
   * Assignment from the node's blocks with room as last seen, deciding from a context read earlier. Each transaction
   * also requires that the block's pool, the pool list, the Node and the IPReservations are unchanged since that
   * read; if any changed, the context is dropped and the caller reads afresh (as it does for whatever is still
   * missing when the known blocks are full).
   */
  private async assignFromCachedContext(
    ctx: HostContext,
    contextKey: string,
    family: IpFamily,
    num: number,
    req: AutoAssignRequest,
  ): Promise<Assigned[]> {
    const host = req.hostname;
    let chosen: IpamPool[];
    try {
      chosen = choosePools(
        ctx.pools,
        {
          family,
          named: family === 4 ? req.ipv4Pools : req.ipv6Pools,
          nodeName: host,
          nodeLabels: ctx.labels,
          namespace: req.namespace,
          intendedUse: req.intendedUse ?? 'Workload',
        },
        this.matcher,
      );
    } catch (e) {
      if (e instanceof PoolChoiceError) return []; // decided afresh by the caller
      throw e;
    }
    const got: Assigned[] = [];
    const r = await this.assignFromKnownBlocks(ctx, contextKey, chosen, num, req);
    if (r === 'context-changed') return [];
    got.push(...r);
    if (got.length < num) {
      // The blocks it knows are full: another client of the node may have claimed a block since. Listing the node's
      // affinities (one read) and reading the blocks it did not know is far cheaper than reading everything afresh.
      ctx.affinities = await this.store.listAffinities(host, family);
      await Promise.all(
        ctx.affinities.filter((a) => !this.store.knownBlock(a.cidr)).map((a) => this.store.getBlock(a.cidr)),
      );
      const more = await this.assignFromKnownBlocks(ctx, contextKey, chosen, num - got.length, req);
      if (more !== 'context-changed') got.push(...more);
    }
    return got;
  }

  /** One pass of assignFromCachedContext over the node's blocks known to have room. */
  private async assignFromKnownBlocks(
    ctx: HostContext,
    contextKey: string,
    chosen: IpamPool[],
    num: number,
    req: AutoAssignRequest,
  ): Promise<Assigned[] | 'context-changed'> {
    const host = req.hostname;
    const mine = hostAffinity(host);
    const cooldown = ctx.config.ipCooldownSeconds;
    const nowMs = this.now().getTime();
    const roomy: { view: Versioned<AllocationBlock>; pool: IpamPool }[] = [];
    for (const aff of ctx.affinities) {
      const view = this.store.knownBlock(aff.cidr);
      if (!view || view.value.affinity !== mine || !hasRoom(view.value, ctx.reservations, cooldown, nowMs)) continue;
      const c = blockCidr(view.value);
      const pool = chosen.find((p) => cidrContainsCidr(p.cidr, c));
      if (pool && !ctx.reservations.coversWholly(c)) roomy.push({ view, pool });
    }
    const got: Assigned[] = [];
    const start = this.spread % Math.max(1, roomy.length);
    for (let i = 0; i < roomy.length && got.length < num; i++) {
      const { pool } = roomy[(start + i) % roomy.length]!;
      let cur = roomy[(start + i) % roomy.length]!.view;
      const guard: TxnCondition[] = [
        { key: resourceKey('IPPool', pool.name), kind: 'revision', revision: ctx.poolRevisions.get(pool.name) ?? 0 },
        { key: resourcePrefix('IPPool'), kind: 'unchangedSince', revision: ctx.poolsRevision },
        { key: resourceKey('Node', host), kind: 'revision', revision: ctx.nodeRevision },
        { key: resourcePrefix('IPReservation'), kind: 'unchangedSince', revision: ctx.reservationsRevision },
        // The cooldown it frees cooled addresses by.
        configUnchanged(ctx.configView),
      ];
      for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
        const outcome: CommitOutcome = {};
        const handle = this.handleGuess(req.handleId);
        const r = await this.tryAssign(cur, num - got.length, req, ctx.reservations, cooldown, handle, guard, outcome);
        if (r !== 'conflict') {
          got.push(...r);
          break;
        }
        if (outcome.conflictKey === undefined || guard.some((g) => g.key === outcome.conflictKey)) {
          this.contexts.delete(contextKey);
          if (got.length === 0) return 'context-changed';
          return got;
        }
        const now = this.store.knownBlock(cur.value.cidr);
        if (!now || now.value.affinity !== mine) break;
        cur = now;
        await this.backoff.pause(attempt);
      }
    }
    return got;
  }

  /**
   * The node's blocks, read afresh in one round; those with room are tried from a client-specific start, and a
   * conflict retries the same block at the version the failed transaction reported. Blocks found full (or no longer
   * the node's) by these reads go into seenFull, so the caller need not read them again before claiming a new block.
   */
  private async assignFromRoomyBlocks(
    affine: string[],
    host: string,
    num: number,
    req: AutoAssignRequest,
    reservations: ReservationSet,
    cooldown: number,
    seenFull: Set<string>,
  ): Promise<Assigned[]> {
    const views = await Promise.all(affine.map((c) => this.store.getBlock(c)));
    const mine = hostAffinity(host);
    const nowMs = this.now().getTime();
    const roomy: Versioned<AllocationBlock>[] = [];
    views.forEach((v, i) => {
      if (!v) return; // an affinity without its block yet: the caller claims it
      if (
        v.value.affinity === mine &&
        hasRoom(v.value, reservations, cooldown, nowMs) &&
        !reservations.coversWholly(blockCidr(v.value))
      )
        roomy.push(v);
      else seenFull.add(affine[i]!);
    });
    const got: Assigned[] = [];
    const start = this.spread % Math.max(1, roomy.length);
    for (let i = 0; i < roomy.length && got.length < num; i++) {
      let cur = roomy[(start + i) % roomy.length]!;
      for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
        const r = await this.tryAssign(
          cur,
          num - got.length,
          req,
          reservations,
          cooldown,
          this.handleGuess(req.handleId),
        );
        if (r !== 'conflict') {
          got.push(...r);
          // Found full at the version a failed transaction reported: as fresh as a read.
          if (r.length === 0 && attempt > 0) seenFull.add(cur.value.cidr);
          break;
        }
        const now = this.store.knownBlock(cur.value.cidr) ?? (await this.store.getBlock(cur.value.cidr));
        if (!now || now.value.affinity !== mine) break;
        cur = now;
        await this.backoff.pause(attempt);
      }
    }
    return got;
  }

  /** Assigns from one of the host's blocks; claims it first when the affinity exists but the block does not. */
  private async assignFromAffineBlock(
    cidr: string,
    host: string,
    num: number,
    req: AutoAssignRequest,
    reservations: ReservationSet,
    cooldown: number,
  ): Promise<Assigned[] | 'not-ours'> {
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      // A fresh read first; after a conflict, the version the failed transaction reported.
      const cur = (attempt > 0 ? this.store.knownBlock(cidr) : undefined) ?? (await this.store.getBlock(cidr));
      if (!cur) {
        if (!(await this.store.getAffinity(host, cidr))) return 'not-ours';
        if (!(await this.claimAffineBlock(host, cidr))) return 'not-ours';
        continue;
      }
      if (cur.value.affinity !== hostAffinity(host)) return 'not-ours';
      const r = await this.tryAssign(cur, num, req, reservations, cooldown, this.handleGuess(req.handleId));
      if (r === 'conflict') continue;
      return r;
    }
    throw new MaxRetriesError(`assigning from block ${cidr}`);
  }

  /** The handle as last seen; a handle never seen is guessed absent (a new container's), which the txn checks. */
  private handleGuess(id: string): HandleRecord | null {
    return this.knownHandles.get(id) ?? null;
  }

  /** One CAS attempt: take up to num addresses from the block for the handle (cooled-down ones freed first). */
  private async tryAssign(
    cur: Versioned<AllocationBlock>,
    num: number,
    req: { handleId: string; attrs: Record<string, string> },
    reservations: ReservationSet,
    cooldown: number,
    handle?: HandleRecord | null,
    guard: TxnCondition[] = [],
    outcome?: CommitOutcome,
  ): Promise<Assigned[] | 'conflict'> {
    const next = cloneBlock(cur.value);
    reclaimCooled(next, this.now().getTime(), cooldown);
    const ips = assignFromBlock(next, num, req.handleId, req.attrs, reservations.isReserved);
    if (ips.length === 0) return [];
    const prefetched = handle === undefined ? undefined : { [req.handleId]: handle };
    const ok = await this.commitBlock(cur, next, { [req.handleId]: ips.length }, prefetched, guard, outcome);
    if (!ok) return 'conflict';
    const block = blockCidr(next);
    return ips.map((ip) => ({ ip, block }));
  }

  /**
   * Writes the block (or deletes it when delete is set) and adjusts the named handles' counts for this block, in one
   * transaction conditioned on the revisions just read. False on conflict (the caller re-reads and retries).
   */
  private async commitBlock(
    cur: Versioned<AllocationBlock>,
    next: AllocationBlock | 'delete',
    handleDeltas: Record<string, number>,
    /** Handle records read together with the block (null = known absent); others are read here. */
    prefetched: Record<string, HandleRecord | null> = {},
    /** Further conditions the transaction must meet (checked after the block's and the handles'). */
    guard: TxnCondition[] = [],
    outcome?: CommitOutcome,
  ): Promise<boolean> {
    const conditions: TxnCondition[] = [{ key: blockKey(cur.value.cidr), kind: 'revision', revision: cur.revision }];
    const ops: TxnOperation[] = [];
    if (next === 'delete') ops.push({ kind: 'delete', key: blockKey(cur.value.cidr) });
    else {
      next.sequenceNumber = cur.value.sequenceNumber + 1n;
      ops.push({ kind: 'put', key: blockKey(next.cidr), value: encodeBlock(next) });
    }
    for (const [id, delta] of Object.entries(handleDeltas)) {
      if (delta === 0) continue;
      const h = id in prefetched ? prefetched[id] : await this.store.getHandle(id);
      const base: IpamHandle = h?.value ?? { block: {}, deleted: false };
      const updated = adjustHandle(base, cur.value.cidr, delta);
      conditions.push(
        h ? { key: handleKey(id), kind: 'revision', revision: h.revision } : { key: handleKey(id), kind: 'absent' },
      );
      if (handleIsEmpty(updated)) {
        if (h) ops.push({ kind: 'delete', key: handleKey(id) });
      } else ops.push({ kind: 'put', key: handleKey(id), value: encodeHandle(updated) });
    }
    conditions.push(...guard);
    try {
      const { revision } = await this.backoff.timed(() => this.ds.txn(conditions, ops));
      this.store.noteBlock(cur.value.cidr, next === 'delete' ? undefined : next, revision);
      for (const op of ops) {
        if (!op.key.startsWith(HANDLE_KEY_PREFIX)) continue;
        const id = op.key.slice(HANDLE_KEY_PREFIX.length);
        this.noteHandle(id, op.kind === 'put' ? { id, value: decodeHandle(op.value), revision } : null);
      }
      return true;
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
      if (outcome) outcome.conflictKey = e.key;
      // Conditions before the failing one held; the failing key's current version is kept for the retry.
      const failed = conditions.findIndex((c) => c.key === e.key);
      for (const c of failed >= 0 ? conditions.slice(failed) : conditions) {
        if (guard.includes(c)) continue;
        const current = e instanceof TxnConflictError && c.key === e.key ? e.current : false;
        if (c.key.startsWith(HANDLE_KEY_PREFIX)) {
          const id = c.key.slice(HANDLE_KEY_PREFIX.length);
          if (current === false) this.knownHandles.delete(id);
          else
            this.noteHandle(
              id,
              current ? { id, value: decodeHandle(current.value), revision: current.revision } : null,
            );
        } else if (current === false) this.store.forget(c.key);
        else this.store.learnBlock(current, c.key);
      }
      return false;
    }
  }

  private noteHandle(id: string, h: HandleRecord | null): void {
    if (this.knownHandles.size >= 10_000) this.knownHandles.clear();
    this.knownHandles.set(id, h);
  }

  /**
   * A block CIDR the host may claim (Calico's findUsableBlock): the first CIDR, in the host's walk order, with no block
   * yet; failing that, an empty block affine to another node whose claim is over a minute old, reclaimed.
   */
  private async findUsableBlock(
    host: string,
    family: IpFamily,
    chosen: IpamPool[],
    reservations: ReservationSet,
    cooldown: number,
  ): Promise<string | undefined> {
    const existing = new Map<string, Versioned<AllocationBlock>>();
    for (const b of await this.store.listBlocks(family)) existing.set(b.value.cidr, b);
    const nowMs = this.now().getTime();
    for (const pool of chosen) {
      const inPool = [...existing.values()].filter((b) => cidrContainsCidr(pool.cidr, blockCidr(b.value))).length;
      const total = blockCount(pool.cidr, pool.blockSize);
      if (BigInt(inPool) >= total) continue;
      const seed = pool.blockSize === bitsOf(family) ? nowMs >>> 0 : fnv32a(host);
      // Within inPool + reserved + 1 steps the walk meets a CIDR with no block, unless reservations cover the rest.
      let budget = inPool + 1 + reservations.cidrs.length * 64;
      for (const c of walkBlocks(pool.cidr, pool.blockSize, seed)) {
        if (budget-- <= 0) break;
        const text = formatCidr(c);
        if (reservations.coversWholly(c)) continue;
        const b = existing.get(text);
        if (!b) return text;
        if (b.value.affinity === hostAffinity(host) && hasRoom(b.value, reservations, cooldown, nowMs)) return text;
      }
    }
    // Nothing unclaimed: reclaim an old empty block of another node.
    for (const pool of chosen) {
      for (const b of existing.values()) {
        const other = affinityHost(b.value.affinity);
        if (!other || other === host || !cidrContainsCidr(pool.cidr, blockCidr(b.value))) continue;
        if (!isEmptyOnceCooled(b.value, nowMs, cooldown)) continue;
        if (reservations.coversWholly(blockCidr(b.value))) continue;
        const claimed = b.value.affinityClaimTime ? Date.parse(b.value.affinityClaimTime) : 0;
        if (nowMs - claimed <= EMPTY_BLOCK_MIN_RECLAIM_AGE_MS) continue;
        try {
          await this.releaseBlockAffinity(other, b.value.cidr, {
            mustBeEmpty: true,
            sequenceNumber: b.value.sequenceNumber,
          });
          return b.value.cidr;
        } catch (e) {
          if (e instanceof IpamError || isConflict(e)) continue;
          throw e;
        }
      }
    }
    return undefined;
  }

  /**
   * Calico's two-phase claim: affinity `pending`, create the block affine to the host, affinity `confirmed`.
   * False when another node created the block first (our pending affinity is removed again).
   */
  async claimAffineBlock(host: string, cidr: string): Promise<boolean> {
    const affKey = blockAffinityKey(host, cidr);
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      const aff = await this.store.getAffinity(host, cidr);
      let affRev: number;
      try {
        if (!aff)
          affRev = (await this.ds.create(affKey, encodeAffinity({ state: 'pending', deleted: false }))).revision;
        else if (aff.value.state === 'pendingDeletion') {
          affRev = (await this.ds.update(affKey, encodeAffinity({ state: 'pending', deleted: false }), aff.revision))
            .revision;
        } else affRev = aff.revision;
      } catch (e) {
        if (isConflict(e)) continue;
        throw e;
      }
      const now = this.now();
      const block = newBlock(
        parseCidr(cidr),
        hostAffinity(host),
        now.toISOString(),
        BigInt(now.getTime()) * 1_000_000n,
      );
      try {
        await this.ds.create(blockKey(cidr), encodeBlock(block));
      } catch (e) {
        if (!(e instanceof AlreadyExistsError)) throw e;
        const existing = await this.store.getBlock(cidr);
        if (existing?.value.affinity !== hostAffinity(host)) {
          await this.dropLostAffinity(host, cidr);
          return false;
        }
      }
      try {
        await this.ds.update(affKey, encodeAffinity({ state: 'confirmed', deleted: false }), affRev);
        return true;
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
    }
    throw new MaxRetriesError(`claiming block ${cidr} for ${host}`);
  }

  /** Removes our affinity for a block another node created first (re-reading on conflict). */
  private async dropLostAffinity(host: string, cidr: string): Promise<void> {
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      const aff = await this.store.getAffinity(host, cidr);
      if (!aff) return;
      const block = await this.store.getBlock(cidr);
      if (block?.value.affinity === hostAffinity(host)) return;
      try {
        await this.ds.delete(aff.key, aff.revision);
        return;
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
    }
    throw new MaxRetriesError(`removing the affinity of ${host} for ${cidr}`);
  }

  /** Borrowing: existing blocks of the pool in the host's walk order, whatever their affinity. */
  private async borrowFromPool(
    pool: IpamPool,
    host: string,
    num: number,
    req: AutoAssignRequest,
    reservations: ReservationSet,
    cooldown: number,
  ): Promise<Assigned[]> {
    const blocks = (await this.store.listBlocks(pool.cidr.family))
      .filter((b) => cidrContainsCidr(pool.cidr, blockCidr(b.value)))
      .sort((a, b) => (blockCidr(a.value).address < blockCidr(b.value).address ? -1 : 1));
    if (blocks.length === 0) return [];
    const start = Number(BigInt(fnv32a(host)) % BigInt(blocks.length));
    const got: Assigned[] = [];
    for (let i = 0; i < blocks.length && got.length < num; i++) {
      let cur: Versioned<AllocationBlock> | undefined = blocks[(start + i) % blocks.length];
      for (let attempt = 0; ; attempt++) {
        if (attempt >= DATASTORE_RETRIES) throw new MaxRetriesError(`borrowing from block ${cur.value.cidr}`);
        const r = await this.tryAssign(cur, num - got.length, req, reservations, cooldown);
        if (r !== 'conflict') {
          got.push(...r);
          break;
        }
        cur = await this.store.getBlock(cur.value.cidr);
        if (!cur) break;
      }
    }
    return got;
  }

  // ---------------------------------------------------------------- specific addresses

  /** Assigns one specific address: it must lie in an enabled pool allowing the use, be free and not reserved. */
  async assignIp(req: AssignIpRequest): Promise<string> {
    const ip = parseIp(req.ip);
    const text = formatIp(ip);
    const [pools, reservations, cfg] = await Promise.all([
      this.store.listPools(),
      this.store.listReservations(),
      this.store.getConfig(),
    ]);
    const pool = poolContaining(pools.filter(poolServes), ip);
    if (!pool) {
      const holder = poolContaining(pools, ip);
      const detail = holder
        ? `pool ${holder.name} (${holder.cidrText}) contains it but is ${holder.disabled ? 'disabled' : 'being deleted'}`
        : `no pool contains it; pools: ${pools.map((p) => `${p.name} ${p.cidrText}`).join(', ') || 'none'}`;
      throw new AddressNotInPoolError(text, detail);
    }
    const use = req.intendedUse ?? 'Workload';
    if (!pool.allowedUses.includes(use)) {
      throw new AddressNotInPoolError(
        text,
        `pool ${pool.name} allowedUses [${pool.allowedUses.join(', ')}] excludes ${use}`,
      );
    }
    if (reservations.isReserved(ip)) throw new ReservedAddressError(text);
    const cidr = formatCidr(blockContaining(ip, pool.blockSize));
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      const cur = await this.store.getBlock(cidr);
      if (!cur) {
        await this.claimAffineBlock(req.hostname, cidr);
        continue;
      }
      if (cfg.value.strictAffinity && cur.value.affinity !== hostAffinity(req.hostname)) {
        throw new StrictAffinityError(text, cidr, cur.value.affinity);
      }
      const next = cloneBlock(cur.value);
      reclaimCooled(next, this.now().getTime(), cfg.value.ipCooldownSeconds);
      assignSpecific(next, ip, req.handleId, req.attrs);
      if (await this.commitBlock(cur, next, { [req.handleId]: 1 })) return `${text}/${pool.blockSize}`;
    }
    throw new MaxRetriesError(`assigning ${text}`);
  }

  // ---------------------------------------------------------------- release

  /** The block CIDR holding ip: from its pool's block size, else by searching existing blocks (pool deleted). */
  private async blockFor(ip: IpAddress, pools: IpamPool[]): Promise<string | undefined> {
    const pool = poolContaining(pools, ip);
    if (pool) return formatCidr(blockContaining(ip, pool.blockSize));
    const b = (await this.store.listBlocks(ip.family)).find((x) => cidrContainsIp(blockCidr(x.value), ip));
    return b?.value.cidr;
  }

  /**
   * Releases addresses; with handleId/sequenceNumber the stored allocation must match (else the block is left alone
   * and a conflict is thrown). Returns the addresses that were not allocated.
   */
  async releaseIps(reqs: ReleaseOptions[]): Promise<string[]> {
    const pools = await this.store.listPools();
    const byBlock = new Map<string, ReleaseRequest[]>();
    const unallocated: string[] = [];
    for (const r of reqs) {
      const ip = parseIp(r.ip);
      const cidr = await this.blockFor(ip, pools);
      if (!cidr) {
        unallocated.push(formatIp(ip));
        continue;
      }
      const list = byBlock.get(cidr) ?? [];
      list.push({ ip, handle: r.handleId, sequenceNumber: r.sequenceNumber });
      byBlock.set(cidr, list);
    }
    for (const [cidr, list] of byBlock) {
      unallocated.push(
        ...(await this.releaseFromBlockCas(cidr, (b, releasedAt) => releaseFromBlock(b, list, releasedAt), list)),
      );
    }
    return unallocated;
  }

  private async releaseFromBlockCas(
    cidr: string,
    release: (
      b: AllocationBlock,
      releasedAt: string | undefined,
    ) => { released: { handle: string | null }[]; unallocated: IpAddress[] },
    requested: ReleaseRequest[] | undefined,
  ): Promise<string[]> {
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      const [cur, cfg] = await Promise.all([this.store.getBlock(cidr), this.releaseConfig()]);
      if (!cur) return (requested ?? []).map((r) => formatIp(r.ip));
      const next = cloneBlock(cur.value);
      const { releasedAt, nowMs } = this.releaseTime(cfg);
      reclaimCooled(next, nowMs, cfg.value.ipCooldownSeconds);
      const res = release(next, releasedAt);
      if (res.released.length === 0) return res.unallocated.map(formatIp);
      const deltas: Record<string, number> = {};
      for (const r of res.released) if (r.handle) deltas[r.handle] = (deltas[r.handle] ?? 0) - 1;
      const empty = isEmpty(next);
      const outcome: CommitOutcome = {};
      if (
        await this.commitBlock(
          cur,
          empty && !next.affinity ? 'delete' : next,
          deltas,
          {},
          [configUnchanged(cfg)],
          outcome,
        )
      ) {
        if (empty && next.affinity) await this.ensureConsistentAffinity(next);
        return res.unallocated.map(formatIp);
      }
      this.afterReleaseConflict(outcome);
    }
    throw new MaxRetriesError(`releasing from block ${cidr}`);
  }

  /** The configuration releases decide from: as last read by this client (their transactions check it). */
  private async releaseConfig(): Promise<ConfigView> {
    return (this.configView ??= await this.store.getConfig());
  }

  /** releasedAt for the addresses a release at this moment marks (none without a cooldown), and the time. */
  private releaseTime(cfg: ConfigView): { releasedAt: string | undefined; nowMs: number } {
    const now = this.now();
    return { releasedAt: cfg.value.ipCooldownSeconds > 0 ? now.toISOString() : undefined, nowMs: now.getTime() };
  }

  /** A release whose configuration condition failed (or an unknown condition) reads the configuration again. */
  private afterReleaseConflict(outcome: CommitOutcome): void {
    if (outcome.conflictKey === undefined || outcome.conflictKey === IPAM_CONFIG_KEY) this.configView = undefined;
  }

  /** Frees everything the handle holds; HandleNotFoundError when the handle does not exist. */
  async releaseByHandle(handleId: string): Promise<string[]> {
    const released: string[] = [];
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      // After a pass, our own last transaction says whether the handle is gone (null): no need to read it again.
      const h =
        attempt > 0 && this.knownHandles.get(handleId) === null ? undefined : await this.store.getHandle(handleId);
      if (!h) {
        if (attempt === 0) throw new HandleNotFoundError(handleId);
        return released;
      }
      const cidrs = Object.keys(h.value.block);
      if (cidrs.length === 0) {
        await this.ds.delete(handleKey(handleId), h.revision).catch((e) => {
          if (!isConflict(e)) throw e;
        });
        continue;
      }
      let first: HandleRecord | undefined = h;
      for (const cidr of cidrs) {
        released.push(...(await this.releaseHandleInBlock(handleId, cidr, first)));
        first = undefined;
      }
    }
    throw new MaxRetriesError(`releasing handle ${handleId}`);
  }

  /** Frees the handle's addresses in one block; `known` is the handle as just read (used for the first attempt). */
  private async releaseHandleInBlock(handleId: string, cidr: string, known?: HandleRecord): Promise<string[]> {
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      const [cur, h, cfg] = await Promise.all([
        this.store.getBlock(cidr),
        attempt === 0 && known ? known : this.store.getHandle(handleId),
        this.releaseConfig(),
      ]);
      if (!h) return [];
      const count = h.value.block[cidr] ?? 0;
      const next = cur ? cloneBlock(cur.value) : undefined;
      const ips = next ? addressesOfHandle(next, handleId) : [];
      if (!cur || !next || ips.length === 0) {
        // Nothing of the handle's is left in this block: only its count for the block is dropped.
        const updated = adjustHandle(h.value, cidr, -count);
        try {
          if (handleIsEmpty(updated)) await this.ds.delete(handleKey(handleId), h.revision);
          else await this.ds.update(handleKey(handleId), encodeHandle(updated), h.revision);
          return [];
        } catch (e) {
          if (isConflict(e)) continue;
          throw e;
        }
      }
      const { releasedAt, nowMs } = this.releaseTime(cfg);
      reclaimCooled(next, nowMs, cfg.value.ipCooldownSeconds);
      releaseFromBlock(
        next,
        ips.map((ip) => ({ ip })),
        releasedAt,
      );
      const empty = isEmpty(next);
      const outcome: CommitOutcome = {};
      // The handle's entry for this block goes to zero whatever its count said.
      const ok = await this.commitBlock(
        cur,
        empty && !next.affinity ? 'delete' : next,
        { [handleId]: -count },
        { [handleId]: h },
        [configUnchanged(cfg)],
        outcome,
      );
      if (ok) {
        if (empty && next.affinity) await this.ensureConsistentAffinity(next);
        return ips.map(formatIp);
      }
      this.afterReleaseConflict(outcome);
    }
    throw new MaxRetriesError(`releasing handle ${handleId} in block ${cidr}`);
  }

  /** After a release left an affine block empty: drop the affinity if the block's pool no longer selects the node. */
  private async ensureConsistentAffinity(block: AllocationBlock): Promise<void> {
    const host = affinityHost(block.affinity);
    if (!host) return;
    const labels = await this.store.getNodeLabels(host);
    if (!labels) return;
    const pools = await this.store.listPools();
    const pool = pools.find((p) => cidrContainsCidr(p.cidr, blockCidr(block)));
    if (pool && this.matcher(pool.nodeSelector, labels)) return;
    await this.releaseBlockAffinity(host, block.cidr, { mustBeEmpty: true }).catch((e) => {
      if (!(e instanceof AffinityNotEmptyError) && !isConflict(e)) throw e;
    });
  }

  // ---------------------------------------------------------------- affinities

  /**
   * Releases the host's affinity for a block (Calico's releaseBlockAffinity): affinity -> pendingDeletion; the block is
   * deleted when empty, else it loses its affinity and lives on; then the affinity key is deleted. With mustBeEmpty a
   * non-empty block gives AffinityNotEmptyError and nothing changes; with sequenceNumber the block must be unchanged.
   */
  async releaseBlockAffinity(
    host: string,
    cidr: string,
    opts: { mustBeEmpty?: boolean; sequenceNumber?: bigint } = {},
  ): Promise<void> {
    const affKey = blockAffinityKey(host, cidr);
    for (let attempt = 0; attempt < DATASTORE_RETRIES; attempt++) {
      const aff = await this.store.getAffinity(host, cidr);
      if (!aff) return;
      const [stored, cfg] = await Promise.all([this.store.getBlock(cidr), this.store.getConfig()]);
      // The block as it is once its cooled-down addresses are freed (what Calico's read of it gives).
      let cur = stored;
      if (stored) {
        const view = cloneBlock(stored.value);
        if (reclaimCooled(view, this.now().getTime(), cfg.value.ipCooldownSeconds) > 0)
          cur = { ...stored, value: view };
      }
      try {
        if (!cur || cur.value.affinity !== hostAffinity(host)) {
          // A stale affinity: the block is gone or belongs elsewhere (also the last step of an interrupted release).
          await this.ds.delete(affKey, aff.revision);
          return;
        }
        const refusal =
          opts.mustBeEmpty && !isEmpty(cur.value)
            ? new AffinityNotEmptyError(cidr)
            : opts.sequenceNumber !== undefined && cur.value.sequenceNumber !== opts.sequenceNumber
              ? new BlockChangedError(cidr)
              : undefined;
        if (refusal) {
          // An earlier attempt may have marked the affinity; the node keeps its block, so mark it confirmed again.
          if (aff.value.state !== 'confirmed') {
            await this.ds.update(affKey, encodeAffinity({ state: 'confirmed', deleted: false }), aff.revision);
          }
          throw refusal;
        }
        const pending = await this.ds.update(
          affKey,
          encodeAffinity({ state: 'pendingDeletion', deleted: false }),
          aff.revision,
        );
        let blockDone: boolean;
        if (isEmpty(cur.value)) {
          blockDone = await this.ds.delete(blockKey(cidr), cur.revision).then(
            () => true,
            (e) => (isConflict(e) ? false : Promise.reject(e)),
          );
        } else {
          const next = cloneBlock(cur.value);
          next.affinity = null;
          delete next.affinityClaimTime;
          blockDone = await this.commitBlock(cur, next, {}, {}, [configUnchanged(cfg)]);
        }
        // The block changed under us: start over from what is stored now.
        if (!blockDone) continue;
        await this.ds.delete(affKey, pending.revision);
        return;
      } catch (e) {
        if (e instanceof IpamError || !isConflict(e)) throw e;
      }
    }
    throw new MaxRetriesError(`releasing affinity of ${host} for ${cidr}`);
  }

  /** Releases every affinity of the host (both families); Calico's ReleaseHostAffinities. */
  async releaseHostAffinities(host: string, mustBeEmpty: boolean): Promise<void> {
    const errors: string[] = [];
    for (const aff of await this.store.listAffinities(host)) {
      try {
        await this.releaseBlockAffinity(host, aff.cidr, { mustBeEmpty });
      } catch (e) {
        if (mustBeEmpty && e instanceof AffinityNotEmptyError) continue;
        errors.push((e as Error).message);
      }
    }
    if (errors.length) throw new IpamError(`releasing affinities of ${host}: ${errors.join('; ')}`);
  }

  /** Releases every affinity for blocks inside the pool (pool deletion); blocks with addresses become non-affine. */
  async releasePoolAffinities(poolCidr: string): Promise<void> {
    const pool = parseCidr(poolCidr);
    for (const aff of await this.store.listAffinities()) {
      if (cidrContainsCidr(pool, parseCidr(aff.cidr))) await this.releaseBlockAffinity(aff.host, aff.cidr);
    }
  }

  /**
   * IPAM clean-up for a deleted node (clientv3 Node delete): frees its tunnel addresses, releases all its affinities
   * (non-empty blocks become non-affine) and removes its IPAMHost marker.
   */
  async removeIpamHost(host: string): Promise<void> {
    for (const kind of ['ipip', 'vxlan', 'vxlan-v6', 'wireguard', 'wireguard-v6']) {
      await this.releaseByHandle(`${kind}-tunnel-addr-${host}`).catch((e) => {
        if (!(e instanceof HandleNotFoundError)) throw e;
      });
    }
    await this.releaseHostAffinities(host, false);
    await this.ds.delete(`${IPAM_PREFIX}host/${host}`).catch((e) => {
      if (!(e instanceof NotFoundError)) throw e;
    });
  }

  // ---------------------------------------------------------------- queries

  /** Who holds ip, or undefined when it is not allocated. */
  async getAllocation(ipText: string): Promise<AllocationInfo | undefined> {
    const ip = parseIp(ipText);
    const cidr = await this.blockFor(ip, await this.store.listPools());
    if (!cidr) return undefined;
    const b = await this.store.getBlock(cidr);
    if (!b) return undefined;
    const o = ordinalOf(b.value, ip);
    const idx = b.value.allocations[o];
    if (idx === null) return undefined;
    const attr = b.value.attributes[idx];
    if (attr?.releasedAt !== undefined) return undefined; // cooling down: held by nobody (see getCooling)
    return {
      ip: formatIp(ip),
      block: b.value.cidr,
      blockAffinity: b.value.affinity,
      handleId: attr?.handle_id ?? null,
      attrs: { ...(attr?.secondary ?? {}) },
      sequenceNumber: b.value.sequenceNumberForAllocation[String(o)],
    };
  }

  /** The cooling-down state of ip, or undefined when it is not cooling (free, held, or in no block). */
  async getCooling(ipText: string): Promise<CoolingInfo | undefined> {
    const ip = parseIp(ipText);
    const cidr = await this.blockFor(ip, await this.store.listPools());
    if (!cidr) return undefined;
    const [b, cfg] = await Promise.all([this.store.getBlock(cidr), this.store.getConfig()]);
    if (!b) return undefined;
    const o = ordinalOf(b.value, ip);
    const c = coolingOf(b.value).find((x) => x.ordinal === o);
    if (!c) return undefined;
    const released = Date.parse(c.releasedAt);
    const availableAt = Number.isNaN(released)
      ? c.releasedAt
      : new Date(released + cfg.value.ipCooldownSeconds * 1000).toISOString();
    return {
      ip: formatIp(ip),
      block: b.value.cidr,
      handleId: c.handle,
      attrs: c.attrs,
      releasedAt: c.releasedAt,
      availableAt,
    };
  }

  /**
   * Frees the cooled-down addresses of every block (the controllers' backstop for blocks no allocation or release
   * touches): one CAS write per such block; an unaffined block left empty is deleted, an affine one keeps its
   * affinity unless its pool no longer selects the node. Returns how many addresses were freed.
   */
  async reclaimCooledAddresses(): Promise<{ freed: number; blocksDeleted: number }> {
    const out = { freed: 0, blocksDeleted: 0 };
    const [blocks, first] = await Promise.all([this.store.listBlocks(), this.store.getConfig()]);
    let cfg = first;
    for (const listed of blocks) {
      if (reclaimableCount(listed.value, this.now().getTime(), cfg.value.ipCooldownSeconds) === 0) continue;
      let cur: Versioned<AllocationBlock> | undefined = listed;
      for (let attempt = 0; cur; attempt++) {
        if (attempt >= DATASTORE_RETRIES) throw new MaxRetriesError(`freeing cooled addresses of ${listed.value.cidr}`);
        const next = cloneBlock(cur.value);
        const freed = reclaimCooled(next, this.now().getTime(), cfg.value.ipCooldownSeconds);
        if (freed === 0) break;
        const empty = isEmpty(next);
        const drop = empty && !next.affinity;
        if (await this.commitBlock(cur, drop ? 'delete' : next, {}, {}, [configUnchanged(cfg)])) {
          out.freed += freed;
          if (drop) out.blocksDeleted++;
          else if (empty) await this.ensureConsistentAffinity(next);
          break;
        }
        [cur, cfg] = await Promise.all([this.store.getBlock(listed.value.cidr), this.store.getConfig()]);
      }
    }
    return out;
  }

  /** The addresses held by a handle (Calico's IPsByHandle). */
  async ipsByHandle(handleId: string): Promise<string[]> {
    const h = await this.store.getHandle(handleId);
    if (!h) throw new HandleNotFoundError(handleId);
    const out: string[] = [];
    for (const cidr of Object.keys(h.value.block)) {
      const b = await this.store.getBlock(cidr);
      if (b) out.push(...addressesOfHandle(b.value, handleId).map(formatIp));
    }
    return out;
  }

  /** Every allocation of every block (for `ipam show`, `ipam check`, leak GC). */
  async listAllocations(): Promise<AllocationInfo[]> {
    const out: AllocationInfo[] = [];
    for (const b of await this.store.listBlocks()) {
      for (const a of allocationsOf(b.value)) {
        out.push({
          ip: formatIp(a.ip),
          block: b.value.cidr,
          blockAffinity: b.value.affinity,
          handleId: a.handle,
          attrs: a.attrs,
          sequenceNumber: a.sequenceNumber,
        });
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- tunnel addresses

  /**
   * Ensures the node holds one tunnel address of the family under `<kind>-tunnel-addr-<node>` (Calico's allocateip):
   * keeps a current one that still lies in an enabled pool selecting the node, else releases it and assigns anew.
   */
  async ensureTunnelAddress(
    node: string,
    kind: 'vxlan' | 'ipip' | 'wireguard' = 'vxlan',
    family: IpFamily = 4,
  ): Promise<string> {
    const handleId = `${kind}${family === 6 && kind !== 'ipip' ? '-v6' : ''}-tunnel-addr-${node}`;
    const type = {
      vxlan: family === 4 ? 'vxlanTunnelAddress' : 'vxlanV6TunnelAddress',
      ipip: 'ipipTunnelAddress',
      wireguard: family === 4 ? 'wireguardTunnelAddress' : 'wireguardV6TunnelAddress',
    }[kind];
    const current = await this.ipsByHandle(handleId).catch((e) => {
      if (e instanceof HandleNotFoundError) return [] as string[];
      throw e;
    });
    if (current.length === 1) {
      const [pools, labels] = await Promise.all([this.store.listPools(), this.nodeLabels(node)]);
      const pool = poolContaining(pools, parseIp(current[0]));
      if (pool && poolServes(pool) && pool.allowedUses.includes('Tunnel') && this.matcher(pool.nodeSelector, labels)) {
        return current[0];
      }
    }
    if (current.length) await this.releaseByHandle(handleId);
    const res = await this.autoAssign({
      num4: family === 4 ? 1 : 0,
      num6: family === 6 ? 1 : 0,
      handleId,
      attrs: { node, type },
      hostname: node,
      intendedUse: 'Tunnel',
    });
    return (family === 4 ? res.ipv4 : res.ipv6)[0].split('/')[0];
  }

  /** Frees the node's tunnel address of that kind and family, if any. */
  async releaseTunnelAddress(
    node: string,
    kind: 'vxlan' | 'ipip' | 'wireguard' = 'vxlan',
    family: IpFamily = 4,
  ): Promise<void> {
    const handleId = `${kind}${family === 6 && kind !== 'ipip' ? '-v6' : ''}-tunnel-addr-${node}`;
    await this.releaseByHandle(handleId).catch((e) => {
      if (!(e instanceof HandleNotFoundError)) throw e;
    });
  }
}
