import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr, parseIp, formatIp } from '../../net/ip.js';
import {
  assignFromBlock,
  assignSpecific,
  blockProblems,
  cloneBlock,
  decodeBlock,
  encodeBlock,
  newBlock,
  releaseFromBlock,
  releaseHandleFromBlock,
  AddressInUseError,
  ReleaseConflictError,
  coolingCount,
  isEmptyOnceCooled,
  reclaimableCount,
  reclaimCooled,
} from './block.js';
import { adjustHandle, decodeAffinity, decodeIpamConfig, effectiveBlockLimit, DEFAULT_IPAM_CONFIG } from './records.js';
import { walkBlocks, fnv32a } from './blockwalk.js';
import { resolvePoolLists, parseIpAddrs, AnnotationError } from './annotations.js';

const block = () => newBlock(parseCidr('10.0.0.0/29'), 'host:n1', '2026-01-01T00:00:00.000Z', 1712345678901234567n);

test('a new block: all ordinals free in order, Calico field names, exact 64-bit sequence number', () => {
  const b = block();
  const json = encodeBlock(b);
  assert.equal(
    json,
    '{"cidr":"10.0.0.0/29","affinity":"host:n1","affinity_claim_time":"2026-01-01T00:00:00.000Z","strictAffinity":false,' +
      '"allocations":[null,null,null,null,null,null,null,null],"unallocated":[0,1,2,3,4,5,6,7],"attributes":[],' +
      '"deleted":false,"sequenceNumber":1712345678901234567,"sequenceNumberForAllocation":{}}',
  );
  assert.deepEqual(decodeBlock(json), b);
});

test('allocation pops from the front, skips reserved addresses in place, shares identical attributes', () => {
  const b = block();
  const reserved = (ip: { value: bigint }) => ip.value === parseIp('10.0.0.1').value;
  const got = assignFromBlock(b, 2, 'h1', { node: 'n1' }, reserved).map(formatIp);
  assert.deepEqual(got, ['10.0.0.0', '10.0.0.2']);
  assert.deepEqual(b.unallocated, [1, 3, 4, 5, 6, 7]);
  assignFromBlock(b, 1, 'h1', { node: 'n1' }, reserved);
  assert.equal(b.attributes.length, 1, 'same handle and attributes share one entry');
  assert.equal(b.sequenceNumberForAllocation['0'], 1712345678901234567n);
});

test('release appends to the end (FIFO), compacts attributes, and checks handle and sequence number', () => {
  const b = block();
  assignFromBlock(b, 1, 'h1', { pod: 'a' });
  assignFromBlock(b, 1, 'h2', { pod: 'b' });
  assert.throws(() => releaseFromBlock(b, [{ ip: parseIp('10.0.0.0'), handle: 'h2' }]), ReleaseConflictError);
  assert.throws(() => releaseFromBlock(b, [{ ip: parseIp('10.0.0.0'), sequenceNumber: 5n }]), ReleaseConflictError);
  const r = releaseFromBlock(b, [{ ip: parseIp('10.0.0.0'), handle: 'h1' }, { ip: parseIp('10.0.0.5') }]);
  assert.deepEqual(
    r.released.map((x) => x.handle),
    ['h1'],
  );
  assert.deepEqual(r.unallocated.map(formatIp), ['10.0.0.5']);
  assert.deepEqual(b.unallocated, [2, 3, 4, 5, 6, 7, 0]);
  assert.deepEqual(b.attributes, [{ handle_id: 'h2', secondary: { pod: 'b' } }]);
  assert.deepEqual(b.allocations.slice(0, 2), [null, 0]);
  assert.deepEqual(blockProblems(b), []);
  assert.equal(releaseHandleFromBlock(b, 'h2'), 1);
  assignSpecific(b, parseIp('10.0.0.3'), 'x', null);
  assert.throws(() => assignSpecific(b, parseIp('10.0.0.3'), 'y', null), AddressInUseError);
});

test('block validation finds what ipam check counts as an invalid block', () => {
  const b = block();
  assignFromBlock(b, 1, 'h', null);
  b.unallocated.push(0);
  b.attributes.push({ handle_id: 'orphan', secondary: null });
  const p = blockProblems(b);
  assert.ok(p.some((x) => /both allocated and unallocated/.test(x)));
  assert.ok(p.some((x) => /attribute 1 is referenced by no allocation/.test(x)));
});

test('handles, affinities and the IPAM config decode as Calico writes them', () => {
  assert.deepEqual(adjustHandle({ block: { 'a/26': 1 }, deleted: false }, 'a/26', -1), { block: {}, deleted: false });
  assert.deepEqual(decodeAffinity(''), { state: 'confirmed', deleted: false });
  assert.deepEqual(decodeAffinity('{"state":"pending","deleted":false}'), { state: 'pending', deleted: false });
  assert.deepEqual(decodeIpamConfig(undefined), DEFAULT_IPAM_CONFIG);
  assert.equal(decodeIpamConfig('{"strict_affinity":true}').autoAllocateBlocks, false);
  assert.equal(effectiveBlockLimit(0, DEFAULT_IPAM_CONFIG), 20);
  assert.equal(effectiveBlockLimit(0, { ...DEFAULT_IPAM_CONFIG, maxBlocksPerHost: 2 }), 2);
  assert.equal(effectiveBlockLimit(1, { ...DEFAULT_IPAM_CONFIG, maxBlocksPerHost: 5 }), 1);
});

test('the block walk visits every block once from a host-seeded start', () => {
  const pool = parseCidr('10.0.0.0/24');
  const a = [...walkBlocks(pool, 26, fnv32a('node-a'))].map((c) => c.address);
  assert.equal(new Set(a).size, 4);
  assert.deepEqual(
    [...walkBlocks(pool, 26, fnv32a('node-a'))].map((c) => c.address),
    a,
    'deterministic per host',
  );
  const big = walkBlocks(parseCidr('fd00::/48'), 122, fnv32a('x'));
  assert.equal(big.next().value!.prefix, 122, 'huge IPv6 pools are walked lazily');
});

test('pool annotations: pod over namespace over CNI config; malformed values name the annotation', () => {
  const r = resolvePoolLists(
    [
      { owner: 'pod d/p', annotations: {} },
      { owner: 'namespace d', annotations: { 'cni.projectcalico.org/ipv4pools': '["ns-pool"]' } },
    ],
    { ipv4_pools: ['cfg'], ipv6_pools: ['cfg6'] },
  );
  assert.deepEqual([r.ipv4Pools, r.ipv6Pools], [['ns-pool'], ['cfg6']]);
  assert.throws(
    () => resolvePoolLists([{ owner: 'pod d/p', annotations: { 'cni.projectcalico.org/ipv4pools': 'pool-a' } }], {}),
    (e: Error) => e instanceof AnnotationError && /cni\.projectcalico\.org\/ipv4pools on pod d\/p/.test(e.message),
  );
  assert.throws(() => parseIpAddrs('pod d/p', '["10.0.0.1","10.0.0.2"]'), /more than one IPv4/);
  assert.throws(() => parseIpAddrs('pod d/p', '["nope"]'), /"nope" is not an IP address/);
});

test('cloneBlock: the same block as a JSON round trip, sharing nothing with the original', () => {
  const b = block();
  assignFromBlock(b, 2, 'h1', { node: 'n1', pod: 'p' });
  assignFromBlock(b, 1, null, null);
  releaseFromBlock(b, [{ ip: parseIp('10.0.0.0') }]);
  const before = encodeBlock(b);
  const c = cloneBlock(b);
  assert.deepEqual(c, decodeBlock(before));
  assert.equal(encodeBlock(c), encodeBlock(b));
  assignFromBlock(c, 3, 'h2', { node: 'n2' });
  c.attributes[0]!.secondary!.pod = 'changed';
  c.sequenceNumberForAllocation['1'] = 7n;
  assert.equal(encodeBlock(b), before, 'the original is untouched');
  assert.notEqual(encodeBlock(c), encodeBlock(b));
  assert.equal(b.attributes.find((a) => a.handle_id === 'h1')?.secondary?.pod, 'p');
});

test('cooldown: a release marks the ordinal released (same owner, not shared with live ones); reclaimCooled frees it in release order', () => {
  const b = block();
  const ips = assignFromBlock(b, 3, 'h1', { pod: 'a' }); // ordinals 0, 1, 2 share one attribute
  releaseFromBlock(b, [{ ip: ips[1] }], '2026-01-01T00:00:10.000Z');
  releaseFromBlock(b, [{ ip: ips[0] }], '2026-01-01T00:00:05.000Z');
  assert.deepEqual(b.attributes, [
    { handle_id: 'h1', secondary: { pod: 'a' } },
    { handle_id: 'h1', secondary: { pod: 'a' }, releasedAt: '2026-01-01T00:00:10.000Z' },
    { handle_id: 'h1', secondary: { pod: 'a' }, releasedAt: '2026-01-01T00:00:05.000Z' },
  ]);
  assert.deepEqual(b.allocations.slice(0, 3), [2, 1, 0]);
  assert.deepEqual(b.unallocated, [3, 4, 5, 6, 7]);
  assert.equal(coolingCount(b), 2);
  assert.deepEqual(blockProblems(b, Date.parse('2026-01-01T00:00:10Z')), []);
  // A new allocation of the same owner gets a live attribute entry, never a cooling one.
  const more = assignFromBlock(b, 1, 'h1', { pod: 'a' });
  assert.equal(b.attributes[b.allocations[3]!]!.releasedAt, undefined);
  assert.equal(formatIp(more[0]), '10.0.0.3');
  // The JSON carries releasedAt on the attribute; decoding and cloning keep it.
  assert.match(
    encodeBlock(b),
    /"attributes":\[\{"handle_id":"h1","secondary":\{"pod":"a"\}\},\{"handle_id":"h1","secondary":\{"pod":"a"\},"releasedAt":"2026-01-01T00:00:10.000Z"\}/,
  );
  assert.deepEqual(decodeBlock(encodeBlock(b)), b);
  assert.deepEqual(cloneBlock(b), b);

  const at = (s: string) => Date.parse(`2026-01-01T00:00:${s}Z`);
  assert.equal(reclaimableCount(b, at('34'), 30), 0);
  assert.equal(isEmptyOnceCooled(b, at('45'), 30), false, 'ordinals 2 and 3 are held');
  assert.equal(reclaimCooled(b, at('35'), 30), 1, 'the one released at :05');
  assert.deepEqual(b.unallocated, [4, 5, 6, 7, 0]);
  assert.equal(reclaimCooled(b, at('40'), 30), 1);
  assert.deepEqual(b.unallocated, [4, 5, 6, 7, 0, 1]);
  assert.equal(coolingCount(b), 0);
  assert.deepEqual(blockProblems(b), []);
});

test('cooldown: releasing a cooling address again reports it unallocated; a releasedAt in the future is a block problem', () => {
  const b = block();
  const [ip] = assignFromBlock(b, 1, 'h1', null);
  releaseFromBlock(b, [{ ip }], '2026-01-01T00:10:00.000Z');
  assert.deepEqual(releaseFromBlock(b, [{ ip, handle: 'h1' }], '2026-01-01T00:11:00.000Z').unallocated, [ip]);
  assert.deepEqual(releaseHandleFromBlock(b, 'h1', '2026-01-01T00:11:00.000Z'), 0);
  assert.deepEqual(blockProblems(b, Date.parse('2026-01-01T00:09:00Z')), [], 'within the clock skew allowance');
  assert.deepEqual(blockProblems(b, Date.parse('2026-01-01T00:08:00Z')), [
    'block 10.0.0.0/29: attribute 0 has releasedAt 2026-01-01T00:10:00.000Z in the future',
  ]);
});
