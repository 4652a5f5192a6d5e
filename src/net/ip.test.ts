import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalCidr,
  cidrContainsCidr,
  cidrsOverlap,
  formatIp,
  hasHostBits,
  parseCidr,
  parseIp,
  splitIntoBlocks,
  formatCidr,
  blockContaining,
} from './ip.js';

test('parses and formats IPv4 and IPv6 canonically', () => {
  assert.equal(formatIp(parseIp('10.0.0.1')), '10.0.0.1');
  assert.equal(formatIp(parseIp('fd00:0:0:0::0001')), 'fd00::1');
  assert.throws(() => parseIp('10.0.0'), /invalid IP/);
  assert.throws(() => parseIp('10.0.0.256'), /invalid IP/);
});

test('CIDR canonical text clears host bits and reports them', () => {
  assert.equal(canonicalCidr('10.1.2.3/24'), '10.1.2.0/24');
  assert.equal(hasHostBits('10.1.2.3/24'), true);
  assert.equal(hasHostBits('10.1.2.0/24'), false);
  assert.equal(canonicalCidr('fd00::1/64'), 'fd00::/64');
  assert.throws(() => parseCidr('10.0.0.0/33'), /bad prefix/);
});

test('containment and overlap respect families', () => {
  assert.ok(cidrContainsCidr(parseCidr('10.0.0.0/8'), parseCidr('10.2.0.0/16')));
  assert.ok(!cidrContainsCidr(parseCidr('10.2.0.0/16'), parseCidr('10.0.0.0/8')));
  assert.ok(cidrsOverlap(parseCidr('10.2.0.0/16'), parseCidr('10.0.0.0/8')));
  assert.ok(!cidrsOverlap(parseCidr('10.0.0.0/8'), parseCidr('fd00::/8')));
});

test('splits a pool into blocks and finds an address block', () => {
  const blocks = [...splitIntoBlocks(parseCidr('192.168.0.0/24'), 26)].map(formatCidr);
  assert.deepEqual(blocks, ['192.168.0.0/26', '192.168.0.64/26', '192.168.0.128/26', '192.168.0.192/26']);
  assert.equal(formatCidr(blockContaining(parseIp('192.168.0.77'), 26)), '192.168.0.64/26');
  assert.equal(formatCidr(blockContaining(parseIp('fd00::1:5'), 122)), 'fd00::1:0/122');
});
