// IP pools as IPAM sees them (read straight from the v3 IPPool JSON, with Calico's defaults) and pool choice for one
// request: named pools (annotation / CNI config) used whatever their selectors, else every enabled Automatic pool whose
// nodeSelector and namespaceSelector match, then allowedUses. Errors name every pool tried and why it did not fit.
import {
  parseCidr,
  formatCidr,
  cidrContainsIp,
  cidrsOverlap,
  isCidr,
  type Cidr,
  type IpAddress,
  type IpFamily,
} from '../../net/ip.js';

export type IntendedUse = 'Workload' | 'Tunnel' | 'LoadBalancer';

export interface IpamPool {
  name: string;
  cidr: Cidr;
  /** Canonical CIDR text. */
  cidrText: string;
  blockSize: number;
  disabled: boolean;
  nodeSelector: string;
  namespaceSelector: string;
  allowedUses: IntendedUse[];
  assignmentMode: 'Automatic' | 'Manual';
  ipipMode: string;
  vxlanMode: string;
  /** Being deleted (metadata.deletionTimestamp): serves no new addresses. */
  terminating: boolean;
}

export class PoolDecodeError extends Error {}

/** Builds the IPAM view of a v3 IPPool resource, applying Calico's defaults. */
export function poolFromResource(res: any): IpamPool {
  const name = res?.metadata?.name;
  const spec = res?.spec ?? {};
  if (typeof name !== 'string' || !name) throw new PoolDecodeError('IPPool: metadata.name is missing');
  if (typeof spec.cidr !== 'string' || !isCidr(spec.cidr)) {
    throw new PoolDecodeError(`IPPool "${name}": spec.cidr "${spec.cidr}" is not a CIDR`);
  }
  const cidr = parseCidr(spec.cidr);
  const blockSize = typeof spec.blockSize === 'number' ? spec.blockSize : cidr.family === 4 ? 26 : 122;
  return {
    name,
    cidr,
    cidrText: formatCidr(cidr),
    blockSize,
    disabled: spec.disabled === true,
    nodeSelector: typeof spec.nodeSelector === 'string' && spec.nodeSelector.trim() ? spec.nodeSelector : 'all()',
    namespaceSelector: typeof spec.namespaceSelector === 'string' ? spec.namespaceSelector.trim() : '',
    allowedUses: Array.isArray(spec.allowedUses) && spec.allowedUses.length ? spec.allowedUses : ['Workload', 'Tunnel'],
    assignmentMode: spec.assignmentMode === 'Manual' ? 'Manual' : 'Automatic',
    ipipMode: spec.ipipMode || 'Never',
    vxlanMode: spec.vxlanMode || 'Never',
    terminating: Boolean(res?.metadata?.deletionTimestamp),
  };
}

export const poolServes = (p: IpamPool): boolean => !p.disabled && !p.terminating;

export function poolContaining(pools: IpamPool[], ip: IpAddress): IpamPool | undefined {
  return pools.find((p) => cidrContainsIp(p.cidr, ip));
}

/** Matches a Calico selector expression against labels (injected: the selector engine lives in src/selector). */
export type SelectorMatcher = (selector: string, labels: Record<string, string>) => boolean;

export interface PoolChoiceRequest {
  family: IpFamily;
  /** Pool names or CIDRs the request insists on (annotation or CNI config); empty/undefined = choose by selectors. */
  named?: string[];
  nodeName: string;
  nodeLabels: Record<string, string>;
  /** Namespace of the workload; undefined for non-Kubernetes requests. */
  namespace?: { name: string; labels: Record<string, string> };
  intendedUse: IntendedUse;
}

export class PoolChoiceError extends Error {
  constructor(
    message: string,
    /** Pool -> why it was not usable. */
    readonly reasons: Record<string, string>,
  ) {
    super(message);
    this.name = 'PoolChoiceError';
  }
}

function describe(reasons: Record<string, string>): string {
  const entries = Object.entries(reasons);
  return entries.length ? entries.map(([p, why]) => `${p}: ${why}`).join('; ') : 'no pools of this family exist';
}

/** Resolves a name or CIDR to a pool of the family; throws naming the entry when it does not exist. */
export function resolveNamedPool(pools: IpamPool[], ref: string, family: IpFamily): IpamPool {
  let pool: IpamPool | undefined;
  if (isCidr(ref)) {
    const c = parseCidr(ref);
    pool = pools.find((p) => p.cidr.family === c.family && p.cidr.address === c.address && p.cidr.prefix === c.prefix);
  } else {
    pool = pools.find((p) => p.name === ref);
  }
  if (!pool) {
    throw new PoolChoiceError(`the given pool (${ref}) does not exist, or is not enabled`, { [ref]: 'does not exist' });
  }
  if (pool.cidr.family !== family) {
    throw new PoolChoiceError(`the given pool (${ref}) is not an IPv${family} pool`, {
      [ref]: `is IPv${pool.cidr.family}`,
    });
  }
  return pool;
}

/** The pools this request may draw from, in a stable order (by name). */
export function choosePools(all: IpamPool[], req: PoolChoiceRequest, matches: SelectorMatcher): IpamPool[] {
  const reasons: Record<string, string> = {};
  const family = all.filter((p) => p.cidr.family === req.family).sort((a, b) => a.name.localeCompare(b.name));
  let candidates: IpamPool[];
  if (req.named && req.named.length) {
    candidates = [];
    for (const ref of req.named) {
      const pool = resolveNamedPool(family, ref, req.family);
      if (!poolServes(pool)) {
        throw new PoolChoiceError(`the given pool (${ref}) does not exist, or is not enabled`, {
          [`${pool.name} (${pool.cidrText})`]: pool.disabled ? 'disabled' : 'being deleted',
        });
      }
      if (!candidates.includes(pool)) candidates.push(pool);
    }
  } else {
    candidates = [];
    for (const p of family) {
      const id = `${p.name} (${p.cidrText})`;
      if (p.disabled) reasons[id] = 'disabled';
      else if (p.terminating) reasons[id] = 'being deleted';
      else if (p.assignmentMode === 'Manual') reasons[id] = 'assignmentMode Manual (only used when named)';
      else if (!matches(p.nodeSelector, req.nodeLabels)) {
        reasons[id] = `nodeSelector "${p.nodeSelector}" does not match node ${req.nodeName}`;
      } else if (p.namespaceSelector && !req.namespace) {
        reasons[id] = `namespaceSelector "${p.namespaceSelector}" set but the request has no namespace`;
      } else if (p.namespaceSelector && !matches(p.namespaceSelector, req.namespace!.labels)) {
        reasons[id] = `namespaceSelector "${p.namespaceSelector}" does not match namespace ${req.namespace!.name}`;
      } else candidates.push(p);
    }
    if (candidates.length === 0) {
      throw new PoolChoiceError(
        `no configured Calico pools for node ${req.nodeName} (IPv${req.family}; ${describe(reasons)})`,
        reasons,
      );
    }
  }
  const usable = candidates.filter((p) => {
    if (p.allowedUses.includes(req.intendedUse)) return true;
    reasons[`${p.name} (${p.cidrText})`] = `allowedUses [${p.allowedUses.join(', ')}] excludes ${req.intendedUse}`;
    return false;
  });
  if (usable.length === 0) {
    throw new PoolChoiceError(
      `no IPv${req.family} pool allows use ${req.intendedUse} for node ${req.nodeName} (${describe(reasons)})`,
      reasons,
    );
  }
  return usable;
}

/** A write-time refusal of a pool: the field and the reason. */
export interface PoolPlacementProblem {
  path: string;
  reason: string;
}

/**
 * Calico's checks of a pool being created or updated against what else exists (clientv3 ippool.go): its CIDR
 * overlaps no other pool, and no existing block inside it has another size than the pool's blockSize.
 */
export function poolPlacementProblems(
  pool: { name: string; cidr: Cidr; blockSize: number },
  others: { name: string; cidr: Cidr; cidrText: string }[],
  blockCidrs: Cidr[],
): PoolPlacementProblem[] {
  const out: PoolPlacementProblem[] = [];
  for (const o of others) {
    if (o.name === pool.name || o.cidr.family !== pool.cidr.family) continue;
    if (cidrsOverlap(o.cidr, pool.cidr)) {
      out.push({
        path: 'spec.cidr',
        reason: `IPPool(${pool.name}) CIDR overlaps with IPPool(${o.name}) CIDR ${o.cidrText}`,
      });
    }
  }
  for (const b of blockCidrs) {
    if (b.family !== pool.cidr.family || b.prefix === pool.blockSize) continue;
    if (cidrsOverlap(pool.cidr, b)) {
      out.push({
        path: 'spec.blockSize',
        reason: `existing IPAM block ${formatCidr(b)} overlaps the pool's CIDR and is not a /${pool.blockSize} block; delete its allocations first or keep blockSize ${b.prefix}`,
      });
      break;
    }
  }
  return out;
}
