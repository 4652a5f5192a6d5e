// Named value formats used by the field tables: each checker takes a field's value and returns the reason it is
// invalid, or undefined. The formats follow libcalico-go's validator (CIDRs, durations, selectors, ports, AS numbers).
import { isCidr, isIp, parseCidr, parseIp } from '../net/ip.js';
import { parseSelector, SelectorParseError } from '../selector/index.js';
import { isDns1123Label, isDns1123Subdomain, labelKeyProblem } from './names.js';

export type FormatName =
  | 'cidr'
  | 'ipv4Cidr'
  | 'ipv6Cidr'
  | 'ip'
  | 'ipv4'
  | 'ipv6'
  | 'duration'
  | 'selector'
  | 'namespaceSelector'
  | 'mac'
  | 'resourceName'
  | 'dnsLabel'
  | 'labelKey'
  | 'ifaceName'
  | 'ifaceNameOrStar'
  | 'port'
  | 'portName'
  | 'protocol'
  | 'asNumber'
  | 'regexp'
  | 'community'
  | 'peerIP'
  | 'keyValueList'
  | 'ifaceFilter'
  | 'conntrackTimeout';

export type FormatCheck = (value: string | number) => string | undefined;

// Go's time.ParseDuration syntax: a sequence of decimal numbers with units, or a plain "0".
const DURATION = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$/;
const MAC = /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/;
const IFACE = /^[a-zA-Z0-9_.-]{1,15}$/;

export function checkDuration(v: string | number): string | undefined {
  const s = String(v);
  if (s === '0' || DURATION.test(s)) return undefined;
  return `must be a duration such as "90s", "1m30s" or "500ms", got ${JSON.stringify(s)}`;
}

export const GLOBAL_ONLY_IN_NAMESPACE_SELECTOR = "global() can only be used in a rule's namespaceSelector";

interface SelectorFacts {
  /** Why the selector does not parse (with the position), or undefined. */
  syntax?: string;
  usesGlobal: boolean;
}

// Policies repeat the same selectors many times (all(), the orchestrator term...): parse each text once.
const selectorFacts = new Map<string, SelectorFacts>();
const SELECTOR_CACHE_LIMIT = 4096;

export function selectorFactsOf(text: string): SelectorFacts {
  let facts = selectorFacts.get(text);
  if (!facts) {
    try {
      facts = { usesGlobal: parseSelector(text).usesGlobal() };
    } catch (e) {
      if (!(e instanceof SelectorParseError)) throw e;
      facts = { syntax: `invalid selector: ${e.reason} at position ${e.position}`, usesGlobal: false };
    }
    if (selectorFacts.size >= SELECTOR_CACHE_LIMIT) selectorFacts.clear();
    selectorFacts.set(text, facts);
  }
  return facts;
}

/** Selector syntax; global() is refused unless allowGlobal (a rule's namespaceSelector). */
export function checkSelector(v: string | number, allowGlobal = false): string | undefined {
  const facts = selectorFactsOf(String(v));
  if (facts.syntax) return facts.syntax;
  return !allowGlobal && facts.usesGlobal ? GLOBAL_ONLY_IN_NAMESPACE_SELECTOR : undefined;
}

/** Port name rules (IANA service name, as Kubernetes container port names): 1-15 chars, a-z 0-9 '-', a letter. */
export function portNameProblem(name: string): string | undefined {
  if (name.length > 15) return `port name ${JSON.stringify(name)} is longer than 15 characters`;
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name) || name.includes('--') || !/[a-z]/.test(name)) {
    return `invalid port name ${JSON.stringify(name)}: lower-case letters, digits and single '-' only, with at least one letter`;
  }
  return undefined;
}

/** numorstring.Port: a number 1..65535, a range "min:max", or a named port. */
export function checkPort(v: string | number): string | undefined {
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 1 || v > 65535) return `port must be 1..65535, got ${v}`;
    return undefined;
  }
  const range = /^(\d+):(\d+)$/.exec(v);
  if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    if (lo < 1 || hi > 65535) return `port range ${JSON.stringify(v)} must lie within 1..65535`;
    if (lo > hi) return `port range ${JSON.stringify(v)} is reversed (min greater than max)`;
    return undefined;
  }
  if (/^\d+$/.test(v)) return checkPort(Number(v));
  return portNameProblem(v);
}

export const PROTOCOL_NAMES = ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'SCTP', 'UDPLite'] as const;

/** numorstring.Protocol: a protocol name (any case) or a number 1..255. */
export function checkProtocol(v: string | number): string | undefined {
  if (typeof v === 'number' || /^\d+$/.test(v)) {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 255) return `protocol number must be 1..255, got ${v}`;
    return undefined;
  }
  if (PROTOCOL_NAMES.some((p) => p.toLowerCase() === v.toLowerCase())) return undefined;
  return `must be one of ${PROTOCOL_NAMES.join(', ')} or a number 1..255, got ${JSON.stringify(v)}`;
}

/** numorstring.ASNumber: 1..4294967295 as a number or plain string, or dotted "A.B" with A, B in 0..65535. */
export function parseASNumber(v: string | number): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 1 && v <= 0xffffffff ? v : undefined;
  const dotted = /^(\d{1,5})\.(\d{1,5})$/.exec(v);
  if (dotted) {
    const hi = Number(dotted[1]);
    const lo = Number(dotted[2]);
    if (hi > 0xffff || lo > 0xffff) return undefined;
    const n = hi * 65536 + lo;
    return n >= 1 ? n : undefined;
  }
  if (/^\d{1,10}$/.test(v)) return parseASNumber(Number(v));
  return undefined;
}

function checkAS(v: string | number): string | undefined {
  if (parseASNumber(v) !== undefined) return undefined;
  return `must be an AS number 1..4294967295 or dotted "A.B" (A and B 0..65535), got ${JSON.stringify(v)}`;
}

function family(v: string, fam: 4 | 6, what: 'IP' | 'CIDR'): string | undefined {
  const problem = `must be an IPv${fam} ${what === 'IP' ? 'address' : 'CIDR'}, got ${JSON.stringify(v)}`;
  try {
    return (what === 'IP' ? parseIp(v).family : parseCidr(v).family) === fam ? undefined : problem;
  } catch {
    return problem;
  }
}

/** BGP community: standard "aa:nn" (16-bit each) or large "aa:nn:mm" (32-bit each). */
function checkCommunity(v: string | number): string | undefined {
  const s = String(v);
  const parts = s.split(':');
  const ok =
    (parts.length === 2 && parts.every((p) => /^\d+$/.test(p) && Number(p) <= 0xffff)) ||
    (parts.length === 3 && parts.every((p) => /^\d+$/.test(p) && Number(p) <= 0xffffffff));
  return ok ? undefined : `must be a community "aa:nn" or large community "aa:nn:mm", got ${JSON.stringify(s)}`;
}

/** BGPPeer peerIP: "IP", "IPv4:port" or "[IPv6]:port". */
export function splitPeerIP(s: string): { ip: string; port?: number } | undefined {
  if (isIp(s)) return { ip: s };
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  const v4 = /^([\d.]+):(\d+)$/.exec(s);
  const m = v6 ?? v4;
  if (!m || !isIp(m[1])) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { ip: m[1], port };
}

const IFACE_FILTER = /^[a-zA-Z0-9:._+-]{1,15}$/;
const CONNTRACK_TIMEOUT = /^((\d*(\.\d*)?(ms|s|h|m|us)+)+|Auto)$/;

export const FORMATS: Readonly<Record<FormatName, FormatCheck>> = {
  ifaceFilter: (v) =>
    IFACE_FILTER.test(String(v))
      ? undefined
      : `invalid interface filter ${JSON.stringify(v)}: 1-15 characters of [a-zA-Z0-9:._+-] ('+' is a wildcard)`,
  conntrackTimeout: (v) =>
    CONNTRACK_TIMEOUT.test(String(v)) ? undefined : `must be a duration or "Auto", got ${JSON.stringify(v)}`,
  cidr: (v) => (isCidr(String(v)) ? undefined : `invalid CIDR ${JSON.stringify(v)}`),
  ipv4Cidr: (v) => family(String(v), 4, 'CIDR'),
  ipv6Cidr: (v) => family(String(v), 6, 'CIDR'),
  ip: (v) => (isIp(String(v)) ? undefined : `invalid IP address ${JSON.stringify(v)}`),
  ipv4: (v) => family(String(v), 4, 'IP'),
  ipv6: (v) => family(String(v), 6, 'IP'),
  duration: checkDuration,
  selector: (v) => checkSelector(v),
  namespaceSelector: (v) => checkSelector(v, true),
  mac: (v) => (MAC.test(String(v)) ? undefined : `invalid MAC address ${JSON.stringify(v)}`),
  resourceName: (v) =>
    isDns1123Subdomain(String(v))
      ? undefined
      : `invalid name ${JSON.stringify(v)}: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters`,
  dnsLabel: (v) =>
    isDns1123Label(String(v))
      ? undefined
      : `invalid name ${JSON.stringify(v)}: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters`,
  labelKey: (v) => labelKeyProblem(String(v)),
  ifaceName: (v) =>
    IFACE.test(String(v))
      ? undefined
      : `invalid interface name ${JSON.stringify(v)}: 1-15 characters of [a-zA-Z0-9_.-]`,
  ifaceNameOrStar: (v) =>
    v === '*' || IFACE.test(String(v))
      ? undefined
      : `invalid interface name ${JSON.stringify(v)}: "*" or 1-15 characters of [a-zA-Z0-9_.-]`,
  port: checkPort,
  portName: (v) => portNameProblem(String(v)),
  protocol: checkProtocol,
  asNumber: checkAS,
  regexp: (v) => {
    try {
      new RegExp(String(v));
      return undefined;
    } catch {
      return `invalid regular expression ${JSON.stringify(v)}`;
    }
  },
  community: checkCommunity,
  peerIP: (v) =>
    splitPeerIP(String(v)) ? undefined : `must be an IP, "IPv4:port" or "[IPv6]:port", got ${JSON.stringify(v)}`,
  keyValueList: (v) =>
    /^([a-zA-Z0-9_-]+=[^=,]*,)*([a-zA-Z0-9_-]+=[^=,]*)?$/.test(String(v))
      ? undefined
      : `must be a comma-separated list of key=value, got ${JSON.stringify(v)}`,
};
