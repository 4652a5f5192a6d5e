// Dual stack: IPv6 sessions and routes through the same single BIRD (ipv6 {} channels, Mesh_fd00_31__1N names),
// IPv6 pods and borrowed /128s in BGP mode; vxlan-v6.calico in VXLAN mode.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { formatIp, parseIp } from '../../../src/net/ip.js';
import { RoutingWorld, unreachablePairs, waitFor, routesOf, ipn, nsExec, shOk } from '../../support/routing-world.js';
import { readPeerStatus } from '../../../src/routing/bird-status.js';
import { nodeStatus } from '../../../src/ctl/node-status.js';

async function populate(w: RoutingWorld, vxlan: boolean): Promise<void> {
  await w.build();
  for (const [i, n] of w.nodes.entries()) {
    await w.putNode(n, vxlan ? { vtep: `10.65.${i + 1}.1` } : {});
  }
  const mode = vxlan ? 'Always' : 'Never';
  await w.putResource('IPPool', 'default-ipv4-ippool', { cidr: '10.65.0.0/16', vxlanMode: mode });
  await w.putResource('IPPool', 'default-ipv6-ippool', { cidr: 'fd10::/48', blockSize: 122, vxlanMode: mode });
  for (const [i, n] of w.nodes.entries()) {
    await w.putBlock(`10.65.${i + 1}.0/26`, n.name, { [`10.65.${i + 1}.2`]: n.name });
    await w.putBlock(`fd10:0:0:${i + 1}::/122`, n.name, { [`fd10:0:0:${i + 1}::2`]: n.name });
    await w.addPod(n, `10.65.${i + 1}.2`, `fd10:0:0:${i + 1}::2`);
  }
  // one v6 block of node1 with addresses held by all three nodes
  await w.putBlock('fd10:0:0:9::/122', 'node1', {
    'fd10:0:0:9::1': 'node1',
    'fd10:0:0:9::2': 'node2',
    'fd10:0:0:9::3': 'node3',
  });
  for (const [i, n] of w.nodes.entries()) await w.addPod(n, `10.65.${i + 1}.3`, `fd10:0:0:9::${i + 1}`);
}

describe('IPv6 in BGP mode (one BIRD, both families)', () => {
  const w = new RoutingWorld({ tag: 'v6b', nodes: 3, ipv6: true });
  before(async () => {
    await populate(w, false);
    await w.startControllers('bird');
  });
  after(() => w.teardown());

  test('IPv6 mesh sessions Established on the same socket; node status shows both tables', async () => {
    const n1 = w.nodes[0];
    await waitFor(
      '4 sessions on node1',
      async () =>
        (await readPeerStatus(n1.socket).catch(() => [])).filter((p) => p.bgpState === 'Established').length === 4,
      15_000,
    );
    const { output } = await nodeStatus({ socketPath: n1.socket, calicoRunning: () => true });
    assert.match(output, /IPv6 BGP status\n\+-+/);
    assert.match(output, /\| fd00:31::12 +\| node-to-node mesh \| up +\|/);
    assert.match(output, /\| 172\.31\.1\.12 +\| node-to-node mesh \| up +\|/);
  });

  test('every pod reaches every other pod over IPv6, borrowed /128s included', async () => {
    await waitFor(
      'borrowed /128 on node1',
      () => ipn('tr-v6b-n1', '-6', 'route').includes('fd10:0:0:9::3 via fd00:31::13'),
      15_000,
    );
    await waitFor(
      'blocks on node2',
      () => /fd10:0:0:1::\/122 via fd00:31::11/.test(ipn('tr-v6b-n2', '-6', 'route')),
      15_000,
    );
    await waitFor(
      'blocks on node3',
      () => /fd10:0:0:2::\/122 via fd00:31::12/.test(ipn('tr-v6b-n3', '-6', 'route')),
      15_000,
    );
    assert.deepEqual(await unreachablePairs(w.pods, 6), []);
    assert.deepEqual(await unreachablePairs(w.pods, 4), []);
  });
});

describe('IPv6 in VXLAN mode (vxlan-v6.calico)', () => {
  const w = new RoutingWorld({ tag: 'v6x', nodes: 3, ipv6: true });
  before(async () => {
    await populate(w, true);
    for (const [i, n] of w.nodes.entries()) {
      await w.putNode(n, { vtep: `10.65.${i + 1}.1` });
      // add the v6 VTEP to the Node as start-up would
      const key = `/calico/resources/v3/projectcalico.org/nodes/${n.name}`;
      const node = JSON.parse((await w.ds.get(key))!.value);
      node.spec.ipv6VXLANTunnelAddr = `fd10:0:0:${i + 1}::1`;
      node.spec.vxlanTunnelMACAddrV6 = `66:cc:00:00:06:0${i + 1}`;
      await w.ds.put(key, JSON.stringify(node));
    }
    await w.startControllers('vxlan');
    await w.settle();
  });
  after(() => w.teardown());

  test('vxlan-v6.calico with MTU underlay - 70, onlink routes through remote v6 VTEPs', () => {
    const [link] = JSON.parse(ipn('tr-v6x-n1', '-d', '-j', 'link', 'show', 'vxlan-v6.calico'));
    assert.equal(link.mtu, 1430);
    assert.equal(link.address, '66:cc:00:00:06:01');
    assert.match(
      ipn('tr-v6x-n1', '-6', 'route'),
      /fd10:0:0:2::\/122 via fd10:0:0:2::1 dev vxlan-v6\.calico proto 80 .*onlink/,
    );
    assert.match(ipn('tr-v6x-n1', '-6', 'route'), /fd10:0:0:9::2 via fd10:0:0:2::1 dev vxlan-v6\.calico/);
    assert.match(routesOf('tr-v6x-n1'), /10\.65\.2\.0\/26 via 10\.65\.2\.1 dev vxlan\.calico/);
  });

  test('every pod reaches every other pod over IPv6 and IPv4', async () => {
    assert.deepEqual(await unreachablePairs(w.pods, 6), []);
    assert.deepEqual(await unreachablePairs(w.pods, 4), []);
  });

  test('IPv6 NAT-outgoing: the underlay server sees the node address, or the pod address when off', async () => {
    const server = spawn(
      'ip',
      ['netns', 'exec', w.ul, 'socat', 'TCP6-LISTEN:18080,fork,reuseaddr', 'SYSTEM:echo $SOCAT_PEERADDR'],
      { stdio: 'ignore' },
    );
    try {
      ipn(w.ul, '-6', 'route', 'add', 'fd10:0:0:1::/122', 'via', 'fd00:31::11');
      const pod = w.pods[0];
      const seen = (): string =>
        nsExec(pod.ns, 'socat', '-T', '2', '-', 'TCP6:[fd00:31::1]:18080,connect-timeout=2')
          .trim()
          .replace(/^\[|\]$/g, '');
      const canonical = (): string => formatIp(parseIp(seen()));
      await waitFor('echo server', () => nsExec(w.ul, 'ss', '-ltn').includes(':18080'), 5000);
      const spec = { cidr: 'fd10::/48', blockSize: 122, vxlanMode: 'Always' };
      await w.putResource('IPPool', 'default-ipv6-ippool', { ...spec, natOutgoing: true });
      await w.settle();
      assert.equal(canonical(), 'fd00:31::11');
      await w.putResource('IPPool', 'default-ipv6-ippool', { ...spec, natOutgoing: false });
      await w.settle();
      assert.equal(canonical(), pod.ip6);
    } finally {
      if (server.pid) shOk('kill', ['-9', String(server.pid)]);
    }
  });
});
