// Reads `nft -j list table inet calico` back into an NftTableState, so the driver can diff what the kernel really
// holds against what is desired (start-up adoption and periodic resync). Rules are recognised by the id in their
// comment; a content fingerprint per id (the kernel's JSON of the rule, counters zeroed) catches a rule that was
// altered in place while keeping its comment. Set elements are brought to the canonical text forms used when writing.
import { formatIp, parseCidr } from '../../net/ip.js';
import { PROTOCOL_NUMBERS } from '../calc/model.js';
import {
  TABLE_NAME,
  ruleIdFromComment,
  type NftBaseChainSpec,
  type NftChain,
  type NftRule,
  type NftSet,
  type NftTableState,
  type NftVerdictMap,
} from './nft-model.js';

/** Canonical element text of an address or CIDR: host bits cleared, host routes without the prefix length. */
export function canonicalAddressElement(text: string): string {
  const c = parseCidr(text);
  const addr = formatIp({ family: c.family, value: c.address });
  return c.prefix === (c.family === 4 ? 32 : 128) ? addr : `${addr}/${c.prefix}`;
}

const PROTO_BY_NAME: Record<string, number> = {
  ...PROTOCOL_NUMBERS,
  'ipv6-icmp': 58,
  'udp-lite': 136,
};

/** Remembers, per rule id, the kernel's JSON of that rule; a later mismatch means the rule was altered. */
export class RuleFingerprints {
  private readonly byId = new Map<string, string>();
  /** Returns false when the id was seen before with different content. */
  check(id: string, fingerprint: string): boolean {
    const known = this.byId.get(id);
    if (known === undefined) {
      this.byId.set(id, fingerprint);
      return true;
    }
    return known === fingerprint;
  }
  /** Forgets ids not present in the latest listing (keeps the memory bounded). */
  retainOnly(ids: Set<string>): void {
    for (const id of this.byId.keys()) if (!ids.has(id)) this.byId.delete(id);
  }
}

export interface KernelReadResult {
  /** undefined when the table does not exist. */
  state: NftTableState | undefined;
  /** Rules whose content no longer matched their id. */
  alteredRules: number;
  /** Rules without one of our ids in their comment. */
  foreignRules: number;
}

function elementText(e: unknown): string {
  if (typeof e === 'string') return /^[0-9a-fA-F.:]+$/.test(e) && /[.:]/.test(e) ? canonicalAddressElement(e) : e;
  if (typeof e === 'number') return String(e);
  if (e && typeof e === 'object') {
    const o = e as Record<string, any>;
    if (o.elem) return elementText(o.elem.val);
    if (o.prefix) return canonicalAddressElement(`${o.prefix.addr}/${o.prefix.len}`);
    if (o.range) return `${elementText(o.range[0])}-${elementText(o.range[1])}`;
    if (o.concat) {
      return (o.concat as unknown[])
        .map((part, i) => (i === 1 && typeof part === 'string' && part in PROTO_BY_NAME ? PROTO_BY_NAME[part] : part))
        .map(elementText)
        .join(' . ');
    }
  }
  return JSON.stringify(e);
}

function verdictText(v: unknown): string {
  if (v && typeof v === 'object') {
    const o = v as Record<string, any>;
    if (o.goto) return `goto ${o.goto.target}`;
    if (o.jump) return `jump ${o.jump.target}`;
    const k = Object.keys(o)[0];
    if (k) return k;
  }
  return String(v);
}

const zeroCounters = (_key: string, value: unknown): unknown =>
  value && typeof value === 'object' && 'packets' in value && 'bytes' in value ? { packets: 0, bytes: 0 } : value;

export function parseKernelTable(jsonText: string, fingerprints: RuleFingerprints): KernelReadResult {
  const doc = JSON.parse(jsonText) as { nftables?: Record<string, any>[] };
  const items = doc.nftables ?? [];
  const state: NftTableState = { chains: new Map(), sets: new Map(), maps: new Map() };
  const chainRules = new Map<string, NftRule[]>();
  const chainBase = new Map<string, NftBaseChainSpec | undefined>();
  let found = false;
  let alteredRules = 0;
  let foreignRules = 0;
  const seenIds = new Set<string>();
  for (const item of items) {
    if (item.table && item.table.name === TABLE_NAME) found = true;
    if (item.chain) {
      const c = item.chain;
      chainBase.set(
        c.name,
        c.hook ? { type: c.type, hook: c.hook, priority: Number(c.prio), policy: c.policy ?? 'accept' } : undefined,
      );
      chainRules.set(c.name, []);
    } else if (item.rule) {
      const r = item.rule;
      const id = ruleIdFromComment(r.comment);
      let ruleId: string;
      if (!id) {
        foreignRules++;
        ruleId = `foreign:${r.handle}`;
      } else if (!fingerprints.check(id, JSON.stringify(r.expr, zeroCounters))) {
        alteredRules++;
        ruleId = `altered:${r.handle}`;
      } else {
        ruleId = id;
        seenIds.add(id);
      }
      chainRules.get(r.chain)?.push({ body: '', note: '', id: ruleId });
    } else if (item.set) {
      const s = item.set;
      const keyType = Array.isArray(s.type) ? s.type.join(' . ') : String(s.type);
      const elements = [...new Set(((s.elem as unknown[]) ?? []).map(elementText))].sort();
      const set: NftSet = { name: s.name, keyType, flags: (s.flags as string[]) ?? [], elements };
      state.sets.set(s.name, set);
    } else if (item.map) {
      const m = item.map;
      const entries = new Map<string, string>();
      for (const e of (m.elem as [unknown, unknown][]) ?? []) entries.set(elementText(e[0]), verdictText(e[1]));
      const map: NftVerdictMap = { name: m.name, keyType: m.type, entries };
      state.maps.set(m.name, map);
    }
  }
  fingerprints.retainOnly(seenIds);
  for (const [name, base] of chainBase) {
    const chain: NftChain = base
      ? { name, base, rules: chainRules.get(name)! }
      : { name, rules: chainRules.get(name)! };
    state.chains.set(name, chain);
  }
  return { state: found ? state : undefined, alteredRules, foreignRules };
}
