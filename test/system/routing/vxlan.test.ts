// VXLAN mode (no BGP) on three node namespaces: vxlan.calico with VNI 4096 / port 4789 / MTU underlay-50, ARP + FDB
// + onlink routes to remote blocks, /32 routes to borrowed addresses; CrossSubnet across two underlay subnets.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RoutingWorld, unreachablePairs, routesOf, ipn, sh } from '../../support/routing-world.js';
import { resourceKey } from '../../../src/datastore/keys.js';

async function populate(w: RoutingWorld, vxlanMode: 'Always' | 'CrossSubnet'): Promise<void> {
  await w.build();
  for (const [i, n] of w.nodes.entries()) await w.putNode(n, { vtep: `10.65.${i + 1}.1` });
  await w.putResource('IPPool', 'default-ipv4-ippool', { cidr: '10.65.0.0/16', blockSize: 26, vxlanMode });
  const [n1, n2, n3] = w.nodes;
  await w.putBlock('10.65.1.0/26', 'node1', { '10.65.1.1': 'node1', '10.65.1.2': 'node1' });
  await w.putBlock('10.65.2.0/26', 'node2', { '10.65.2.1': 'node2', '10.65.2.2': 'node2' });
  await w.putBlock('10.65.3.0/26', 'node3', { '10.65.3.1': 'node3', '10.65.3.2': 'node3' });
  await w.putBlock('10.65.4.0/26', 'node1', { '10.65.4.1': 'node1', '10.65.4.2': 'node2', '10.65.4.3': 'node3' });
  await w.addPod(n1, '10.65.1.2');
  await w.addPod(n2, '10.65.2.2');
  await w.addPod(n3, '10.65.3.2');
  await w.addPod(n1, '10.65.4.1');
  await w.addPod(n2, '10.65.4.2');
  await w.addPod(n3, '10.65.4.3');
  await w.startControllers('vxlan');
  await w.settle();
}

describe('VXLAN mode (vxlanMode Always)', () => {
  const w = new RoutingWorld({ tag: 'vx', nodes: 3 });
  before(() => populate(w, 'Always'));
  after(() => w.teardown());

  test('vxlan.calico: VNI 4096, port 4789, learning off, MTU underlay - 50, VTEP address and MAC from the Node', () => {
    const [link] = JSON.parse(ipn('tr-vx-n1', '-d', '-j', 'addr', 'show', 'vxlan.calico'));
    assert.equal(link.linkinfo.info_data.id, 4096);
    assert.equal(link.linkinfo.info_data.port, 4789);
    assert.equal(link.linkinfo.info_data.learning, false);
    assert.equal(link.mtu, 1450);
    assert.equal(link.address, '66:cc:00:00:00:01');
    assert.deepEqual(
      link.addr_info.filter((a: any) => a.family === 'inet').map((a: any) => `${a.local}/${a.prefixlen}`),
      ['10.65.1.1/32'],
    );
  });

  test('ARP, FDB and onlink routes for each remote node; /32 routes to borrowed addresses', () => {
    const r1 = routesOf('tr-vx-n1');
    assert.match(r1, /^10\.65\.2\.0\/26 via 10\.65\.2\.1 dev vxlan\.calico proto 80 onlink/m);
    assert.match(
      r1,
      /^10\.65\.4\.2 via 10\.65\.2\.1 dev vxlan\.calico proto 80 onlink/m,
      'borrowed from our own block',
    );
    assert.match(r1, /^blackhole 10\.65\.4\.0\/26 proto 80/m);
    const r2 = routesOf('tr-vx-n2');
    assert.match(r2, /^10\.65\.4\.0\/26 via 10\.65\.1\.1 dev vxlan\.calico proto 80 onlink/m);
    assert.match(r2, /^10\.65\.4\.3 via 10\.65\.3\.1 dev vxlan\.calico proto 80 onlink/m, 'borrowed by a third node');
    assert.match(
      ipn('tr-vx-n1', 'neigh', 'show', 'dev', 'vxlan.calico'),
      /10\.65\.2\.1 lladdr 66:cc:00:00:00:02 PERMANENT/,
    );
    assert.match(
      sh('bridge', ['-n', 'tr-vx-n1', 'fdb', 'show', 'dev', 'vxlan.calico']),
      /66:cc:00:00:00:02 dst 172\.31\.1\.12 self permanent/,
    );
  });

  test('every pod reaches every other pod', async () => {
    assert.deepEqual(await unreachablePairs(w.pods), []);
  });

  test('drift is repaired and a deleted Node takes its routes, ARP and FDB entries with it', async () => {
    ipn('tr-vx-n1', 'route', 'del', '10.65.3.0/26');
    // a pod the CNI plugin is still setting up: veth and route exist, its WorkloadEndpoint is not written yet
    ipn('tr-vx-n1', 'link', 'add', 'calitrnew', 'type', 'veth', 'peer', 'name', 'trnewpeer');
    ipn('tr-vx-n1', 'link', 'set', 'calitrnew', 'up');
    ipn('tr-vx-n1', 'route', 'add', '10.65.1.40/32', 'dev', 'calitrnew', 'scope', 'link');
    await w.ds.delete(resourceKey('Node', 'node2'));
    await w.settle();
    w.nodes[0].controller!.resync(); // the periodic refresh, now
    await w.settle();
    const r1 = routesOf('tr-vx-n1');
    assert.match(r1, /^10\.65\.3\.0\/26 via 10\.65\.3\.1 dev vxlan\.calico/m, 'route removed by hand is back');
    assert.match(r1, /^10\.65\.1\.40 dev calitrnew scope link/m, 'a pod route without its endpoint yet is left alone');
    assert.doesNotMatch(r1, /10\.65\.2\.1/);
    assert.doesNotMatch(ipn('tr-vx-n1', 'neigh', 'show', 'dev', 'vxlan.calico'), /10\.65\.2\.1/);
    assert.doesNotMatch(sh('bridge', ['-n', 'tr-vx-n1', 'fdb', 'show', 'dev', 'vxlan.calico']), /172\.31\.1\.12/);
  });
});

describe('VXLAN CrossSubnet: direct inside a subnet, VXLAN across subnets', () => {
  const w = new RoutingWorld({ tag: 'xs', nodes: 3, twoSubnets: true });
  before(() => populate(w, 'CrossSubnet'));
  after(() => w.teardown());

  test('same subnet routes go direct on eth0, the other subnet through vxlan.calico', () => {
    const r1 = routesOf('tr-xs-n1'); // node1 and node3 share 172.31.1.0/24; node2 is in 172.31.2.0/24
    assert.match(r1, /^10\.65\.3\.0\/26 via 172\.31\.1\.13 dev eth0 proto 80/m);
    assert.match(r1, /^10\.65\.2\.0\/26 via 10\.65\.2\.1 dev vxlan\.calico proto 80 onlink/m);
    assert.match(r1, /^10\.65\.4\.3 via 172\.31\.1\.13 dev eth0 proto 80/m);
    assert.match(r1, /^10\.65\.4\.2 via 10\.65\.2\.1 dev vxlan\.calico proto 80 onlink/m);
  });

  test('every pod reaches every other pod', async () => {
    assert.deepEqual(await unreachablePairs(w.pods), []);
  });
});
