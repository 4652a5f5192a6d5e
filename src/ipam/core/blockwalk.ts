// The order a host walks a pool's block CIDRs in when it looks for a block to claim or borrow from: a pseudo-random
// start seeded by the FNV-32 hash of the host name (so a host keeps to one area of the pool), then every block in
// address order, wrapping around. Lazy, so huge IPv6 pools cost only the blocks actually visited. Pure.
import { bitsOf, type Cidr } from '../../net/ip.js';

export function fnv32a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** mulberry32: a small deterministic PRNG; returns uint32 values. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export function blockCount(pool: Cidr, blockPrefix: number): bigint {
  return 1n << BigInt(blockPrefix - pool.prefix);
}

/** The index-th block of blockPrefix inside pool. */
export function blockAt(pool: Cidr, blockPrefix: number, index: bigint): Cidr {
  const step = 1n << BigInt(bitsOf(pool.family) - blockPrefix);
  return { family: pool.family, address: pool.address + index * step, prefix: blockPrefix };
}

/** Start index for host (seed = FNV-32a of the host name; /32 and /128 blocks are seeded by the caller's clock). */
export function startIndex(count: bigint, seed: number): bigint {
  const next = prng(seed);
  let r = 0n;
  for (let i = 0; i < 4; i++) r = (r << 32n) | BigInt(next());
  return r % count;
}

/** Every block CIDR of the pool once, starting at the host's pseudo-random index and wrapping. */
export function* walkBlocks(pool: Cidr, blockPrefix: number, seed: number): Generator<Cidr> {
  const count = blockCount(pool, blockPrefix);
  const start = startIndex(count, seed);
  for (let i = 0n; i < count; i++) yield blockAt(pool, blockPrefix, (start + i) % count);
}
