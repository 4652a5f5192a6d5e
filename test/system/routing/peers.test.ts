// External and reflected peering with real daemons: a gobgpd "top-of-rack" router we did not write (eBGP, TCP-MD5
// password from a secret file), `calicoctl node status` and `-bird-ready` working and failing, and a route-reflector
// topology with the mesh off.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RoutingWorld, unreachablePairs, waitFor, routesOf, ipn, shOk } from '../../support/routing-world.js';
import { readPeerStatus } from '../../../src/routing/bird-status.js';
import { nodeStatus } from '../../../src/ctl/node-status.js';
import { main as calicoNode } from '../../../src/node/main.js';

const TOR_IP = '172.31.1.250';

async function establishedCount(socket: string): Promise<number> {
  const peers = await readPeerStatus(socket).catch(() => []);
  return peers.filter((p) => p.bgpState === 'Established').length;
}

async function populate(w: RoutingWorld): Promise<void> {
  await w.build();
  await w.putResource('IPPool', 'default-ipv4-ippool', { cidr: '10.65.0.0/16', blockSize: 26 });
  const [n1, n2, n3] = w.nodes;
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
}

describe('external peer: gobgpd as a top-of-rack router', () => {
  const w = new RoutingWorld({ tag: 'tor', nodes: 3 });
  const torNs = 'tr-tor-gobgp';
  let gobgpd: ChildProcess | undefined;
  const gobgp = (...args: string[]): string => {
    const r = shOk('ip', ['netns', 'exec', torNs, 'gobgp', ...args]);
    if (r.code !== 0) throw new Error(`gobgp ${args.join(' ')}: ${r.out}`);
    return r.out;
  };

  before(async () => {
    await populate(w);
    for (const n of w.nodes) await w.putNode(n);
    shOk('ip', ['netns', 'del', torNs]);
    shOk('ip', ['netns', 'add', torNs]);
    ipn(torNs, 'link', 'set', 'lo', 'up');
    ipn(torNs, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'trtor0', 'netns', w.ul);
    ipn(w.ul, 'link', 'set', 'trtor0', 'master', 'br0', 'up');
    ipn(torNs, 'addr', 'add', `${TOR_IP}/24`, 'dev', 'eth0');
    ipn(torNs, 'link', 'set', 'eth0', 'up');
    const conf = [
      '[global.config]',
      '  as = 65000',
      `  router-id = "${TOR_IP}"`,
      ...w.nodes.flatMap((n) => [
        '[[neighbors]]',
        '  [neighbors.config]',
        `    neighbor-address = "${n.ip}"`,
        '    peer-as = 64512',
        '    auth-password = "tor-s3cret"',
      ]),
    ].join('\n');
    writeFileSync(path.join(w.dir, 'gobgpd.toml'), conf + '\n');
    gobgpd = spawn('ip', ['netns', 'exec', torNs, 'gobgpd', '-t', 'toml', '-f', path.join(w.dir, 'gobgpd.toml')], {
      stdio: 'ignore',
    });
    mkdirSync(path.join(w.dir, 'secrets', 'bgp-secrets'), { recursive: true });
    writeFileSync(path.join(w.dir, 'secrets', 'bgp-secrets', 'tor'), 'tor-s3cret\n');
    await w.putResource('BGPConfiguration', 'default', {
      serviceClusterIPs: [{ cidr: '10.96.0.0/12' }],
      communities: [{ name: 'rack-a', value: '65000:100' }],
      prefixAdvertisements: [{ cidr: '10.65.1.0/26', communities: ['rack-a', '65000:1:2'] }],
    });
    // a pool whose routes the ToR must not get (BGPFilter below)
    await w.putResource('IPPool', 'rack-local', { cidr: '10.67.0.0/16', blockSize: 26 });
    await w.putBlock('10.67.2.0/26', 'node2');
    await w.putResource('BGPFilter', 'tor-filter', {
      exportV4: [{ action: 'Reject', matchOperator: 'In', cidr: '10.67.0.0/16' }],
      importV4: [{ action: 'Reject', matchOperator: 'In', cidr: '203.0.113.0/24' }],
    });
    await w.putResource('BGPPeer', 'tor', {
      filters: ['tor-filter'],
      peerIP: TOR_IP,
      asNumber: 65000,
      password: { secretKeyRef: { name: 'bgp-secrets', key: 'tor' } },
    });
    await w.startControllers('bird');
  });
  after(async () => {
    if (gobgpd?.pid) shOk('kill', ['-9', String(gobgpd.pid)]);
    await w.teardown();
    shOk('ip', ['netns', 'del', torNs]);
  });

  test('gobgp RIB holds every node block and the borrowed /32s, never a /32 inside its owner block', async () => {
    const want = ['10.65.1.0/26', '10.65.2.0/26', '10.65.3.0/26', '10.65.4.0/26', '10.65.4.2/32', '10.65.4.3/32'];
    await waitFor('gobgp RIB', () => want.every((p) => gobgp('global', 'rib').includes(p)), 20_000);
    const rib = gobgp('global', 'rib');
    assert.doesNotMatch(rib, /10\.65\.1\.2\/32|10\.65\.4\.1\/32/);
    assert.doesNotMatch(rib, /10\.67\./, 'BGPFilter tor-filter rejects the rack-local pool on export');
    await waitFor(
      'the mesh still carries it',
      () => /10\.67\.2\.0\/26 via 172\.31\.1\.12/.test(routesOf(w.nodes[0].ns)),
      10_000,
    );
    assert.doesNotMatch(gobgp('global', 'rib'), /10\.67\./);
    assert.match(gobgp('neighbor'), /172\.31\.1\.11\s+64512\s+\S+\s+Establ/);
  });

  test('service ranges are announced; prefixAdvertisements set communities (standard and large)', async () => {
    await waitFor('service range in gobgp', () => gobgp('global', 'rib').includes('10.96.0.0/12'), 10_000);
    const block = gobgp('global', 'rib', '10.65.1.0/26');
    assert.match(block, /65000:100/);
    assert.match(block, /65000:1:2/);
    assert.doesNotMatch(gobgp('global', 'rib', '10.65.2.0/26'), /65000:100/);
    for (const n of w.nodes)
      assert.doesNotMatch(routesOf(n.ns), /10\.96\.0\.0\/12/, 'service ranges are never programmed');
  });

  test('a route gobgp announces is learnt by every node; one the BGPFilter rejects is not', async () => {
    gobgp('global', 'rib', 'add', '203.0.113.0/24', '-a', 'ipv4');
    gobgp('global', 'rib', 'add', '198.51.100.0/24', '-a', 'ipv4');
    for (const n of w.nodes) {
      await waitFor(
        `${n.name} learns 198.51.100.0/24`,
        () => /198\.51\.100\.0\/24 via 172\.31\.1\.250 dev eth0 proto bird/.test(routesOf(n.ns)),
        10_000,
      );
      assert.doesNotMatch(routesOf(n.ns), /203\.0\.113\.0/, 'BGPFilter tor-filter rejects this route on import');
    }
  });

  test('calicoctl node status lists the mesh and the global peer; -bird-ready passes', async () => {
    const n1 = w.nodes[0];
    await waitFor('all node1 sessions up', async () => (await establishedCount(n1.socket)) === 3, 15_000);
    const { code, output } = await nodeStatus({ socketPath: n1.socket, calicoRunning: () => true });
    assert.equal(code, 0);
    const lines = output.split('\n');
    assert.equal(lines[0], 'Calico process is running.');
    assert.equal(lines[2], 'IPv4 BGP status');
    assert.match(lines[4], /^\| PEER ADDRESS \| +PEER TYPE +\| STATE \| +SINCE +\| +INFO +\|$/);
    const rows = lines
      .filter((l) => /^\| \d/.test(l))
      .map((l) =>
        l
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim()),
      );
    assert.deepEqual(
      rows.map((r) => [r[0], r[1], r[2], r[4]]),
      [
        ['172.31.1.12', 'node-to-node mesh', 'up', 'Established'],
        ['172.31.1.13', 'node-to-node mesh', 'up', 'Established'],
        ['172.31.1.250', 'global', 'up', 'Established'],
      ],
    );
    for (const r of rows) assert.match(r[3], /^\d\d:\d\d:\d\d$/, 'since is one token');
    assert.match(output, /IPv6 BGP status\nNo IPv6 peers found\.\n$/);
    process.env.CALICO_BIRD_SOCKET = n1.socket;
    try {
      assert.equal(await calicoNode(['-bird-ready']), 0);
      assert.equal(await calicoNode(['-bird-live']), 0);
    } finally {
      delete process.env.CALICO_BIRD_SOCKET;
    }
  });

  test('peer down: node status shows it and -bird-ready fails naming the peer and why', async () => {
    shOk('kill', ['-9', String(gobgpd!.pid)]);
    const n1 = w.nodes[0];
    await waitFor('tor session down', async () => (await establishedCount(n1.socket)) === 2, 15_000);
    const { output } = await nodeStatus({ socketPath: n1.socket, calicoRunning: () => true });
    const tor = output.split('\n').find((l) => l.includes('172.31.1.250'))!;
    assert.doesNotMatch(tor, /Established/);
    const { birdReady } = await import('../../../src/routing/probes.js');
    const r = await birdReady(n1.socket);
    assert.equal(r.ok, false);
    assert.match(
      r.message,
      /^BIRD is not ready: BGP not established with 172\.31\.1\.250 \(start, (Active|Connect|Idle)/,
    );
    assert.doesNotMatch(r.message, /172\.31\.1\.12/);
    const stopped = await nodeStatus({ socketPath: path.join(w.dir, 'nope.ctl'), calicoRunning: () => true });
    assert.match(stopped.output, /The BGP backend process \(BIRD\) is not running\./);
    assert.deepEqual(await nodeStatus({ calicoRunning: () => false }), {
      code: 1,
      output: 'Calico process is not running.\n',
    });
  });
});

describe('route reflector: node1 reflects, the mesh is off', () => {
  const w = new RoutingWorld({ tag: 'rr', nodes: 3 });
  before(async () => {
    await populate(w);
    await w.putNode(w.nodes[0], {
      bgp: { routeReflectorClusterID: '224.0.0.1' },
      labels: { 'route-reflector': 'true' },
    });
    await w.putNode(w.nodes[1]);
    await w.putNode(w.nodes[2]);
    await w.putResource('BGPConfiguration', 'default', { nodeToNodeMeshEnabled: false });
    await w.putResource('BGPPeer', 'peer-with-route-reflectors', {
      nodeSelector: 'all()',
      peerSelector: "route-reflector == 'true'",
    });
    await w.startControllers('bird');
  });
  after(() => w.teardown());

  test('clients peer only with the reflector and every pod is reachable', async () => {
    const [n1, n2, n3] = w.nodes;
    await waitFor('reflector sessions', async () => (await establishedCount(n1.socket)) === 2, 15_000);
    assert.deepEqual(
      (await readPeerStatus(n2.socket)).map((p) => `${p.address} ${p.type}`),
      ['172.31.1.11 node specific'],
    );
    await waitFor(
      'node3 block on node2 via the reflector',
      () => /10\.65\.3\.0\/26 via 172\.31\.1\.13/.test(routesOf(n2.ns)),
      10_000,
    );
    await waitFor('borrowed /32 reflected', () => /10\.65\.4\.3 via 172\.31\.1\.13/.test(routesOf(n2.ns)), 10_000);
    assert.deepEqual(await unreachablePairs(w.pods), []);
    void n3;
  });
});
