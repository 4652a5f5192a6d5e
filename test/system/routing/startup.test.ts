// Node start-up against a real etcd, in a node namespace: autodetection methods, Node registration, node name file,
// default pools from CALICO_IPV4POOL_*, ClusterInformation and the built-in tiers, VXLAN tunnel address + MAC,
// MTU file, clear errors.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startEtcd, type TestEtcd } from '../../support/etcd.js';
import { startTestApiServer } from '../../support/k8s.js';
import { openDatastore } from '../../../src/datastore/index.js';
import { ResourceClient } from '../../../src/datastore/resources.js';
import type { Datastore } from '../../../src/datastore/types.js';
import { runStartup, defaultPoolSpec } from '../../../src/routing/startup.js';
import { parseCidr, cidrContainsIp, parseIp } from '../../../src/net/ip.js';
import { spawn } from 'node:child_process';
import { RoutingWorld, ipn, waitFor, shOk } from '../../support/routing-world.js';
import { birdLive } from '../../../src/routing/probes.js';

describe('calico-node start-up', () => {
  const w = new RoutingWorld({ tag: 'su', nodes: 1, datastore: 'memory' }); // start-up gets its own etcd below
  let etcd: TestEtcd;
  let ds: Datastore;
  let ns: string;
  const env = (extra: Record<string, string>): Record<string, string> => ({
    NODENAME: 'node1',
    CALICO_NODENAME_FILE: path.join(w.dir, 'nodename'),
    CALICO_MTU_FILE: path.join(w.dir, 'mtu'),
    ...extra,
  });

  before(async () => {
    await w.build();
    ns = w.nodes[0].ns;
    ipn(ns, 'link', 'add', 'ens5', 'type', 'veth', 'peer', 'name', 'trsu-peer');
    ipn(ns, 'addr', 'add', '192.0.2.5/24', 'dev', 'ens5');
    ipn(ns, 'link', 'set', 'ens5', 'mtu', '1400', 'up');
    ipn(ns, 'link', 'set', 'trsu-peer', 'up');
    etcd = await startEtcd();
    ds = await openDatastore({ type: 'etcdv3', etcdEndpoints: [etcd.endpoint] });
  });
  after(async () => {
    await ds?.close();
    await etcd?.stop();
    await w.teardown();
  });

  test('first start: Node, name file, default VXLAN pool, ClusterInformation, built-in tiers, tunnel address, MTU file', async () => {
    const r = await runStartup(ds, {
      netns: ns,
      env: env({
        CALICO_IPV4POOL_CIDR: '10.70.0.0/16',
        CALICO_IPV4POOL_VXLAN: 'Always',
        CALICO_NETWORKING_BACKEND: 'vxlan',
        AS: '64600',
      }),
    });
    assert.equal(r.ipv4Address, '172.31.1.11/24');
    assert.equal(readFileSync(path.join(w.dir, 'nodename'), 'utf8'), 'node1');
    const client = new ResourceClient(ds);
    const node = await client.get('Node', 'node1');
    assert.equal(node.spec.bgp.ipv4Address, '172.31.1.11/24');
    assert.equal(node.spec.bgp.asNumber, 64600);
    assert.ok(
      cidrContainsIp(parseCidr('10.70.0.0/16'), parseIp(node.spec.ipv4VXLANTunnelAddr)),
      node.spec.ipv4VXLANTunnelAddr,
    );
    assert.match(node.spec.vxlanTunnelMACAddr, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    const pool = await client.get('IPPool', 'default-ipv4-ippool');
    assert.deepEqual(
      {
        cidr: pool.spec.cidr,
        vxlanMode: pool.spec.vxlanMode,
        natOutgoing: pool.spec.natOutgoing,
        blockSize: pool.spec.blockSize,
      },
      { cidr: '10.70.0.0/16', vxlanMode: 'Always', natOutgoing: true, blockSize: 26 },
    );
    assert.equal((await client.get('ClusterInformation', 'default')).spec.datastoreReady, true);
    // Calico's EnsureInitialized also creates the built-in tiers.
    assert.deepEqual(
      (await client.list('Tier')).items.map((t) => [t.metadata.name, t.spec.order, t.spec.defaultAction]),
      [
        ['default', 1_000_000, 'Deny'],
        ['kube-admin', 1_000, 'Pass'],
        ['kube-baseline', 10_000_000, 'Pass'],
      ],
    );
    // smallest matching MTU is ens5's 1400; VXLAN v4 costs 50
    assert.equal(readFileSync(path.join(w.dir, 'mtu'), 'utf8'), '1350\n');
    assert.equal(r.mtu, 1350);
    // a second start keeps the tunnel address and MAC
    const again = await runStartup(ds, { netns: ns, env: env({}) });
    assert.equal(again.node.spec.ipv4VXLANTunnelAddr, node.spec.ipv4VXLANTunnelAddr);
    assert.equal(again.node.spec.vxlanTunnelMACAddr, node.spec.vxlanTunnelMACAddr);
  });

  test('autodetection methods: interface=, cidr=, can-reach=, skip-interface=', async () => {
    const detect = async (method: string): Promise<string | undefined> =>
      (await runStartup(ds, { netns: ns, env: env({ IP: 'autodetect', IP_AUTODETECTION_METHOD: method }) }))
        .ipv4Address;
    assert.equal(await detect('interface=ens.*'), '192.0.2.5/24');
    assert.equal(await detect('cidr=192.0.2.0/24'), '192.0.2.5/24');
    assert.equal(await detect('can-reach=172.31.1.1'), '172.31.1.11/24');
    assert.equal(await detect('skip-interface=eth0'), '192.0.2.5/24');
    const viaK8s = await runStartup(ds, {
      netns: ns,
      env: env({
        IP: 'autodetect',
        IP_AUTODETECTION_METHOD: 'kubernetes-internal-ip',
        KUBERNETES_NODE_INTERNAL_IPS: '192.0.2.5',
      }),
    });
    assert.equal(viaK8s.ipv4Address, '192.0.2.5/24');
    // the real thing: the Node's InternalIP read from the project's Kubernetes API server
    const api = await startTestApiServer();
    try {
      const node = {
        metadata: { name: 'node1' },
        status: {
          addresses: [
            { type: 'InternalIP', address: '192.0.2.5' },
            { type: 'Hostname', address: 'node1' },
          ],
        },
      };
      const created = await api.core().createNode({ body: node });
      if (!created.status?.addresses?.length) {
        await api.core().replaceNodeStatus({ name: 'node1', body: { ...created, status: node.status } });
      }
      const r = await runStartup(ds, {
        netns: ns,
        env: env({
          IP: 'autodetect',
          IP_AUTODETECTION_METHOD: 'kubernetes-internal-ip',
          KUBECONFIG: api.kubeconfigFile,
        }),
      });
      assert.equal(r.ipv4Address, '192.0.2.5/24');
    } finally {
      await api.stop();
    }
    await assert.rejects(
      runStartup(ds, {
        netns: ns,
        env: env({ IP: 'autodetect', IP_AUTODETECTION_METHOD: 'kubernetes-internal-ip', KUBECONFIG: '/nonexistent' }),
      }),
      /kubernetes-internal-ip: could not read Kubernetes Node "node1"/,
    );
  });

  test('no address found, bad backend, bad pool settings: clear errors', async () => {
    await assert.rejects(
      runStartup(ds, { netns: ns, env: env({ IP: 'autodetect', IP_AUTODETECTION_METHOD: 'interface=wlan9' }) }),
      /Couldn't autodetect an IPv4 address with IP_AUTODETECTION_METHOD=interface=wlan9/,
    );
    await assert.rejects(
      runStartup(ds, { netns: ns, env: env({ CALICO_NETWORKING_BACKEND: 'ospf' }) }),
      /CALICO_NETWORKING_BACKEND: "ospf" is not one of bird, vxlan, none/,
    );
    assert.throws(
      () => defaultPoolSpec(4, { CALICO_IPV4POOL_CIDR: '10.0.0.1/8' }),
      /CALICO_IPV4POOL_CIDR: "10.0.0.1\/8" has host bits set/,
    );
    assert.throws(
      () => defaultPoolSpec(4, { CALICO_IPV4POOL_BLOCK_SIZE: '8' }),
      /CALICO_IPV4POOL_BLOCK_SIZE: "8" must be from 20 to 32/,
    );
    assert.throws(
      () => defaultPoolSpec(4, { CALICO_IPV4POOL_IPIP: 'Always', CALICO_IPV4POOL_VXLAN: 'Always' }),
      /cannot use IPIP and VXLAN at once/,
    );
    assert.equal(defaultPoolSpec(6, {}).natOutgoing, false);
    assert.match(String(defaultPoolSpec(6, {}).cidr), /^fd[0-9a-f]{2}:/);
  });

  test('calico-node run: start-up, then BIRD on the configured socket; SIGTERM stops it cleanly', async () => {
    const dir = path.join(w.dir, 'run');
    const socket = path.join(dir, 'bird.ctl');
    mkdirSync(dir, { recursive: true });
    const child = spawn(
      'ip',
      ['netns', 'exec', ns, process.execPath, '--import', 'tsx', path.resolve('src/bin/calico-node.ts'), 'run'],
      {
        env: {
          ...process.env,
          DATASTORE_TYPE: 'sqlite',
          SQLITE_PATH: path.join(dir, 'calico.db'),
          NODENAME: 'solo',
          CALICO_NODENAME_FILE: path.join(dir, 'nodename'),
          CALICO_MTU_FILE: path.join(dir, 'mtu'),
          CALICO_BIRD_SOCKET: socket,
          CALICO_BIRD_CONFIG_DIR: path.join(dir, 'confd'),
          CALICO_IPV4POOL_CIDR: '10.71.0.0/16',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await waitFor('BIRD live under calico-node', async () => (await birdLive(socket)).ok, 20_000).catch((e) => {
        throw new Error(`${e.message}; calico-node said: ${stderr}`);
      });
      assert.equal(readFileSync(path.join(dir, 'nodename'), 'utf8'), 'solo');
      assert.equal(readFileSync(path.join(dir, 'mtu'), 'utf8'), '1400\n');
      assert.match(readFileSync(path.join(dir, 'confd', 'bird.cfg'), 'utf8'), /router id 172\.31\.1\.11;/);
      // A VXLAN pool added while the node runs: tunnel address allocated, device up, MTU file updated.
      const sqlite = await openDatastore({ type: 'sqlite', sqlitePath: path.join(dir, 'calico.db') });
      try {
        await new ResourceClient(sqlite).create({
          apiVersion: 'projectcalico.org/v3',
          kind: 'IPPool',
          metadata: { name: 'vxlan-pool' },
          spec: { cidr: '10.72.0.0/16', vxlanMode: 'Always', blockSize: 26 },
        });
        await waitFor(
          'vxlan.calico under calico-node',
          () => shOk('ip', ['-n', ns, 'link', 'show', 'vxlan.calico']).code === 0,
          15_000,
        );
        const node = await new ResourceClient(sqlite).get('Node', 'solo');
        assert.ok(node.spec.ipv4VXLANTunnelAddr, 'VTEP address published on the Node');
        await waitFor('MTU file rewritten', () => readFileSync(path.join(dir, 'mtu'), 'utf8') === '1350\n', 5000);
      } finally {
        await sqlite.close();
      }
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      assert.equal((await birdLive(socket)).ok, false, 'BIRD stopped with calico-node');
    } finally {
      if (child.exitCode === null && child.pid) shOk('kill', ['-9', String(child.pid)]);
    }
  });
});
