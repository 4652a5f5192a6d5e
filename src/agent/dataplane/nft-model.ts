// The nftables objects of `table inet calico` as plain data: chains (base or regular) holding rules, named sets and
// verdict maps. A rule is its nft body text plus a comment; its id is a content hash that is also written into the
// comment, so the rules read back from the kernel can be matched to ours without parsing nft expressions.
import { createHash } from 'node:crypto';

export const TABLE_FAMILY = 'inet';
export const TABLE_NAME = 'calico';
export const TABLE_REF = `${TABLE_FAMILY} ${TABLE_NAME}`;

export type NftHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

export interface NftBaseChainSpec {
  type: 'filter' | 'nat' | 'route';
  hook: NftHook;
  /** Numeric priority: raw -300, mangle -150, dstnat -100, filter 0, srcnat 100. */
  priority: number;
  policy: 'accept' | 'drop';
}

export interface NftRule {
  /** nft rule text without the comment, e.g. `meta l4proto 6 th dport 80 counter accept`. */
  readonly body: string;
  /** Human-readable part of the comment (policy and rule index, or what a structural rule does). */
  readonly note: string;
  /** sha256(body + note), 12 hex chars; appended to the comment as `[<id>]`. */
  readonly id: string;
}

export interface NftChain {
  readonly name: string;
  readonly base?: NftBaseChainSpec;
  readonly rules: readonly NftRule[];
}

export interface NftSet {
  readonly name: string;
  /** nft type expression, e.g. `ipv4_addr` or `ipv4_addr . inet_proto . inet_service`. */
  readonly keyType: string;
  readonly flags: readonly string[];
  /** Canonical element texts (see canonical forms in nft-kernel.ts), sorted, no duplicates. */
  readonly elements: readonly string[];
}

export interface NftVerdictMap {
  readonly name: string;
  readonly keyType: 'ifname';
  /** Key (interface name) -> verdict text (`goto <chain>` / `jump <chain>`). */
  readonly entries: ReadonlyMap<string, string>;
}

/** The whole content of our table, keyed by object name. */
export interface NftTableState {
  chains: Map<string, NftChain>;
  sets: Map<string, NftSet>;
  maps: Map<string, NftVerdictMap>;
}

export const emptyTableState = (): NftTableState => ({ chains: new Map(), sets: new Map(), maps: new Map() });

/** The longest comment nft accepts is 128 bytes; the note is shortened to leave room for the id. */
const MAX_NOTE = 128 - 16;

export function nftRule(body: string, note: string): NftRule {
  const safeNote = note.replace(/["\\\n]/g, "'").slice(0, MAX_NOTE);
  return { body, note: safeNote, id: contentHash(`${body}\0${safeNote}`, 12) };
}

/**
 * A fast 64-bit content hash (two independently seeded 32-bit multiply-xor lanes) as `hexChars` hex digits. Rule ids
 * only need to tell our own rules apart (a cryptographic hash cost ~30% of rendering 10,000 rules).
 */
export function contentHash(text: string, hexChars = 16): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return ((h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0')).slice(0, hexChars);
}

/** The comment written to the kernel for a rule; `ruleIdFromComment` reverses it. */
export const ruleComment = (r: NftRule): string => `${r.note} [${r.id}]`;

export function ruleIdFromComment(comment: string | undefined): string | undefined {
  const m = comment ? /\[([0-9a-f]{12})\]$/.exec(comment) : null;
  return m ? m[1] : undefined;
}

export const ruleLine = (r: NftRule): string => `${r.body} comment "${ruleComment(r)}"`;

const SAFE_NAME = /^[A-Za-z][A-Za-z0-9._/-]*$/;

/**
 * A chain/set/map name nft's parser accepts unquoted (quoted names are not accepted everywhere, e.g. after `goto`).
 * Names with other characters or longer than 200 are replaced by `<prefix>_<hash>` (Felix's length-limited ids).
 */
export function nftName(prefix: string, suffix: string): string {
  const full = prefix + suffix;
  if (SAFE_NAME.test(full) && full.length <= 200 && !/[/.-]$/.test(full)) return full;
  return `${prefix}_${createHash('sha256').update(suffix).digest('base64url').slice(0, 20).replace(/-/g, '_')}`;
}

/** Renders one base/regular chain declaration (no rules) as an `add chain` command. */
export function addChainCommand(chain: NftChain): string {
  if (!chain.base) return `add chain ${TABLE_REF} ${chain.name}`;
  const b = chain.base;
  return `add chain ${TABLE_REF} ${chain.name} { type ${b.type} hook ${b.hook} priority ${b.priority}; policy ${b.policy}; }`;
}

export function addSetCommand(set: NftSet): string {
  const flags = set.flags.length ? ` flags ${set.flags.join(',')};` : '';
  return `add set ${TABLE_REF} ${set.name} { type ${set.keyType};${flags} }`;
}

export function addMapCommand(map: NftVerdictMap): string {
  return `add map ${TABLE_REF} ${map.name} { type ${map.keyType} : verdict; }`;
}

/** Element lines for sets, in chunks so one line never gets huge. */
export function elementCommands(verb: 'add' | 'delete', setName: string, elements: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < elements.length; i += 1000) {
    out.push(`${verb} element ${TABLE_REF} ${setName} { ${elements.slice(i, i + 1000).join(', ')} }`);
  }
  return out;
}

export function mapElementCommands(
  verb: 'add' | 'delete',
  mapName: string,
  entries: readonly [string, string][],
): string[] {
  const out: string[] = [];
  for (let i = 0; i < entries.length; i += 1000) {
    const chunk = entries.slice(i, i + 1000);
    const items = verb === 'add' ? chunk.map(([k, v]) => `"${k}" : ${v}`) : chunk.map(([k]) => `"${k}"`);
    out.push(`${verb} element ${TABLE_REF} ${mapName} { ${items.join(', ')} }`);
  }
  return out;
}

/** The whole state as one readable nft document (used for golden files and for a from-scratch load). */
export function renderTableDocument(state: NftTableState): string {
  const lines: string[] = [`table ${TABLE_REF} {`];
  for (const name of [...state.sets.keys()].sort()) {
    const s = state.sets.get(name)!;
    lines.push(`  set ${s.name} {`, `    type ${s.keyType}`);
    if (s.flags.length) lines.push(`    flags ${s.flags.join(',')}`);
    if (s.elements.length) lines.push(`    elements = { ${s.elements.join(', ')} }`);
    lines.push('  }');
  }
  for (const name of [...state.maps.keys()].sort()) {
    const m = state.maps.get(name)!;
    lines.push(`  map ${m.name} {`, `    type ${m.keyType} : verdict`);
    const entries = [...m.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length) lines.push(`    elements = { ${entries.map(([k, v]) => `"${k}" : ${v}`).join(', ')} }`);
    lines.push('  }');
  }
  for (const name of [...state.chains.keys()].sort()) {
    const c = state.chains.get(name)!;
    lines.push(`  chain ${c.name} {`);
    if (c.base) {
      const b = c.base;
      lines.push(`    type ${b.type} hook ${b.hook} priority ${b.priority}; policy ${b.policy};`);
    }
    for (const r of c.rules) lines.push(`    ${ruleLine(r)}`);
    lines.push('  }');
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}
