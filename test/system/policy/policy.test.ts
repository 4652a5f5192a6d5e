// Policy semantics through the real agent and real nftables: pods on one node (namespaces + veths), resources in the
// datastore, TCP connections as the observable verdict.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { endpointStatusFileName } from '../../../src/agent/dataplane/endpoint-status.js';
import { PolicyWorld, nsExec, type Pod } from './world.js';

describe('policy on one node', () => {
  const w = new PolicyWorld('pol');
  let a: Pod, b: Pod, c: Pod, d: Pod;

  before(async () => {
    w.setup();
    await w.putNamespaceProfile('default', { team: 'blue' });
    await w.putNamespaceProfile('other', { team: 'red' });
    a = await w.addPod('pod-a', '10.65.0.2', { app: 'a' });
    b = await w.addPod(
      'pod-b',
      '10.65.0.3',
      { app: 'b' },
      { ports: [{ name: 'http-alt', protocol: 'TCP', port: 8080 }] },
    );
    c = await w.addPod('pod-c', '10.65.0.4', { app: 'c' });
    d = await w.addPod('pod-d', '10.65.0.5', { app: 'd' }, { namespace: 'other' });
    await w.startAgent();
    w.serve(b, 80);
    w.serve(b, 8080);
    w.serve(b, 9090);
    // warm-up: first packets on fresh veths resolve neighbours
    for (const p of [a, c, d]) w.canConnect(p, b.ip, 80);
  });
  after(() => w.teardown());

  const policy = async (name: string, spec: Record<string, unknown>, namespace = 'default'): Promise<void> => {
    await w.put({ kind: 'NetworkPolicy', metadata: { name, namespace }, spec });
    await w.settle();
  };
  const clear = async (...names: string[]): Promise<void> => {
    for (const n of names) await w.del('NetworkPolicy', n, 'default');
    await w.settle();
  };
  const bSel = "app == 'b'";

  test('without policy the namespace profile allows everything; endpoint status files are written', () => {
    assert.equal(w.canConnect(a, b.ip, 80), true);
    assert.equal(w.canConnect(d, b.ip, 80), true);
    const f = path.join(w.dir, 'endpoint-status', endpointStatusFileName('default', w.wepName(b)));
    assert.ok(existsSync(f), 'status file for pod-b');
    assert.equal(JSON.parse(readFileSync(f, 'utf8')).status, 'up');
  });

  test('default deny: a policy selecting pod-b with no ingress rules blocks new connections to it', async () => {
    await policy('deny-b', { selector: bSel, types: ['Ingress'] });
    assert.equal(w.canConnect(a, b.ip, 80), false);
    assert.equal(w.canConnect(c, a.ip, 80), false, 'no server on a: sanity that probes can fail');
    await clear('deny-b');
    assert.equal(w.canConnect(a, b.ip, 80), true, 'deleting the policy restores traffic');
  });

  test('allow by label: only pods with app == a reach pod-b', async () => {
    await policy('allow-a', {
      selector: bSel,
      types: ['Ingress'],
      ingress: [{ action: 'Allow', source: { selector: "app == 'a'" } }],
    });
    assert.equal(w.canConnect(a, b.ip, 80), true);
    assert.equal(w.canConnect(c, b.ip, 80), false);
    // relabel c -> it is allowed too (IP set membership follows labels)
    c.labels = { app: 'a' };
    await w.putEndpoint(c);
    await w.settle();
    assert.equal(w.canConnect(c, b.ip, 80), true);
    c.labels = { app: 'c' };
    await w.putEndpoint(c);
    await clear('allow-a');
  });

  test('allow by namespace: namespaceSelector on the namespace labels', async () => {
    await policy('allow-red', {
      selector: bSel,
      types: ['Ingress'],
      ingress: [{ action: 'Allow', source: { namespaceSelector: "team == 'red'" } }],
    });
    assert.equal(w.canConnect(d, b.ip, 80), true, 'pod-d is in namespace other (team red)');
    assert.equal(w.canConnect(a, b.ip, 80), false, 'pod-a is in namespace default (team blue)');
    await clear('allow-red');
  });

  test('allow by nets / notNets', async () => {
    await policy('nets', {
      selector: bSel,
      types: ['Ingress'],
      ingress: [{ action: 'Allow', source: { nets: ['10.65.0.0/29'], notNets: ['10.65.0.4/32'] } }],
    });
    assert.equal(w.canConnect(a, b.ip, 80), true);
    assert.equal(w.canConnect(c, b.ip, 80), false, '10.65.0.4 is in notNets');
    assert.equal(w.canConnect(d, b.ip, 80), true, '10.65.0.5 is in nets');
    await clear('nets');
  });

  test('allow by named port: only the port pod-b calls http-alt', async () => {
    await policy('named', {
      selector: bSel,
      types: ['Ingress'],
      ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['http-alt'] } }],
    });
    assert.equal(w.canConnect(a, b.ip, 8080), true);
    assert.equal(w.canConnect(a, b.ip, 80), false);
    await clear('named');
  });

  test('Deny before Allow by order', async () => {
    await policy('allow-all', { selector: bSel, order: 200, ingress: [{ action: 'Allow' }] });
    await policy('deny-a', {
      selector: bSel,
      order: 100,
      ingress: [{ action: 'Deny', source: { selector: "app == 'a'" } }],
    });
    assert.equal(w.canConnect(a, b.ip, 80), false, 'order 100 Deny wins');
    assert.equal(w.canConnect(c, b.ip, 80), true, 'c falls through to the order 200 Allow');
    await w.put({
      kind: 'NetworkPolicy',
      metadata: { name: 'deny-a', namespace: 'default' },
      spec: { selector: bSel, order: 300, ingress: [{ action: 'Deny', source: { selector: "app == 'a'" } }] },
    });
    await w.settle();
    assert.equal(w.canConnect(a, b.ip, 80), true, 'after reordering, Allow (200) comes first');
    await clear('allow-all', 'deny-a');
  });

  test('tiers: Pass to the next tier, and the end-of-tier drop', async () => {
    await w.put({ kind: 'Tier', metadata: { name: 'security' }, spec: { order: 100 } });
    await w.put({
      kind: 'GlobalNetworkPolicy',
      metadata: { name: 'security.pass-a' },
      spec: {
        tier: 'security',
        selector: bSel,
        types: ['Ingress'],
        ingress: [{ action: 'Pass', source: { selector: "app == 'a'" } }],
      },
    });
    await policy('allow-all', { selector: bSel, ingress: [{ action: 'Allow' }] });
    assert.equal(w.canConnect(a, b.ip, 80), true, 'a is passed to the default tier, which allows');
    assert.equal(w.canConnect(c, b.ip, 80), false, 'c gets no verdict in tier security: end-of-tier drop');
    await w.del('GlobalNetworkPolicy', 'security.pass-a');
    await w.del('Tier', 'security');
    await clear('allow-all');
  });

  test('profile fallback: Pass in the only applying tier leaves the verdict to the profile', async () => {
    await policy('pass-all', { selector: bSel, types: ['Ingress'], ingress: [{ action: 'Pass' }] });
    assert.equal(w.canConnect(a, b.ip, 80), true, 'kns.default allows');
    await w.put({
      kind: 'Profile',
      metadata: { name: 'kns.default' },
      spec: { ingress: [{ action: 'Deny' }], egress: [{ action: 'Allow' }], labelsToApply: { 'pcns.team': 'blue' } },
    });
    await w.settle();
    assert.equal(w.canConnect(a, b.ip, 80), false, 'now the profile denies');
    await w.putNamespaceProfile('default', { team: 'blue' });
    await clear('pass-all');
  });

  test('Log then Allow: the log rule counts the packets and the connection succeeds', async () => {
    await policy('log-allow', {
      selector: bSel,
      types: ['Ingress'],
      ingress: [
        { action: 'Log', protocol: 'TCP' },
        { action: 'Allow', protocol: 'TCP', destination: { ports: [9090] } },
      ],
    });
    const before = w.ruleCounter('log-allow inbound rule 0');
    assert.equal(w.canConnect(a, b.ip, 9090), true);
    assert.ok(w.ruleCounter('log-allow inbound rule 0') > before, 'log rule counter rises');
    assert.equal(w.canConnect(a, b.ip, 80), false, 'port 80 only logged, then dropped at end of tier');
    await clear('log-allow');
  });

  test('anti-spoofing: a pod sending from an address that is not its own is dropped before conntrack', () => {
    nsExec(a.netns, 'ip', 'addr', 'add', '10.65.0.99/32', 'dev', 'eth0');
    const before = w.ruleCounter('wep/default/' + w.wepName(a) + ': anti-spoofing (IPv4)');
    const spoofed = nsExec(
      a.netns,
      'sh',
      '-c',
      `socat -T 1 - TCP:${b.ip}:80,connect-timeout=1,bind=10.65.0.99 </dev/null 2>&1 || true`,
    );
    assert.doesNotMatch(spoofed, /ok/);
    assert.ok(w.ruleCounter('wep/default/' + w.wepName(a) + ': anti-spoofing (IPv4)') > before);
    nsExec(a.netns, 'ip', 'addr', 'del', '10.65.0.99/32', 'dev', 'eth0');
    assert.equal(w.canConnect(a, b.ip, 80), true, 'its real address still works');
  });

  test('a staged policy is reported but never enforced', async () => {
    await w.put({
      kind: 'StagedNetworkPolicy',
      metadata: { name: 'staged-deny-b', namespace: 'default' },
      spec: { stagedAction: 'Set', selector: bSel, types: ['Ingress'], ingress: [{ action: 'Deny' }] },
    });
    await w.settle();
    assert.equal(w.canConnect(a, b.ip, 80), true);
    const metrics = await (await fetch(`http://${w.agent!.metricsAddress}/metrics`)).text();
    assert.match(metrics, /felix_active_local_staged_policies 1/);
    await w.del('StagedNetworkPolicy', 'staged-deny-b', 'default');
    await w.settle();
  });

  test('the host reaches its pods even under default deny (kubelet probes)', async () => {
    await policy('deny-b', { selector: bSel, types: ['Ingress'] });
    assert.equal(w.canConnect(w.node, b.ip, 80), true);
    assert.equal(w.canConnect(a, b.ip, 80), false);
    await clear('deny-b');
  });
});
