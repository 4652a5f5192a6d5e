// Host endpoints and floating IPs through the real agent and nft: a node whose eth0 faces an "outside" namespace.
// Default deny with failsafe ports, normal host policy, applyOnForward, preDNAT, doNotTrack, and a floating IP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyWorld, sh, type Pod } from './world.js';

const NODE_ETH0 = '172.31.5.1';
const OUTSIDE_IP = '172.31.5.2';
const FLOATING = '172.31.5.100';

describe('host endpoints and floating IPs', () => {
  const w = new PolicyWorld('hep');
  const outsideNs = 'tp-hep-x';
  let pod: Pod;
  const outside = { netns: outsideNs } as Pod;
  const host = (): Pod => ({ netns: w.node }) as Pod;

  before(async () => {
    w.setup();
    sh('ip', ['netns', 'add', outsideNs]);
    sh('ip', ['-n', outsideNs, 'link', 'set', 'lo', 'up']);
    sh('ip', ['-n', w.node, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outsideNs]);
    sh('ip', ['-n', w.node, 'addr', 'add', `${NODE_ETH0}/24`, 'dev', 'eth0']);
    sh('ip', ['-n', w.node, 'link', 'set', 'eth0', 'up']);
    sh('ip', ['-n', outsideNs, 'addr', 'add', `${OUTSIDE_IP}/24`, 'dev', 'eth0']);
    sh('ip', ['-n', outsideNs, 'link', 'set', 'eth0', 'up']);
    sh('ip', ['-n', outsideNs, 'route', 'add', '10.68.0.0/24', 'via', NODE_ETH0]);
    sh('ip', ['-n', outsideNs, 'route', 'add', `${FLOATING}/32`, 'via', NODE_ETH0]);
    await w.putNamespaceProfile('default');
    pod = await w.addPod('pod-a', '10.68.0.2', { app: 'a' }, { noEndpoint: true });
    await w.put({
      kind: 'WorkloadEndpoint',
      metadata: { name: w.wepName(pod), namespace: 'default', labels: { app: 'a' } },
      spec: {
        node: 'tp-node',
        orchestrator: 'k8s',
        pod: 'pod-a',
        endpoint: 'eth0',
        interfaceName: pod.hostIf,
        ipNetworks: ['10.68.0.2/32'],
        ipNATs: [{ internalIP: '10.68.0.2', externalIP: FLOATING }],
        profiles: ['kns.default'],
      },
    });
    await w.startAgent({ FELIX_FAILSAFEINBOUNDHOSTPORTS: 'tcp:2022', FELIX_FLOATINGIPS: 'Enabled' });
    for (const port of [2022, 8000, 8001, 8002]) w.serve(host(), port);
    w.serve(pod, 80);
    w.canConnect(outside, pod.ip, 80); // warm-up
  });
  after(() => w.teardown()); // also removes tp-hep-x (the world's name prefix)

  const gnp = async (name: string, spec: Record<string, unknown>): Promise<void> => {
    await w.put({ kind: 'GlobalNetworkPolicy', metadata: { name }, spec });
    await w.settle();
  };

  test('floating IP: traffic to the external address reaches the pod (DNAT)', () => {
    assert.equal(w.canConnect(outside, FLOATING, 80), true);
  });

  test('a host endpoint without policy denies everything but the failsafe ports', async () => {
    assert.equal(w.canConnect(outside, NODE_ETH0, 8000), true, 'no host endpoint yet: open');
    await w.put({
      kind: 'HostEndpoint',
      metadata: { name: 'tp-node-eth0', labels: { host: 'yes' } },
      spec: { node: 'tp-node', interfaceName: 'eth0', expectedIPs: [NODE_ETH0] },
    });
    await w.settle();
    assert.equal(w.canConnect(outside, NODE_ETH0, 8000), false);
    assert.equal(w.canConnect(outside, NODE_ETH0, 2022), true, 'failsafe port stays open');
    assert.equal(w.canConnect(outside, pod.ip, 80), true, 'forwarded traffic is not policed without applyOnForward');
  });

  test('normal host policy allows one port', async () => {
    await gnp('host-8000', {
      selector: "host == 'yes'",
      types: ['Ingress', 'Egress'],
      ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [8000, 8002] } }],
      egress: [{ action: 'Allow' }],
    });
    assert.equal(w.canConnect(outside, NODE_ETH0, 8000), true);
    assert.equal(w.canConnect(outside, NODE_ETH0, 8001), false);
  });

  test('applyOnForward policy polices forwarded traffic', async () => {
    await gnp('fwd-deny', {
      selector: "host == 'yes'",
      applyOnForward: true,
      order: 10,
      types: ['Ingress'],
      ingress: [
        { action: 'Deny', protocol: 'TCP', destination: { nets: ['10.68.0.0/24'], ports: [80] } },
        { action: 'Allow' },
      ],
    });
    assert.equal(w.canConnect(outside, pod.ip, 80), false);
    await w.del('GlobalNetworkPolicy', 'fwd-deny');
    await w.settle();
    assert.equal(w.canConnect(outside, pod.ip, 80), true);
  });

  test('preDNAT policy denies before the normal policy would allow', async () => {
    await gnp('pre-deny-8000', {
      selector: "host == 'yes'",
      preDNAT: true,
      applyOnForward: true,
      types: ['Ingress'],
      ingress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: [8000] } }],
    });
    assert.equal(w.canConnect(outside, NODE_ETH0, 8000), false);
    await w.del('GlobalNetworkPolicy', 'pre-deny-8000');
    await w.settle();
    assert.equal(w.canConnect(outside, NODE_ETH0, 8000), true);
  });

  test('doNotTrack policy: allowed packets bypass conntrack (untracked counter rises)', async () => {
    await gnp('untracked-8002', {
      selector: "host == 'yes'",
      doNotTrack: true,
      applyOnForward: true,
      types: ['Ingress', 'Egress'],
      ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [8002] } }],
      egress: [{ action: 'Allow', protocol: 'TCP', source: { ports: [8002] } }],
    });
    const before = w.ruleCounter('untracked-8002 inbound rule 0');
    assert.equal(w.canConnect(outside, NODE_ETH0, 8002), true);
    assert.ok(w.ruleCounter('untracked-8002 inbound rule 0') > before);
  });
});
