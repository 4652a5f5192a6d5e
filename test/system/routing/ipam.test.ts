// Addresses from the real IPAM (IpamClient, Calico's block format written by it, not by hand): each node claims a
// block; a pool of a single /26 makes the second and third nodes borrow from the first node's block. BGP and VXLAN
// modes both route the borrowed addresses.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RoutingWorld, unreachablePairs, waitFor, routesOf } from '../../support/routing-world.js';
import { IpamClient } from '../../../src/ipam/client.js';

async function populate(w: RoutingWorld, vxlanMode: 'Always' | 'Never'): Promise<void> {
  await w.build();
  for (const n of w.nodes) await w.putNode(n);
  await w.putResource('IPPool', 'own', { cidr: '10.65.0.0/16', blockSize: 26, vxlanMode });
  await w.putResource('IPPool', 'tiny', { cidr: '10.66.0.0/26', blockSize: 26, vxlanMode });
  const ipam = new IpamClient(w.ds);
  if (vxlanMode === 'Always') {
    for (const [i, n] of w.nodes.entries()) {
      const vtep = await ipam.ensureTunnelAddress(n.name, 'vxlan', 4);
      await w.putNode(n, { vtep });
      const key = `/calico/resources/v3/projectcalico.org/nodes/${n.name}`;
      const node = JSON.parse((await w.ds.get(key))!.value);
      node.spec.vxlanTunnelMACAddr = `66:cc:00:00:00:0${i + 1}`;
      await w.ds.put(key, JSON.stringify(node));
    }
  }
  for (const n of w.nodes) {
    for (const pool of ['10.65.0.0/16', '10.66.0.0/26']) {
      const res = await ipam.autoAssign({
        num4: 1,
        num6: 0,
        handleId: `k8s-pod-network.${n.name}-${pool}`,
        attrs: { node: n.name, namespace: 'default', pod: `p-${n.name}` },
        hostname: n.name,
        ipv4Pools: [pool],
        intendedUse: 'Workload',
      });
      await w.addPod(n, res.ipv4[0].split('/')[0]);
    }
  }
}

for (const mode of ['bgp', 'vxlan'] as const) {
  describe(`addresses from the real IPAM, ${mode} mode`, () => {
    const w = new RoutingWorld({ tag: `ia${mode[0]}`, nodes: 3 });
    before(async () => {
      await populate(w, mode === 'vxlan' ? 'Always' : 'Never');
      await w.startControllers(mode === 'bgp' ? 'bird' : 'vxlan');
    });
    after(() => w.teardown());

    test('three pods on three nodes share the one /26 (two borrowed) and every pod reaches every other', async () => {
      const tiny = w.pods.filter((p) => p.ip.startsWith('10.66.0.'));
      assert.equal(new Set(tiny.map((p) => p.node.name)).size, 3, 'one address of the /26 on each node');
      const holder2 = tiny.find((p) => p.node.name === 'node2')!;
      const via = mode === 'bgp' ? `via ${w.nodes[1].ip} dev eth0 proto bird` : 'dev vxlan.calico proto 80';
      await waitFor(
        `borrowed ${holder2.ip} routed on node3`,
        () => routesOf(w.nodes[2].ns).includes(`${holder2.ip} `) && routesOf(w.nodes[2].ns).includes(via),
        15_000,
      );
      await waitFor(
        'all blocks everywhere',
        () => w.nodes.every((n) => (routesOf(n.ns).match(/10\.65\.\d+\.\d+\/26/g) ?? []).length === 3),
        15_000,
      );
      assert.deepEqual(await unreachablePairs(w.pods), []);
    });
  });
}
