// Rule rendering: one Calico rule -> the nft rules of its policy chain (families, port alternatives, negations).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateMarks } from '../calc/config.js';
import { coalesceNets, renderPolicyRules, type RuleRenderContext } from './rule-render.js';
import { rule } from './testdata/states.js';

const ctx: RuleRenderContext = {
  marks: allocateMarks(0xffff0000),
  denyVerdict: 'drop',
  untracked: false,
  ipv6: true,
  setName: (id, f) => `cali${f}0${id.replace(':', '_')}`,
};
const bodies = (...rs: Parameters<typeof rule>[0][]): string[] =>
  renderPolicyRules(rs.map(rule), 'np/default/ns/p', 'inbound', ctx).map((r) => r.body);

test('allow with protocol and port range sets the accept mark and returns', () => {
  assert.deepEqual(
    bodies({
      action: 'allow',
      protocol: 6,
      dstPorts: [
        { first: 80, last: 80 },
        { first: 8000, last: 8080 },
      ],
    }),
    ['meta l4proto 6 th dport { 80, 8000-8080 } counter meta mark set meta mark | 0x10000 return'],
  );
});

test('deny, pass and log actions', () => {
  assert.deepEqual(bodies({ action: 'deny' }, { action: 'pass' }, { action: 'log', logPrefix: 'calico-packet' }), [
    'counter drop',
    'counter meta mark set meta mark | 0x20000 return',
    'counter log prefix "calico-packet: "',
  ]);
});

test('nets split by family; a family without positive nets is not rendered', () => {
  assert.deepEqual(bodies({ action: 'allow', srcNets: ['10.0.0.0/8'], notSrcNets: ['10.1.0.0/16', 'fd00::/8'] }), [
    'meta nfproto ipv4 ip saddr 10.0.0.0/8 ip saddr != 10.1.0.0/16 counter meta mark set meta mark | 0x10000 return',
  ]);
  assert.equal(bodies({ action: 'allow', srcNets: ['10.0.0.0/8', 'fd00::/8'] }).length, 2);
});

test('numeric ports OR named ports become separate nft rules', () => {
  const out = bodies({
    action: 'allow',
    protocol: 6,
    dstPorts: [{ first: 443, last: 443 }],
    dstNamedPortIpSetIds: ['n:web'],
  });
  assert.deepEqual(out, [
    'meta nfproto ipv4 meta l4proto 6 th dport 443 counter meta mark set meta mark | 0x10000 return',
    'meta nfproto ipv4 meta l4proto 6 ip daddr . meta l4proto . th dport @cali40n_web counter meta mark set meta mark | 0x10000 return',
    'meta nfproto ipv6 meta l4proto 6 th dport 443 counter meta mark set meta mark | 0x10000 return',
    'meta nfproto ipv6 meta l4proto 6 ip6 daddr . meta l4proto . th dport @cali60n_web counter meta mark set meta mark | 0x10000 return',
  ]);
});

test('selectors, notSelectors, ICMP and notICMP', () => {
  assert.deepEqual(
    bodies({
      action: 'allow',
      ipVersion: 4,
      protocol: 1,
      icmpType: 8,
      icmpCode: 0,
      srcIpSetIds: ['s:a'],
      notSrcIpSetIds: ['s:b'],
    }),
    [
      'meta nfproto ipv4 meta l4proto 1 ip saddr @cali40s_a ip saddr != @cali40s_b icmp type 8 icmp code 0 counter meta mark set meta mark | 0x10000 return',
    ],
  );
  assert.deepEqual(bodies({ action: 'deny', ipVersion: 6, protocol: 58, notIcmpType: 128, notIcmpCode: 0 }), [
    'meta nfproto ipv6 meta l4proto 58 icmpv6 type . icmpv6 code != { 128 . 0 } counter drop',
  ]);
});

test('untracked allow adds notrack', () => {
  const out = renderPolicyRules([rule({ action: 'allow' })], 'gnp/default/x', 'inbound', { ...ctx, untracked: true });
  assert.equal(out[0]!.body, 'counter notrack meta mark set meta mark | 0x10000 return');
});

test('coalesceNets drops covered CIDRs and canonicalises', () => {
  assert.deepEqual(coalesceNets(['10.1.2.3/32', '10.0.0.0/8', '192.168.0.1', 'fd00::1/128', 'FD00::/16']), [
    '10.0.0.0/8',
    '192.168.0.1',
    'fd00::/16',
  ]);
});
