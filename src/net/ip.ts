// IPv4/IPv6 address and CIDR maths: parse, canonical text, contains, overlap, split into blocks.
// Addresses are held as bigint so one code path serves both families. Pure: no I/O.
import ipaddr from 'ipaddr.js';

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

export interface Cidr {
  readonly family: IpFamily;
  /** Network address (host bits cleared unless parsed with keepHostBits). */
  readonly address: bigint;
  readonly prefix: number;
}

export const bitsOf = (family: IpFamily): number => (family === 4 ? 32 : 128);

export class IpParseError extends Error {}

function toBigInt(bytes: number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function toBytes(value: bigint, family: IpFamily): number[] {
  const n = family === 4 ? 4 : 16;
  const out = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

/** Parses an IPv4 or IPv6 address (no prefix). Throws IpParseError on bad input. */
export function parseIp(text: string): IpAddress {
  const t = text.trim();
  if (!ipaddr.isValid(t) || (t.includes('.') && !t.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(t))) {
    throw new IpParseError(`invalid IP address "${text}"`);
  }
  const parsed = ipaddr.parse(t);
  if (parsed.kind() === 'ipv4') return { family: 4, value: toBigInt(parsed.toByteArray()) };
  return { family: 6, value: toBigInt(parsed.toByteArray()) };
}

export function isIp(text: string): boolean {
  try {
    parseIp(text);
    return true;
  } catch {
    return false;
  }
}

/** Canonical text: dotted quad for IPv4, RFC 5952 compressed form for IPv6. */
export function formatIp(addr: IpAddress): string {
  const bytes = toBytes(addr.value, addr.family);
  if (addr.family === 4) return bytes.join('.');
  return ipaddr.fromByteArray(bytes).toString();
}

export function hostMask(family: IpFamily, prefix: number): bigint {
  return (1n << BigInt(bitsOf(family) - prefix)) - 1n;
}

/**
 * Parses "addr/prefix" (or a bare address, taken as a host route). With keepHostBits the address is kept as written
 * (for validators that must report host bits); otherwise host bits are cleared.
 */
export function parseCidr(text: string, opts: { keepHostBits?: boolean } = {}): Cidr {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = parseIp(slash < 0 ? t : t.slice(0, slash));
  const bits = bitsOf(addr.family);
  let prefix = bits;
  if (slash >= 0) {
    const p = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) throw new IpParseError(`invalid CIDR "${text}": bad prefix length`);
    prefix = Number(p);
  }
  const address = opts.keepHostBits ? addr.value : addr.value & ~hostMask(addr.family, prefix);
  return { family: addr.family, address, prefix };
}

export function isCidr(text: string): boolean {
  try {
    parseCidr(text);
    return true;
  } catch {
    return false;
  }
}

/** True when the CIDR as written has bits set below its prefix (e.g. 10.0.0.1/24). */
export function hasHostBits(text: string): boolean {
  const c = parseCidr(text, { keepHostBits: true });
  return (c.address & hostMask(c.family, c.prefix)) !== 0n;
}

export function formatCidr(c: Cidr): string {
  return `${formatIp({ family: c.family, value: c.address })}/${c.prefix}`;
}

/** Canonical CIDR text with host bits cleared, e.g. "10.0.0.1/24" -> "10.0.0.0/24". */
export function canonicalCidr(text: string): string {
  return formatCidr(parseCidr(text));
}

export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(bitsOf(c.family) - c.prefix);
}

export function lastAddress(c: Cidr): bigint {
  return c.address | hostMask(c.family, c.prefix);
}

export function cidrContainsIp(c: Cidr, ip: IpAddress): boolean {
  return c.family === ip.family && (ip.value & ~hostMask(c.family, c.prefix)) === c.address;
}

/** True when inner lies entirely inside outer. */
export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    outer.prefix <= inner.prefix &&
    cidrContainsIp(outer, { family: inner.family, value: inner.address })
  );
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && (cidrContainsCidr(a, b) || cidrContainsCidr(b, a));
}

/** The block of the given prefix length that contains ip (ip must be of the pool's family). */
export function blockContaining(ip: IpAddress, blockPrefix: number): Cidr {
  return { family: ip.family, address: ip.value & ~hostMask(ip.family, blockPrefix), prefix: blockPrefix };
}

/** Enumerates the blocks of blockPrefix inside c, in address order. Lazy: a /8 split into /26s is 262,144 blocks. */
export function* splitIntoBlocks(c: Cidr, blockPrefix: number): Generator<Cidr> {
  if (blockPrefix < c.prefix) throw new IpParseError(`block /${blockPrefix} is larger than ${formatCidr(c)}`);
  const step = 1n << BigInt(bitsOf(c.family) - blockPrefix);
  const end = lastAddress(c);
  for (let a = c.address; a <= end; a += step) yield { family: c.family, address: a, prefix: blockPrefix };
}

/** The address at a given offset inside a CIDR. */
export function addressAt(c: Cidr, offset: number | bigint): IpAddress {
  return { family: c.family, value: c.address + BigInt(offset) };
}

/** Offset of ip inside c (caller ensures containment). */
export function offsetOf(c: Cidr, ip: IpAddress): number {
  return Number(ip.value - c.address);
}

export function compareIp(a: IpAddress, b: IpAddress): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** Link-local ranges Calico refuses for pools. */
export const LINK_LOCAL_V4 = parseCidr('169.254.0.0/16');
export const LINK_LOCAL_V6 = parseCidr('fe80::/10');
