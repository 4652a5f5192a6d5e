// BGP mode with real BIRD 2 on three node namespaces: full mesh, pods on every node, borrowed addresses,
// Node deletion, graceful restart after BIRD is killed.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RoutingWorld, unreachablePairs, waitFor, routesOf, ipn, sh } from '../../support/routing-world.js';
import { birdCommand } from '../../../src/routing/bird-socket.js';
import { resourceKey } from '../../../src/datastore/keys.js';
import { readFileSync } from 'node:fs';

async function established(socket: string): Promise<string[]> {
  const lines = await birdCommand(socket, 'show protocols').catch(() => []);
  return lines.filter((l) => / BGP .* Established/.test(l.text)).map((l) => l.text.split(/\s+/)[0]);
}

describe('BGP mode: full mesh through BIRD 2', () => {
  const w = new RoutingWorld({ tag: 'bgp', nodes: 3 });

  before(async () => {
    await w.build();
    for (const n of w.nodes) await w.putNode(n);
    await w.putResource('BGPConfiguration', 'default', { nodeToNodeMeshEnabled: true, nodeMeshMaxRestartTime: '3s' });
    await w.putResource('IPPool', 'default-ipv4-ippool', { cidr: '10.65.0.0/16', blockSize: 26 });
    const [n1, n2, n3] = w.nodes;
    // Each node's own block, and a block of node1 whose addresses are held by all three nodes (two borrowed).
    await w.putBlock('10.65.1.0/26', 'node1', { '10.65.1.2': 'node1' });
    await w.putBlock('10.65.2.0/26', 'node2', { '10.65.2.2': 'node2' });
    await w.putBlock('10.65.3.0/26', 'node3', { '10.65.3.2': 'node3' });
    await w.putBlock('10.65.4.0/26', 'node1', { '10.65.4.1': 'node1', '10.65.4.2': 'node2', '10.65.4.3': 'node3' });
    await w.addPod(n1, '10.65.1.2');
    await w.addPod(n2, '10.65.2.2');
    await w.addPod(n3, '10.65.3.2');
    await w.addPod(n1, '10.65.4.1');
    await w.addPod(n2, '10.65.4.2');
    await w.addPod(n3, '10.65.4.3');
    await w.startControllers('bird');
  });
  after(() => w.teardown());

  test('every mesh session reaches Established', async () => {
    for (const n of w.nodes) {
      await waitFor(`${n.name} sessions Established`, async () => (await established(n.socket)).length === 2, 15_000);
      const names = await established(n.socket);
      const expected = w.nodes.filter((o) => o !== n).map((o) => `Mesh_${o.ip.replace(/\./g, '_')}`);
      assert.deepEqual(names.sort(), expected.sort());
    }
  });

  test('every pod reaches every other pod, including borrowed addresses', async () => {
    await waitFor('borrowed /32 on node1', () => routesOf('tr-bgp-n1').includes('10.65.4.3 via 172.31.1.13'), 10_000);
    assert.deepEqual(await unreachablePairs(w.pods), []);
  });

  test('blocks are announced whole, borrowed addresses as /32, blackholes for own blocks', () => {
    const r1 = routesOf('tr-bgp-n1');
    assert.match(
      r1,
      /^blackhole 10\.65\.1\.0\/26 proto bird metric 1024/m,
      'BIRD blackholes no-encap blocks, as Calico',
    );
    assert.match(r1, /^10\.65\.2\.0\/26 via 172\.31\.1\.12 dev eth0 proto bird/m);
    assert.match(r1, /^10\.65\.4\.2 via 172\.31\.1\.12 dev eth0 proto bird/m);
    const r2 = routesOf('tr-bgp-n2');
    assert.match(r2, /^10\.65\.4\.0\/26 via 172\.31\.1\.11 dev eth0 proto bird/m);
    assert.doesNotMatch(r2, /^10\.65\.1\.2 via/m, "a /32 inside its owner's block is never announced");
  });

  test('a Node deleted: its routes are gone from the others', async () => {
    await w.ds.delete(resourceKey('Node', 'node3'));
    await waitFor('node3 routes withdrawn on node1', () => !/172\.31\.1\.13/.test(routesOf('tr-bgp-n1')), 5000);
    assert.doesNotMatch(routesOf('tr-bgp-n2'), /via 172\.31\.1\.13/);
    await w.putNode(w.nodes[2]);
    await waitFor(
      'node3 routes back on node1',
      () => /10\.65\.3\.0\/26 via 172\.31\.1\.13/.test(routesOf('tr-bgp-n1')),
      10_000,
    );
  });

  test("a node's BIRD killed: its routes stay for the graceful-restart time, then go", async () => {
    const n2 = w.nodes[1];
    // Stop supervising (a supervised BIRD comes straight back), then run a bare BIRD on the same config and
    // SIGKILL it to simulate a crash.
    await n2.controller!.stop();
    assert.equal(n2.controller!.bird!.pid, undefined);
    const { spawn } = await import('node:child_process');
    const bird = spawn(
      'ip',
      ['netns', 'exec', n2.ns, 'bird', '-f', '-c', n2.controller!.bird!.configFile, '-s', n2.socket],
      { stdio: 'ignore' },
    );
    try {
      await waitFor(
        'restarted node2 session',
        async () => (await established(w.nodes[0].socket)).includes('Mesh_172_31_1_12'),
        15_000,
      );
      await waitFor(
        'node2 block on node1',
        () => /10\.65\.2\.0\/26 via 172\.31\.1\.12/.test(routesOf('tr-bgp-n1')),
        5000,
      );
      bird.kill('SIGKILL');
      const killedAt = Date.now();
      await new Promise((r) => setTimeout(r, 1500));
      assert.match(
        routesOf('tr-bgp-n1'),
        /10\.65\.2\.0\/26 via 172\.31\.1\.12/,
        'stale route kept during graceful restart',
      );
      await waitFor(
        'node2 routes withdrawn after the restart timer',
        () => !/10\.65\.2\.0\/26 via/.test(routesOf('tr-bgp-n1')),
        15_000,
      );
      assert.ok(
        Date.now() - killedAt >= 2500,
        `withdrawn after ${Date.now() - killedAt} ms, before the 3 s restart time`,
      );
    } finally {
      bird.kill('SIGKILL');
      ipn(n2.ns, 'route', 'flush', 'proto', 'bird');
    }
  });
});

describe('BGP mode across two subnets: multihop sessions, recursive next hops', () => {
  const w = new RoutingWorld({ tag: 'bgp2', nodes: 3, twoSubnets: true });
  before(async () => {
    await w.build();
    for (const n of w.nodes) await w.putNode(n);
    await w.putResource('IPPool', 'default-ipv4-ippool', { cidr: '10.65.0.0/16' });
    for (const [i, n] of w.nodes.entries()) {
      await w.putBlock(`10.65.${i + 1}.0/26`, n.name, { [`10.65.${i + 1}.2`]: n.name });
      await w.addPod(n, `10.65.${i + 1}.2`);
    }
    await w.startControllers('bird');
  });
  after(() => w.teardown());

  test('node2 (other subnet) is a multihop peer and its block resolves through the underlay router', async () => {
    const n1 = w.nodes[0];
    const cfg = readFileSync(n1.controller!.bird!.configFile, 'utf8');
    assert.match(cfg, /protocol bgp Mesh_172_31_2_12 from bgp_template \{[^}]*multihop;[^}]*gateway recursive;/);
    assert.match(cfg, /protocol bgp Mesh_172_31_1_13 from bgp_template \{[^}]*direct;[^}]*gateway direct;/);
    await waitFor(
      'node2 block on node1',
      () => /10\.65\.2\.0\/26 via 172\.31\.1\.1 dev eth0 proto bird/.test(routesOf(n1.ns)),
      15_000,
    );
    await waitFor(
      'node1 block on node2',
      () => /10\.65\.1\.0\/26 via 172\.31\.2\.1 dev eth0 proto bird/.test(routesOf(w.nodes[1].ns)),
      15_000,
    );
    await waitFor(
      'node3 block on node1',
      () => /10\.65\.3\.0\/26 via 172\.31\.1\.13 dev eth0 proto bird/.test(routesOf(n1.ns)),
      15_000,
    );
    await waitFor(
      'node1 block on node3',
      () => /10\.65\.1\.0\/26 via 172\.31\.1\.11 dev eth0 proto bird/.test(routesOf(w.nodes[2].ns)),
      15_000,
    );
    // Pods inside one subnet reach each other; across the router they would need the router to learn the pod
    // routes (a ToR peer) or an encapsulation — which is what CrossSubnet modes are for.
    assert.deepEqual(await unreachablePairs([w.pods[0], w.pods[2]]), []);
  });

  test('a BGPPeer whose password secret is missing: clear error, BIRD keeps its config, the agent carries on', async () => {
    const n1 = w.nodes[0];
    const before = readFileSync(n1.controller!.bird!.configFile, 'utf8');
    await w.putResource('BGPPeer', 'secret-peer', {
      peerIP: '172.31.1.99',
      asNumber: 65099,
      password: { secretKeyRef: { name: 'absent', key: 'pw' } },
    });
    await w.putResource('IPPool', 'egress-pool', { cidr: '10.80.0.0/16', natOutgoing: true });
    await w.settle();
    assert.match(
      n1.controller!.lastError ?? '',
      /Global_172_31_1_99: BGP password secret "absent\/pw" could not be read/,
    );
    assert.equal(readFileSync(n1.controller!.bird!.configFile, 'utf8'), before);
    const nat = sh('ip', ['netns', 'exec', n1.ns, 'nft', 'list', 'set', 'ip', 'calico', 'masq-ipam-pools']);
    assert.match(nat, /10\.80\.0\.0\/16/, 'NAT-outgoing still follows the pools');
  });
});
