// Rule and policy parsing: every match field, the namespace/service-account rewriting of policy.md §1.4, types
// defaulting, tier defaults, and errors that name the field and the reason.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { implicitTier, parsePolicy, parseProfile, parseTier } from './policy-parser.js';
import { FieldError } from './field-error.js';
import { parseRule } from './rule-parser.js';

const ctx = { field: 'spec.ingress[0]', ruleIndex: 0 };
const nsCtx = { ...ctx, namespace: 'prod' };

function ruleError(raw: unknown, message: string, c: { field: string; ruleIndex: number; namespace?: string } = ctx) {
  assert.throws(
    () => parseRule(raw, c),
    (e: unknown) => e instanceof FieldError && e.message === message,
    `expected: ${message}`,
  );
}

describe('rule parsing', () => {
  test('protocols by name (any case) or number; ports, ranges and named ports', () => {
    const r = parseRule(
      {
        action: 'allow',
        protocol: 'sctp',
        destination: { ports: [80, '8000:8080', 'http', '443'] },
        source: { notPorts: ['1:1023'] },
      },
      ctx,
    );
    assert.equal(r.action, 'allow');
    assert.equal(r.protocol, 132);
    assert.deepEqual(r.dst.ports, [
      { first: 80, last: 80 },
      { first: 8000, last: 8080 },
      { first: 443, last: 443 },
    ]);
    assert.deepEqual(r.dst.namedPorts, ['http']);
    assert.deepEqual(r.src.notPorts, [{ first: 1, last: 1023 }]);
    assert.equal(r.namedPortProtocol, 'sctp');
    assert.equal(parseRule({ action: 'Deny', protocol: 47 }, ctx).protocol, 47);
    assert.equal(parseRule({ action: 'Allow', protocol: 'UDPLite', destination: { ports: [5] } }, ctx).protocol, 136);
  });

  test('named ports without a protocol resolve as TCP ports (Felix)', () => {
    assert.equal(parseRule({ action: 'Allow', destination: { ports: ['dns'] } }, ctx).namedPortProtocol, 'tcp');
  });

  test('ICMP implies the IP version; ICMP type/code and their negations', () => {
    const r = parseRule(
      { action: 'Allow', protocol: 'ICMPv6', icmp: { type: 128 }, notICMP: { type: 1, code: 3 } },
      ctx,
    );
    assert.equal(r.ipVersion, 6);
    assert.equal(r.icmpType, 128);
    assert.equal(r.notIcmpType, 1);
    assert.equal(r.notIcmpCode, 3);
  });

  test('nets are canonical; namespaced rules get the namespace only when a selector term is present', () => {
    const nets = parseRule({ action: 'Allow', source: { nets: ['10.1.2.3/8'], notNets: ['fd00::1/64'] } }, nsCtx);
    assert.deepEqual(nets.src.nets, ['10.0.0.0/8']);
    assert.deepEqual(nets.src.notNets, ['fd00::/64']);
    assert.equal(nets.src.selector, undefined, 'a nets-only rule is not namespace-restricted');
    const notSel = parseRule({ action: 'Allow', source: { notSelector: "app == 'x'" } }, nsCtx);
    assert.equal(notSel.src.selector?.toString(), 'projectcalico.org/namespace == "prod"');
    assert.equal(notSel.src.notSelector?.toString(), 'app == "x"', 'notSelector itself is not rewritten');
    const all = parseRule({ action: 'Allow', source: { selector: 'all()', namespaceSelector: 'all()' } }, nsCtx);
    assert.equal(all.src.selector?.toString(), 'has(projectcalico.org/namespace)');
    const nested = parseRule({ action: 'Allow', source: { namespaceSelector: 'all() && !has(x) || global()' } }, ctx);
    assert.equal(
      nested.src.selector?.toString(),
      '((has(projectcalico.org/namespace) && !has(pcns.x)) || !has(projectcalico.org/namespace))',
      'every all() and global() is rewritten, as Calico rewrites the printed text',
    );
    const glob = parseRule({ action: 'Allow', destination: { namespaceSelector: 'global()' } }, ctx);
    assert.equal(glob.dst.selector?.toString(), '!has(projectcalico.org/namespace)');
    const ns = parseRule({ action: 'Allow', source: { namespaceSelector: "env in {'a','b'} && !has(x)" } }, nsCtx);
    assert.equal(ns.src.selector?.toString(), '(pcns.env in {"a", "b"} && !has(pcns.x))');
    const sa = parseRule({ action: 'Allow', source: { serviceAccounts: { names: ['b', 'a'] } } }, ctx);
    assert.equal(sa.src.selector?.toString(), 'projectcalico.org/serviceaccount in {"a", "b"}');
  });

  test('bad input names the field and the reason', () => {
    ruleError({ action: 'Accept' }, 'spec.ingress[0].action: "Accept" must be Allow, Deny, Pass or Log');
    ruleError(
      { action: 'Allow', protocol: 'GRE' },
      'spec.ingress[0].protocol: unknown protocol "GRE" (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or 1..255)',
    );
    ruleError({ action: 'Allow', protocol: 256 }, 'spec.ingress[0].protocol: protocol number 256 must be 1..255');
    ruleError(
      { action: 'Allow', destination: { ports: [80] } },
      'spec.ingress[0].protocol: numeric ports need protocol TCP, UDP, SCTP or UDPLite',
    );
    ruleError(
      { action: 'Allow', protocol: 'ICMP', destination: { ports: ['http'] } },
      'spec.ingress[0].protocol: named ports need protocol TCP, UDP or SCTP (or none)',
    );
    ruleError(
      { action: 'Allow', protocol: 'TCP', icmp: { type: 8 } },
      'spec.ingress[0].icmp: ICMP matches need protocol ICMP or ICMPv6',
    );
    ruleError(
      { action: 'Allow', protocol: 'ICMP', icmp: { code: 1 } },
      'spec.ingress[0].icmp.code: an ICMP code needs an ICMP type',
    );
    ruleError(
      { action: 'Allow', protocol: 'ICMP', ipVersion: 6 },
      'spec.ingress[0].ipVersion: ipVersion 6 contradicts protocol ICMP',
    );
    ruleError(
      { action: 'Allow', ipVersion: 4, source: { nets: ['fd00::/8'] } },
      'spec.ingress[0].source.nets: fd00::/8 is not an IPv4 CIDR (ipVersion)',
    );
    ruleError(
      { action: 'Allow', source: { nets: ['10.0.0.0/33'] } },
      'spec.ingress[0].source.nets[0]: "10.0.0.0/33" is not a CIDR or IP address',
    );
    ruleError(
      { action: 'Allow', protocol: 'TCP', destination: { ports: ['99999'] } },
      'spec.ingress[0].destination.ports[0]: port "99999" must be 0..65535',
    );
    ruleError(
      { action: 'Allow', protocol: 'TCP', destination: { ports: ['http!'] } },
      'spec.ingress[0].destination.ports[0]: "http!" is not a port, a "min:max" range or a port name',
    );
    ruleError(
      { action: 'Allow', destination: { services: { name: 'x', namespace: 'y' } } },
      'spec.ingress[0].destination.services: Kubernetes Service matches are not supported by this agent',
    );
    assert.throws(
      () => parseRule({ action: 'Allow', source: { selector: 'a ==' } }, ctx),
      /^FieldError: spec\.ingress\[0\]\.source\.selector: /,
    );
  });
});

describe('policy parsing', () => {
  const res = (kind: string, spec: unknown, namespace?: string) => ({
    kind,
    metadata: { name: 'p', ...(namespace ? { namespace } : {}) },
    spec,
  });

  test('types default from the rules present', () => {
    const types = (spec: unknown) => {
      const p = parsePolicy(res('GlobalNetworkPolicy', spec));
      return [p.ingress && 'Ingress', p.egress && 'Egress'].filter(Boolean);
    };
    assert.deepEqual(types({}), ['Ingress']);
    assert.deepEqual(types({ ingress: [{ action: 'Allow' }] }), ['Ingress']);
    assert.deepEqual(types({ egress: [{ action: 'Allow' }] }), ['Egress']);
    assert.deepEqual(types({ ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }] }), ['Ingress', 'Egress']);
    assert.deepEqual(types({ types: ['Egress'], ingress: [{ action: 'Allow' }] }), ['Egress']);
  });

  test('endpoint selectors: namespaced, GNP namespaceSelector, serviceAccountSelector; ids carry tier', () => {
    const a = parsePolicy(
      res('NetworkPolicy', { selector: "app == 'x'", serviceAccountSelector: "role == 'r'" }, 'prod'),
    );
    assert.equal(a.id, 'np/default/prod/p');
    assert.equal(a.selector.toString(), '(app == "x" && projectcalico.org/namespace == "prod" && pcsa.role == "r")');
    const b = parsePolicy(res('GlobalNetworkPolicy', { tier: 'sec', namespaceSelector: "env == 'prod'" }));
    assert.equal(b.id, 'gnp/sec/p');
    assert.equal(b.selector.toString(), '(has(projectcalico.org/namespace) && pcns.env == "prod")');
    const all = parsePolicy(res('GlobalNetworkPolicy', { selector: "app == 'x'", namespaceSelector: 'all()' }));
    assert.equal(
      all.selector.toString(),
      '(app == "x" && has(projectcalico.org/namespace))',
      'all namespaces, no hosts',
    );
    const sa = parsePolicy(res('GlobalNetworkPolicy', { serviceAccountSelector: 'all()' }));
    assert.equal(sa.selector.toString(), 'has(projectcalico.org/serviceaccount)', 'GNP: any service account');
    const c = parsePolicy(res('GlobalNetworkPolicy', {}));
    assert.equal(c.selector.toString(), 'all()');
  });

  test('host-endpoint flags are validated', () => {
    assert.throws(
      () => parsePolicy(res('GlobalNetworkPolicy', { doNotTrack: true })),
      /spec\.applyOnForward: must be true when doNotTrack is set/,
    );
    assert.throws(
      () =>
        parsePolicy(res('GlobalNetworkPolicy', { preDNAT: true, applyOnForward: true, egress: [{ action: 'Allow' }] })),
      /spec\.egress: a preDNAT policy may only have ingress rules/,
    );
    assert.throws(
      () => parsePolicy(res('GlobalNetworkPolicy', { preDNAT: true, doNotTrack: true, applyOnForward: true })),
      /spec\.preDNAT: cannot be combined with doNotTrack/,
    );
    assert.throws(
      () => parsePolicy(res('GlobalNetworkPolicy', { types: ['Both'] })),
      /spec\.types\[0\]: "Both" must be Ingress or Egress/,
    );
    assert.throws(
      () => parsePolicy(res('GlobalNetworkPolicy', { order: 'first' })),
      /spec\.order: "first" is not a number/,
    );
  });

  test('staged policies are parsed for applicability only', () => {
    const s = parsePolicy(res('StagedNetworkPolicy', { selector: 'all()', ingress: [{ action: 'Bogus' }] }, 'prod'));
    assert.equal(s.staged, true);
    assert.equal(s.stagedAction, 'Set');
    const k = parsePolicy(
      res(
        'StagedKubernetesNetworkPolicy',
        {
          podSelector: { matchLabels: { b: '2', a: '1' }, matchExpressions: [{ key: 'c', operator: 'DoesNotExist' }] },
          policyTypes: ['Egress'],
        },
        'prod',
      ),
    );
    assert.equal(
      k.selector.toString(),
      '(projectcalico.org/orchestrator == "k8s" && a == "1" && b == "2" && !has(c) && projectcalico.org/namespace == "prod")',
    );
    assert.equal(k.egress, true);
    assert.equal(k.ingress, false);
  });

  test('tiers: default order 1,000,000; defaultAction Deny unless Pass', () => {
    assert.deepEqual(implicitTier('default'), { name: 'default', order: 1_000_000, defaultAction: 'Deny' });
    assert.deepEqual(parseTier({ kind: 'Tier', metadata: { name: 'default' }, spec: {} }), implicitTier('default'));
    assert.deepEqual(parseTier({ kind: 'Tier', metadata: { name: 't' }, spec: { order: 5, defaultAction: 'Pass' } }), {
      name: 't',
      order: 5,
      defaultAction: 'Pass',
    });
    assert.throws(
      () => parseTier({ kind: 'Tier', metadata: { name: 't' }, spec: { defaultAction: 'Allow' } }),
      /spec\.defaultAction/,
    );
  });

  test('profiles keep labelsToApply and rules', () => {
    const p = parseProfile({
      kind: 'Profile',
      metadata: { name: 'kns.a' },
      spec: { labelsToApply: { 'pcns.x': 'y' }, egress: [{ action: 'Allow' }] },
    });
    assert.deepEqual(p.labelsToApply, { 'pcns.x': 'y' });
    assert.equal(p.outbound.length, 1);
    assert.equal(p.inbound.length, 0);
  });
});
