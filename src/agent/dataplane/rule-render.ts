// Renders one policy's or profile's compiled rules (calc/model.ts CompiledRule) as the nft rules of its chain.
// In: the rules of one direction and the naming/mark context. Out: NftRule[], each with a counter and a comment
// `<policy id> <direction> rule <n>`. A rule becomes one nft rule per IP family it needs and per alternative of
// Calico's "numeric port OR named port" (nft has no OR inside one rule), exactly as Felix splits iptables rules.
import { parseIp, type IpFamily } from '../../net/ip.js';
import {
  netsOfFamily,
  ruleAppliesToFamily,
  type CompiledRule,
  type IpSetId,
  type MarkBits,
  type PortRange,
} from '../calc/model.js';
import { canonicalAddressElement } from './nft-kernel.js';
import { nftRule, type NftRule } from './nft-model.js';

export interface RuleRenderContext {
  marks: MarkBits;
  /** `drop` or `reject` (FelixConfiguration iptablesFilterDenyAction). */
  denyVerdict: 'drop' | 'reject';
  /** Untracked (doNotTrack) chains add `notrack` to Allow. */
  untracked: boolean;
  ipv6: boolean;
  setName(id: IpSetId, family: IpFamily): string;
}

export const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

const PORT_PROTOCOLS = new Set([6, 17, 132, 136]);

function portList(ranges: readonly PortRange[]): string {
  const items = ranges.map((r) => (r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`));
  return items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`;
}

/**
 * `<kw> X`, `<kw> { X, Y }`, or negated. Small negated lists are written as chained `!=` matches and single values
 * without braces: every anonymous set is a kernel object of its own, which makes large transactions slower.
 */
export function netMatch(kw: string, nets: readonly string[], negate: boolean): string {
  if (nets.length === 1) return `${kw} ${negate ? '!= ' : ''}${nets[0]}`;
  if (negate && nets.length <= 4) return nets.map((n) => `${kw} != ${n}`).join(' ');
  return `${kw} ${negate ? '!= ' : ''}{ ${nets.join(', ')} }`;
}

/** Drops CIDRs covered by another entry (nft refuses overlapping interval elements) and canonicalises them. */
export function coalesceNets(nets: readonly string[]): string[] {
  const parsed = [...new Set(nets.map(canonicalAddressElement))].map((text) => {
    const slash = text.indexOf('/');
    const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
    const bits = ip.family === 4 ? 32 : 128;
    const len = slash < 0 ? bits : Number(text.slice(slash + 1));
    const first = ip.value; // canonical: host bits already clear
    const last = first | ((1n << BigInt(bits - len)) - 1n);
    return { text, family: ip.family, first, last };
  });
  // Sorted by family, then start address, then widest first: a CIDR is covered iff it ends within the last kept one.
  parsed.sort((a, b) =>
    a.family !== b.family
      ? a.family - b.family
      : a.first !== b.first
        ? a.first < b.first
          ? -1
          : 1
        : a.last > b.last
          ? -1
          : 1,
  );
  const kept: typeof parsed = [];
  for (const p of parsed) {
    const prev = kept[kept.length - 1];
    if (prev && prev.family === p.family && p.last <= prev.last) continue;
    kept.push(p);
  }
  return kept.map((k) => k.text).sort();
}

function actionText(rule: CompiledRule, ctx: RuleRenderContext): string {
  switch (rule.action) {
    case 'allow':
      return `${ctx.untracked ? 'notrack ' : ''}meta mark set meta mark | ${hex(ctx.marks.accept)} return`;
    case 'deny':
      return ctx.denyVerdict;
    case 'pass':
      return `meta mark set meta mark | ${hex(ctx.marks.pass)} return`;
    case 'log':
      return `log prefix "${(rule.logPrefix ?? 'calico-packet').replace(/"/g, '')}: "`;
  }
}

/** Whether a rule matches addresses or uses ICMP, i.e. must be rendered per IP family. */
function familySpecific(r: CompiledRule): boolean {
  return (
    r.ipVersion !== undefined ||
    r.icmpType !== undefined ||
    r.notIcmpType !== undefined ||
    r.srcNets.length + r.notSrcNets.length + r.dstNets.length + r.notDstNets.length > 0 ||
    r.srcIpSetIds.length + r.notSrcIpSetIds.length + r.dstIpSetIds.length + r.notDstIpSetIds.length > 0 ||
    r.srcNamedPortIpSetIds.length + r.notSrcNamedPortIpSetIds.length > 0 ||
    r.dstNamedPortIpSetIds.length + r.notDstNamedPortIpSetIds.length > 0
  );
}

/** The "ANY of numeric ports or named ports" alternatives of one side; [] = no port criterion on that side. */
function portAlternatives(
  side: 'src' | 'dst',
  ranges: readonly PortRange[],
  namedSets: readonly IpSetId[],
  rule: CompiledRule,
  family: IpFamily | undefined,
  ctx: RuleRenderContext,
): string[][] {
  const alts: string[][] = [];
  const portKw = side === 'src' ? 'sport' : 'dport';
  const addrKw = side === 'src' ? 'saddr' : 'daddr';
  if (ranges.length) {
    const protoGuard =
      rule.protocol !== undefined && PORT_PROTOCOLS.has(rule.protocol) ? [] : ['meta l4proto { 6, 17, 132, 136 }'];
    alts.push([...protoGuard, `th ${portKw} ${portList(ranges)}`]);
  }
  if (family !== undefined) {
    const ipKw = family === 4 ? 'ip' : 'ip6';
    for (const id of namedSets) {
      alts.push([`${ipKw} ${addrKw} . meta l4proto . th ${portKw} @${ctx.setName(id, family)}`]);
    }
  }
  return alts;
}

function familyMatches(rule: CompiledRule, family: IpFamily, ctx: RuleRenderContext): string[] | undefined {
  const ipKw = family === 4 ? 'ip' : 'ip6';
  const m: string[] = [];
  const nets = (list: readonly string[], kw: string, neg: boolean): boolean => {
    if (!list.length) return true;
    const fam = coalesceNets(netsOfFamily(list, family));
    if (!fam.length) return neg; // positive list without this family: rule cannot match (caller skips)
    m.push(netMatch(`${ipKw} ${kw}`, fam, neg));
    return true;
  };
  if (!nets(rule.srcNets, 'saddr', false) || !nets(rule.dstNets, 'daddr', false)) return undefined;
  nets(rule.notSrcNets, 'saddr', true);
  nets(rule.notDstNets, 'daddr', true);
  for (const id of rule.srcIpSetIds) m.push(`${ipKw} saddr @${ctx.setName(id, family)}`);
  for (const id of rule.notSrcIpSetIds) m.push(`${ipKw} saddr != @${ctx.setName(id, family)}`);
  for (const id of rule.dstIpSetIds) m.push(`${ipKw} daddr @${ctx.setName(id, family)}`);
  for (const id of rule.notDstIpSetIds) m.push(`${ipKw} daddr != @${ctx.setName(id, family)}`);
  for (const id of rule.notSrcNamedPortIpSetIds) {
    m.push(`${ipKw} saddr . meta l4proto . th sport != @${ctx.setName(id, family)}`);
  }
  for (const id of rule.notDstNamedPortIpSetIds) {
    m.push(`${ipKw} daddr . meta l4proto . th dport != @${ctx.setName(id, family)}`);
  }
  const icmpKw = family === 4 ? 'icmp' : 'icmpv6';
  if (rule.icmpType !== undefined) {
    m.push(`${icmpKw} type ${rule.icmpType}`);
    if (rule.icmpCode !== undefined) m.push(`${icmpKw} code ${rule.icmpCode}`);
  }
  if (rule.notIcmpType !== undefined) {
    m.push(
      rule.notIcmpCode !== undefined
        ? `${icmpKw} type . ${icmpKw} code != { ${rule.notIcmpType} . ${rule.notIcmpCode} }`
        : `${icmpKw} type != ${rule.notIcmpType}`,
    );
  }
  return m;
}

/** Renders the rules of one direction of a policy/profile chain. `owner` is the policy or profile id. */
export function renderPolicyRules(
  rules: readonly CompiledRule[],
  owner: string,
  direction: 'inbound' | 'outbound',
  ctx: RuleRenderContext,
): NftRule[] {
  const out: NftRule[] = [];
  for (const rule of rules) {
    const note = `${owner} ${direction} rule ${rule.ruleIndex}`;
    const families: (IpFamily | undefined)[] = familySpecific(rule)
      ? ([4, 6] as IpFamily[]).filter((f) => (f === 4 || ctx.ipv6) && ruleAppliesToFamily(rule, f))
      : [undefined];
    for (const family of families) {
      const base: string[] = [];
      if (family !== undefined) base.push(`meta nfproto ipv${family}`);
      if (rule.protocol !== undefined) base.push(`meta l4proto ${rule.protocol}`);
      if (rule.notProtocol !== undefined) base.push(`meta l4proto != ${rule.notProtocol}`);
      if (family !== undefined) {
        const fm = familyMatches(rule, family, ctx);
        if (!fm) continue;
        base.push(...fm);
      }
      if (rule.notSrcPorts.length) base.push(`th sport != ${portList(rule.notSrcPorts)}`);
      if (rule.notDstPorts.length) base.push(`th dport != ${portList(rule.notDstPorts)}`);
      const srcAlts = portAlternatives('src', rule.srcPorts, rule.srcNamedPortIpSetIds, rule, family, ctx);
      const dstAlts = portAlternatives('dst', rule.dstPorts, rule.dstNamedPortIpSetIds, rule, family, ctx);
      // A side whose only alternatives were named-port sets of another family cannot match.
      const hasSrc = rule.srcPorts.length + rule.srcNamedPortIpSetIds.length > 0;
      const hasDst = rule.dstPorts.length + rule.dstNamedPortIpSetIds.length > 0;
      if ((hasSrc && !srcAlts.length) || (hasDst && !dstAlts.length)) continue;
      for (const s of srcAlts.length ? srcAlts : [[]]) {
        for (const d of dstAlts.length ? dstAlts : [[]]) {
          const matches = [...base, ...s, ...d];
          const body = `${matches.length ? matches.join(' ') + ' ' : ''}counter ${actionText(rule, ctx)}`;
          out.push(nftRule(body, note));
        }
      }
    }
  }
  return out;
}
