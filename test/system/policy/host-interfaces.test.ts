// Host endpoints resolved against the node's real interfaces, through the agent, its interface monitor and nft: a
// node with eth0 and eth1 facing an "outside" namespace. An endpoint with only expectedIPs governs whichever
// interface holds one of its addresses (following the address when it is added or removed), and an all-interfaces
// endpoint leaves alone the interfaces a FelixConfiguration interfaceExclude /regex/ matches.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyWorld, sh } from './world.js';

const ETH0 = { node: '172.31.6.1', outside: '172.31.6.2' };
const ETH1 = { node: '172.31.7.1', outside: '172.31.7.2' };
const EXPECTED = '172.31.8.1';

describe('host endpoints and the host interfaces', () => {
  const w = new PolicyWorld('hif');
  const outside = 'tp-hif-x';

  /** Polls until a connection's outcome is `want` (interface changes reach the kernel asynchronously). */
  const eventually = async (ip: string, want: boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 8000;
    for (;;) {
      const got = w.canConnect(outside, ip, 8000);
      if (got === want) return;
      if (Date.now() > deadline) assert.equal(got, want, what);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  before(async () => {
    w.setup();
    sh('ip', ['netns', 'add', outside]);
    sh('ip', ['-n', outside, 'link', 'set', 'lo', 'up']);
    for (const [dev, a] of [
      ['eth0', ETH0],
      ['eth1', ETH1],
    ] as const) {
      sh('ip', ['-n', w.node, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', dev, 'netns', outside]);
      sh('ip', ['-n', w.node, 'addr', 'add', `${a.node}/24`, 'dev', dev]);
      sh('ip', ['-n', w.node, 'link', 'set', dev, 'up']);
      sh('ip', ['-n', outside, 'addr', 'add', `${a.outside}/24`, 'dev', dev]);
      sh('ip', ['-n', outside, 'link', 'set', dev, 'up']);
    }
    await w.startAgent({ FELIX_FAILSAFEINBOUNDHOSTPORTS: 'tcp:2022' });
    w.serve({ netns: w.node, name: 'node' } as never, 8000);
    assert.equal(w.canConnect(outside, ETH0.node, 8000), true, 'no host endpoint: open');
  });
  after(() => w.teardown()); // also removes tp-hif-x (the world's name prefix)

  test('an endpoint with only expectedIPs governs the interface that gets one of its addresses, and only while', async () => {
    await w.put({
      kind: 'HostEndpoint',
      metadata: { name: 'by-address', labels: { host: 'yes' } },
      spec: { node: 'tp-node', expectedIPs: [EXPECTED] },
    });
    await w.settle();
    assert.equal(w.canConnect(outside, ETH0.node, 8000), true, 'no interface holds the address yet');

    sh('ip', ['-n', w.node, 'addr', 'add', `${EXPECTED}/32`, 'dev', 'eth0']);
    await eventually(ETH0.node, false, 'eth0 now holds the address: a host endpoint without policy denies');
    assert.equal(w.canConnect(outside, ETH1.node, 8000), true, 'eth1 is not governed');

    await w.put({
      kind: 'GlobalNetworkPolicy',
      metadata: { name: 'host-8000' },
      spec: {
        selector: "host == 'yes'",
        types: ['Ingress', 'Egress'],
        ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [8000] } }],
        egress: [{ action: 'Allow' }],
      },
    });
    await w.settle();
    assert.equal(w.canConnect(outside, ETH0.node, 8000), true, 'its policy applies on eth0');
    await w.del('GlobalNetworkPolicy', 'host-8000');
    await w.settle();
    assert.equal(w.canConnect(outside, ETH0.node, 8000), false);

    sh('ip', ['-n', w.node, 'addr', 'del', `${EXPECTED}/32`, 'dev', 'eth0']);
    await eventually(ETH0.node, true, 'the address left eth0: no longer governed');
    await w.del('HostEndpoint', 'by-address');
    await w.settle();
  });

  test('an all-interfaces endpoint skips the interfaces an interfaceExclude /regex/ matches', async () => {
    await w.put({
      kind: 'HostEndpoint',
      metadata: { name: 'all', labels: { host: 'yes' } },
      spec: { node: 'tp-node', interfaceName: '*' },
    });
    await w.settle();
    assert.equal(w.canConnect(outside, ETH0.node, 8000), false, 'all interfaces governed (default deny)');
    assert.equal(w.canConnect(outside, ETH1.node, 8000), false);

    await w.put({
      kind: 'FelixConfiguration',
      metadata: { name: 'default' },
      spec: { interfaceExclude: 'kube-ipvs0,/^eth[1-9]$/' },
    });
    await w.settle();
    assert.equal(w.canConnect(outside, ETH1.node, 8000), true, 'eth1 matches /^eth[1-9]$/: excluded');
    assert.equal(w.canConnect(outside, ETH0.node, 8000), false, 'eth0 does not match: still governed');
    await w.del('HostEndpoint', 'all');
    await w.settle();
  });
});
