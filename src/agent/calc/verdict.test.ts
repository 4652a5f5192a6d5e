// What a user sees: packet verdicts computed from the graph's desired dataplane for the policy idioms of the issue's
// acceptance list (default deny, allow by label / namespace / nets / named port, order, Pass, end-of-tier drop,
// profile fallback, Log then allow, SCTP, IPv6, staged policies never enforced).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CalcGraph } from './graph.js';
import { gnp, np, nsProfile, put, tier, wep, NODE, type Res } from './testing/fixtures.js';
import { PolicyEvaluator, type Packet } from './verdict.js';

const TCP = 6;
const UDP = 17;
const SCTP = 132;

// ns1: web (10.0.0.1, named port http=8080) and db (10.0.0.2); ns2 (team x): api (10.0.1.1, remote node).
const world: Res[] = [
  nsProfile('ns1', { team: 'y' }),
  nsProfile('ns2', { team: 'x' }),
  wep('web', {
    labels: { app: 'web' },
    ips: ['10.0.0.1/32', 'fd00::1/128'],
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  }),
  wep('db', { labels: { app: 'db' }, ips: ['10.0.0.2/32'] }),
  wep('api', { ns: 'ns2', node: 'node2', labels: { role: 'api' }, ips: ['10.0.1.1/32'] }),
  wep('api1', { labels: { role: 'api' }, ips: ['10.0.0.3/32'] }),
];

function evaluator(extra: Res[]): PolicyEvaluator {
  const g = new CalcGraph({ nodeName: NODE });
  g.onUpdates([...world, ...extra].map(put));
  assert.deepEqual(g.snapshot().problems, []);
  return new PolicyEvaluator(g.snapshot());
}

const tcp = (src: string, dst: string, dstPort: number): Packet => ({
  srcIp: src,
  dstIp: dst,
  protocol: TCP,
  srcPort: 40000,
  dstPort,
});
const toWeb = (e: PolicyEvaluator, p: Packet) => e.evaluate('wep/ns1/web', 'ingress', p);
const toDb = (e: PolicyEvaluator, p: Packet) => e.evaluate('wep/ns1/db', 'ingress', p);

describe('verdicts from the desired dataplane', () => {
  test('no policy: the namespace profile allows; default deny isolates only the selected direction', () => {
    let e = evaluator([]);
    assert.deepEqual(toDb(e, tcp('10.9.9.9', '10.0.0.2', 5432)), {
      verdict: 'allow',
      by: 'kns.ns1 rule 0',
      logged: [],
    });
    e = evaluator([np('default-deny', 'ns1', { selector: 'all()', types: ['Ingress'] })]);
    assert.deepEqual(toDb(e, tcp('10.9.9.9', '10.0.0.2', 5432)), {
      verdict: 'deny',
      by: 'end of tier default',
      logged: [],
    });
    assert.equal(e.evaluate('wep/ns1/db', 'egress', tcp('10.0.0.2', '10.9.9.9', 53)).verdict, 'allow');
  });

  test('allow by label: same-namespace pods with the label, on the port, nothing else', () => {
    const e = evaluator([
      np('db-from-api', 'ns1', {
        selector: "app == 'db'",
        ingress: [
          { action: 'Allow', protocol: 'TCP', source: { selector: "role == 'api'" }, destination: { ports: [5432] } },
        ],
      }),
    ]);
    assert.equal(toDb(e, tcp('10.0.0.3', '10.0.0.2', 5432)).verdict, 'allow');
    assert.equal(toDb(e, tcp('10.0.0.3', '10.0.0.2', 80)).verdict, 'deny');
    assert.equal(toDb(e, tcp('10.0.0.1', '10.0.0.2', 5432)).verdict, 'deny', 'web is not an api pod');
    assert.equal(toDb(e, tcp('10.0.1.1', '10.0.0.2', 5432)).verdict, 'deny', 'api pod of another namespace');
    assert.equal(toDb(e, { ...tcp('10.0.0.3', '10.0.0.2', 5432), protocol: UDP }).verdict, 'deny', 'UDP is not TCP');
  });

  test('allow by namespace labels', () => {
    const e = evaluator([
      np('db-from-team-x', 'ns1', {
        selector: "app == 'db'",
        ingress: [{ action: 'Allow', source: { namespaceSelector: "team == 'x'" } }],
      }),
    ]);
    assert.equal(toDb(e, tcp('10.0.1.1', '10.0.0.2', 1)).verdict, 'allow');
    assert.equal(toDb(e, tcp('10.0.0.3', '10.0.0.2', 1)).verdict, 'deny', 'ns1 is team y');
  });

  test('allow by nets and notNets (ipBlock with except)', () => {
    const e = evaluator([
      np('db-from-block', 'ns1', {
        selector: "app == 'db'",
        ingress: [{ action: 'Allow', source: { nets: ['10.0.0.0/16'], notNets: ['10.0.5.0/24'] } }],
      }),
    ]);
    assert.equal(toDb(e, tcp('10.0.9.1', '10.0.0.2', 1)).verdict, 'allow');
    assert.equal(toDb(e, tcp('10.0.5.1', '10.0.0.2', 1)).verdict, 'deny');
    assert.equal(toDb(e, tcp('10.1.0.1', '10.0.0.2', 1)).verdict, 'deny');
  });

  test('allow by named port: the port the pod declares, not another', () => {
    const e = evaluator([
      np('web-http', 'ns1', {
        selector: "app == 'web'",
        ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['http'] } }],
      }),
    ]);
    assert.equal(toWeb(e, tcp('10.9.9.9', '10.0.0.1', 8080)).verdict, 'allow');
    assert.equal(toWeb(e, tcp('10.9.9.9', '10.0.0.1', 80)).verdict, 'deny');
  });

  test('Deny before Allow by order; the lower order wins whatever the names', () => {
    const e = evaluator([
      gnp('z-deny-api', {
        order: 10,
        selector: "app == 'db'",
        ingress: [{ action: 'Deny', source: { nets: ['10.0.0.3/32'] } }],
      }),
      gnp('a-allow-all', { order: 20, selector: "app == 'db'", ingress: [{ action: 'Allow' }] }),
    ]);
    assert.deepEqual(toDb(e, tcp('10.0.0.3', '10.0.0.2', 1)), {
      verdict: 'deny',
      by: 'gnp/default/z-deny-api rule 0',
      logged: [],
    });
    assert.deepEqual(toDb(e, tcp('10.0.0.1', '10.0.0.2', 1)), {
      verdict: 'allow',
      by: 'gnp/default/a-allow-all rule 0',
      logged: [],
    });
  });

  test('Pass hands over to the next tier; the end of a tier drops; a Pass tier falls through to profiles', () => {
    const e = evaluator([
      tier('security', { order: 100 }),
      tier('audit', { order: 50, defaultAction: 'Pass' }),
      gnp('audit.watch', {
        tier: 'audit',
        selector: 'all()',
        ingress: [{ action: 'Deny', source: { nets: ['10.66.0.0/16'] } }],
      }),
      gnp('security.gate', {
        tier: 'security',
        selector: "app == 'db'",
        ingress: [
          { action: 'Pass', source: { selector: "role == 'api'" } },
          { action: 'Allow', protocol: 'TCP', destination: { ports: [22] } },
        ],
      }),
      gnp('db-api-only-5432', {
        selector: "app == 'db'",
        ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [5432] } }],
      }),
    ]);
    assert.deepEqual(toDb(e, tcp('10.0.1.1', '10.0.0.2', 5432)), {
      verdict: 'allow',
      by: 'gnp/default/db-api-only-5432 rule 0',
      logged: [],
    });
    assert.deepEqual(toDb(e, tcp('10.0.1.1', '10.0.0.2', 80)), {
      verdict: 'deny',
      by: 'end of tier default',
      logged: [],
    });
    assert.deepEqual(toDb(e, tcp('10.0.0.1', '10.0.0.2', 5432)), {
      verdict: 'deny',
      by: 'end of tier security',
      logged: [],
    });
    assert.deepEqual(toDb(e, tcp('10.0.0.1', '10.0.0.2', 22)), {
      verdict: 'allow',
      by: 'gnp/security/security.gate rule 1',
      logged: [],
    });
    assert.deepEqual(toDb(e, tcp('10.66.0.1', '10.0.0.2', 22)), {
      verdict: 'deny',
      by: 'gnp/audit/audit.watch rule 0',
      logged: [],
    });
    // web is only selected by the audit tier, whose default is Pass: its profile decides.
    assert.deepEqual(toWeb(e, tcp('10.0.0.2', '10.0.0.1', 80)), { verdict: 'allow', by: 'kns.ns1 rule 0', logged: [] });
  });

  test('Log then allow records the log rule and goes on', () => {
    const e = evaluator([
      gnp('log-web', { selector: "app == 'web'", ingress: [{ action: 'Log' }, { action: 'Allow', protocol: 'TCP' }] }),
    ]);
    assert.deepEqual(toWeb(e, tcp('10.0.0.2', '10.0.0.1', 80)), {
      verdict: 'allow',
      by: 'gnp/default/log-web rule 1',
      logged: ['gnp/default/log-web rule 0'],
    });
    assert.deepEqual(toWeb(e, { srcIp: '10.0.0.2', dstIp: '10.0.0.1', protocol: UDP, dstPort: 53 }), {
      verdict: 'deny',
      by: 'end of tier default',
      logged: ['gnp/default/log-web rule 0'],
    });
  });

  test('SCTP rules match SCTP only; IPv4-only rules do not match IPv6', () => {
    const e = evaluator([
      gnp('sctp', {
        selector: "app == 'web'",
        ingress: [{ action: 'Allow', protocol: 'SCTP', destination: { ports: [9000] } }],
      }),
      gnp('v4', {
        selector: "app == 'web'",
        ingress: [{ action: 'Allow', source: { nets: ['0.0.0.0/0'] }, protocol: 'UDP' }],
      }),
    ]);
    assert.equal(toWeb(e, { ...tcp('10.0.0.2', '10.0.0.1', 9000), protocol: SCTP }).verdict, 'allow');
    assert.equal(toWeb(e, tcp('10.0.0.2', '10.0.0.1', 9000)).verdict, 'deny');
    assert.equal(toWeb(e, { srcIp: '10.0.0.2', dstIp: '10.0.0.1', protocol: UDP, dstPort: 1 }).verdict, 'allow');
    assert.equal(toWeb(e, { srcIp: 'fd00::9', dstIp: 'fd00::1', protocol: UDP, dstPort: 1 }).verdict, 'deny');
  });

  test('staged policies never change a verdict', () => {
    const e = evaluator([
      {
        kind: 'StagedGlobalNetworkPolicy',
        metadata: { name: 'would-deny' },
        spec: { selector: 'all()', ingress: [{ action: 'Deny' }] },
      },
    ]);
    assert.equal(toDb(e, tcp('10.9.9.9', '10.0.0.2', 1)).verdict, 'allow');
  });
});
