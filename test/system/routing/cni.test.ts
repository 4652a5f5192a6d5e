// Pods made by the real `calico` CNI plugin with `calico-ipam` (run as a runtime runs them, inside each node
// namespace, against the world's SQLite datastore): the routing controllers see the WorkloadEndpoints and IPAM blocks the plugin
// writes, BGP carries the blocks and the borrowed addresses, every pod reaches every other; CNI DEL withdraws.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RoutingWorld, unreachablePairs, waitFor, routesOf, ipn, type WorldNode } from '../../support/routing-world.js';
import { buildPlugin } from '../cni/world.js';

describe('pods from the real CNI plugin, BGP mode', () => {
  const w = new RoutingWorld({ tag: 'cni', nodes: 3, datastore: 'sqlite' });
  const bin = path.join(w.dir, 'bin');

  const cni = (node: WorldNode, command: 'ADD' | 'DEL', containerId: string, netns: string, pool: string) =>
    new Promise<{ code: number; out: string; json?: any }>((resolve) => {
      const netconf = {
        cniVersion: '1.0.0',
        name: 'k8s-pod-network',
        type: 'calico',
        datastore_type: 'sqlite',
        sqlite_path: w.sqlitePath,
        nodename_file: path.join(w.dir, node.name, 'nodename'),
        ipam_lock_file: path.join(w.dir, node.name, 'ipam.lock'),
        mtu: 1500,
        ipam: { type: 'calico-ipam', ipv4_pools: [pool] },
      };
      const child = spawn('nsenter', [`--net=/var/run/netns/${node.ns}`, path.join(bin, 'calico')], {
        env: {
          PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
          CNI_COMMAND: command,
          CNI_CONTAINERID: containerId,
          CNI_NETNS: `/var/run/netns/${netns}`,
          CNI_IFNAME: 'eth0',
          CNI_PATH: `${bin}:/usr/lib/cni`,
          CALICO_CNI_HANDOFF: 'never',
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', (code) => {
        let json;
        try {
          json = JSON.parse(out);
        } catch {
          // the assertion shows the text
        }
        resolve({ code: code ?? 1, out, json });
      });
      child.stdin.end(JSON.stringify(netconf));
    });

  before(async () => {
    await w.build();
    await buildPlugin(bin);
    for (const n of w.nodes) {
      // Calico's pods reach 169.254.1.1 by proxy ARP, which answers only when the node has a route covering it
      ipn(n.ns, 'route', 'add', 'default', 'via', '172.31.1.1');
      await w.putNode(n);
      mkdirSync(path.join(w.dir, n.name), { recursive: true });
      writeFileSync(path.join(w.dir, n.name, 'nodename'), n.name);
    }
    await w.putResource('IPPool', 'own', {
      cidr: '10.65.0.0/16',
      blockSize: 26,
      ipipMode: 'Never',
      vxlanMode: 'Never',
    });
    await w.putResource('IPPool', 'tiny', {
      cidr: '10.66.0.0/26',
      blockSize: 26,
      ipipMode: 'Never',
      vxlanMode: 'Never',
    });
    await w.putResource('ClusterInformation', 'default', { datastoreReady: true });
    await w.startControllers('bird');
    for (const n of w.nodes) {
      for (const pool of ['10.65.0.0/16', '10.66.0.0/26']) {
        const ns = w.addPodNamespace(n);
        const containerId = randomBytes(32).toString('hex'); // host veth names come from its first characters
        const r = await cni(n, 'ADD', containerId, ns, pool);
        assert.equal(r.code, 0, `CNI ADD on ${n.name}: ${r.out}`);
        const ip = String(r.json.ips[0].address).split('/')[0];
        const hostIf = r.json.interfaces.find((i: any) => !i.sandbox)?.name;
        w.pods.push({ name: containerId, ns, ip, node: n, hostIf });
      }
    }
  });
  after(() => w.teardown());

  test('every pod reaches every other; the /26 shared by three nodes is routed by borrowed /32s', async () => {
    const tiny = w.pods.filter((p) => p.ip.startsWith('10.66.0.'));
    assert.equal(new Set(tiny.map((p) => p.node.name)).size, 3);
    const owner = tiny[0].node; // the first ADD claimed the block
    for (const p of tiny.filter((x) => x.node !== owner)) {
      for (const n of w.nodes.filter((x) => x !== p.node)) {
        await waitFor(`${p.ip} on ${n.name}`, () => routesOf(n.ns).includes(`${p.ip} via ${p.node.ip}`), 15_000);
      }
    }
    for (const p of w.pods.filter((x) => x.ip.startsWith('10.65.'))) {
      for (const n of w.nodes.filter((x) => x !== p.node)) {
        await waitFor(
          `${p.ip}'s block on ${n.name}`,
          () => routesOf(n.ns).includes(`via ${p.node.ip} dev eth0 proto bird`),
          15_000,
        );
      }
    }
    assert.deepEqual(await unreachablePairs(w.pods), []);
  });

  test('CNI DEL of a borrowed address withdraws its /32 everywhere', async () => {
    const tiny = w.pods.filter((p) => p.ip.startsWith('10.66.0.'));
    const victim = tiny[2];
    const r = await cni(victim.node, 'DEL', victim.name, victim.ns, '10.66.0.0/26');
    assert.equal(r.code, 0, r.out);
    for (const n of w.nodes) {
      await waitFor(`${victim.ip} gone from ${n.name}`, () => !routesOf(n.ns).includes(`${victim.ip} `), 10_000);
    }
  });
});
