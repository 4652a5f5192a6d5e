import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr } from '../../net/ip.js';
import { poolPlacementProblems } from './pool.js';

const pool = (name: string, cidr: string) => ({ name, cidr: parseCidr(cidr), cidrText: cidr });

test("a pool overlapping another is refused with Calico's words; itself, other families and neighbours are fine", () => {
  const others = [pool('a', '10.1.0.0/16'), pool('v6', 'fd00::/64'), pool('b', '10.2.0.0/24')];
  assert.deepEqual(poolPlacementProblems({ name: 'b', cidr: parseCidr('10.2.0.0/24'), blockSize: 26 }, others, []), []);
  assert.deepEqual(poolPlacementProblems({ name: 'c', cidr: parseCidr('10.3.0.0/16'), blockSize: 26 }, others, []), []);
  assert.deepEqual(poolPlacementProblems({ name: 'c', cidr: parseCidr('10.1.5.0/24'), blockSize: 26 }, others, []), [
    { path: 'spec.cidr', reason: 'IPPool(c) CIDR overlaps with IPPool(a) CIDR 10.1.0.0/16' },
  ]);
  assert.deepEqual(poolPlacementProblems({ name: 'd', cidr: parseCidr('10.0.0.0/8'), blockSize: 26 }, others, []), [
    { path: 'spec.cidr', reason: 'IPPool(d) CIDR overlaps with IPPool(a) CIDR 10.1.0.0/16' },
    { path: 'spec.cidr', reason: 'IPPool(d) CIDR overlaps with IPPool(b) CIDR 10.2.0.0/24' },
  ]);
});

test('existing blocks of another size inside the CIDR refuse the pool; blocks of its size do not', () => {
  const blocks = [parseCidr('10.9.0.0/26'), parseCidr('10.8.0.0/28')];
  assert.deepEqual(poolPlacementProblems({ name: 'p', cidr: parseCidr('10.9.0.0/16'), blockSize: 26 }, [], blocks), []);
  const out = poolPlacementProblems({ name: 'p', cidr: parseCidr('10.8.0.0/16'), blockSize: 26 }, [], blocks);
  assert.equal(out.length, 1);
  assert.equal(out[0].path, 'spec.blockSize');
  assert.match(out[0].reason, /existing IPAM block 10\.8\.0\.0\/28 overlaps the pool's CIDR and is not a \/26 block/);
});
