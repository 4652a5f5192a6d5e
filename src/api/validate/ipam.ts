// Validates the IPAM kinds: IPPool (masking, block size, link-local, encapsulation, allowed uses, selectors),
// BlockAffinity. Runs on the object with create-time defaults applied, as Calico's client does.
import { cidrsOverlap, hasHostBits, LINK_LOCAL_V4, LINK_LOCAL_V6, parseCidr, type Cidr } from '../../net/ip.js';
import type { ProblemSink } from '../problems.js';
import { asArray, asNumber, asString } from './values.js';

export const BLOCK_SIZE_RANGE = { 4: [20, 32], 6: [116, 128] } as const;

export function validateIPPool(
  spec: Record<string, unknown>,
  sink: ProblemSink,
  _name = '',
  written: Record<string, unknown> = spec,
): void {
  const text = asString(spec.cidr);
  let cidr: Cidr | undefined;
  if (text) {
    try {
      cidr = parseCidr(text);
    } catch {
      sink.add('spec.cidr', `invalid CIDR ${JSON.stringify(text)}`);
    }
  }
  if (cidr && text) {
    const fam = cidr.family;
    if (hasHostBits(text))
      sink.add('spec.cidr', `IP pool CIDR ${JSON.stringify(text)} is not strictly masked (host bits set)`);
    const linkLocal = fam === 4 ? LINK_LOCAL_V4 : LINK_LOCAL_V6;
    if (cidrsOverlap(cidr, linkLocal)) {
      sink.add(
        'spec.cidr',
        `IP pool range overlaps with the IPv${fam} link-local range ${fam === 4 ? '169.254.0.0/16' : 'fe80::/10'}`,
      );
    }
    const blockSize = asNumber(spec.blockSize);
    if (blockSize !== undefined && Number.isInteger(blockSize)) {
      const [lo, hi] = BLOCK_SIZE_RANGE[fam];
      if (blockSize < lo || blockSize > hi) {
        sink.add('spec.blockSize', `must be ${lo}..${hi} for an IPv${fam} pool, got ${blockSize}`);
      } else if (spec.disabled !== true && cidr.prefix > blockSize) {
        sink.add(
          'spec.cidr',
          `IP pool /${cidr.prefix} is smaller than its block size /${blockSize}; the pool must be at least one block unless disabled`,
        );
      }
    }
    if (fam === 6 && spec.ipipMode !== undefined && spec.ipipMode !== 'Never' && spec.ipipMode !== '') {
      sink.add('spec.ipipMode', 'IPIP is not supported on an IPv6 pool; use Never');
    }
  }
  const ipip = spec.ipipMode ?? 'Never';
  const vxlan = spec.vxlanMode ?? 'Never';
  const encapOn = (m: unknown) => m === 'Always' || m === 'CrossSubnet';
  if (encapOn(ipip) && encapOn(vxlan)) {
    sink.add(
      'spec.vxlanMode',
      'IPIP and VXLAN cannot both be enabled on one pool (set ipipMode or vxlanMode to Never)',
    );
  }

  const uses = asArray(spec.allowedUses).filter((u): u is string => typeof u === 'string');
  if (new Set(uses).size !== uses.length) sink.add('spec.allowedUses', 'contains duplicates');
  if (uses.includes('LoadBalancer')) {
    if (uses.length > 1) sink.add('spec.allowedUses', 'LoadBalancer cannot be combined with other uses');
    if (encapOn(ipip) || encapOn(vxlan)) sink.add('spec.allowedUses', 'a LoadBalancer pool cannot use IPIP or VXLAN');
    const ns = asString(spec.nodeSelector);
    if (ns && ns.replace(/\s+/g, '') !== 'all()')
      sink.add('spec.nodeSelector', 'must be all() for a LoadBalancer pool');
    if (spec.disableBGPExport === true) sink.add('spec.disableBGPExport', 'cannot be true for a LoadBalancer pool');
  }
  // Only an explicit Tunnel use conflicts: the default [Workload, Tunnel] must not refuse a namespaced pool.
  const writtenUses = asArray(written.allowedUses);
  if (writtenUses.includes('Tunnel') && asString(spec.namespaceSelector)) {
    sink.add('spec.namespaceSelector', 'a pool with allowedUses Tunnel cannot have a namespaceSelector');
  }
}

export function validateBlockAffinity(spec: Record<string, unknown>, sink: ProblemSink): void {
  if (spec.deleted === true || spec.deleted === 'true') sink.add('spec.deleted', 'cannot be set to true');
  else if (spec.deleted !== undefined && spec.deleted !== false && spec.deleted !== 'false' && spec.deleted !== null) {
    sink.add('spec.deleted', `must be true or false, got ${JSON.stringify(spec.deleted)}`);
  }
}
