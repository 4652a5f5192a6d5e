// The pod-side script (sysctls, addresses, gateway route and neighbour) gives the same pod whichever way it enters
// the pod's namespace: static busybox (nsenter and sh applets, iproute2's `ip` by path), util-linux's nsenter and the
// system sh when asked (CALICO_CNI_POD_ENTRY=util-linux), and the same when there is no busybox on PATH at all.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { SqliteDatastore } from '../../../src/datastore/sqlite.js';
import { putNode, putPool } from '../../support/ipam.js';
import { CniWorld, inNs, tryInNs } from './world.js';

let w: CniWorld;
let seq = 0;

before(async () => {
  w = await CniWorld.create('e');
  const ds = await SqliteDatastore.open(w.sqlitePath, { timeoutMs: 5000 });
  await putPool(ds, 'tc-v4', '10.127.0.0/16', { blockSize: 26 });
  await putPool(ds, 'tc-v6', 'fd12:7::/64', { blockSize: 122 });
  await putNode(ds, 'tc-node-1');
  await ds.close();
});
after(async () => {
  await w?.destroy();
});

/** A PATH with what the plugin needs and no busybox. */
function pathWithoutBusybox(): string {
  const dir = path.join(w.dir, 'no-busybox-bin');
  mkdirSync(dir, { recursive: true });
  for (const [name, target] of [
    ['node', process.execPath],
    ['env', '/usr/bin/env'],
    ['nsenter', '/usr/bin/nsenter'],
    ['sh', '/bin/sh'],
    ['ip', '/usr/sbin/ip'],
  ]) {
    symlinkSync(target!, path.join(dir, name!));
  }
  return dir;
}

const cases: [string, () => Record<string, string>][] = [
  ['busybox nsenter and sh (the default where busybox is installed)', () => ({})],
  ['util-linux nsenter and sh (CALICO_CNI_POD_ENTRY=util-linux)', () => ({ CALICO_CNI_POD_ENTRY: 'util-linux' })],
  ['no busybox on PATH: util-linux after the first try', () => ({ PATH: pathWithoutBusybox() })],
];

for (const [label, env] of cases) {
  test(`dual-stack ADD and DEL, pod side entered by ${label}`, async () => {
    const pod = w.addPod();
    const id = `e${process.pid}x${++seq}`;
    const config = w.netconf({ ipam: { type: 'calico-ipam', assign_ipv4: 'true', assign_ipv6: 'true' } });
    const call = { containerId: id, netns: pod.netns, ifName: 'eth0', config, env: env() };
    try {
      const add = await w.run({ ...call, command: 'ADD' });
      assert.equal(add.code, 0, `ADD: ${add.stdout} ${add.stderr}`);
      const [v4, v6] = (add.json.ips as { address: string }[]).map((x) => x.address);
      assert.match(v4!, /^10\.127\./);
      assert.match(v6!, /^fd12:7::/);
      const addrs = inNs(pod.name, ['ip', 'addr', 'show', 'dev', 'eth0']);
      assert.ok(addrs.includes(v4!) && addrs.includes(v6!), addrs);
      assert.match(inNs(pod.name, ['ip', 'route', 'show', 'default']), /default via 169\.254\.1\.1 dev eth0/);
      assert.match(inNs(pod.name, ['ip', '-6', 'route', 'show', 'default']), /via fe80::ecee:eeff:feee:eeee dev eth0/);
      assert.match(inNs(pod.name, ['ip', 'neigh', 'show', '169.254.1.1']), /ee:ee:ee:ee:ee:ee PERMANENT/);
      assert.equal(inNs(pod.name, ['cat', '/proc/sys/net/ipv4/ip_forward']).trim(), '0');
      assert.equal(inNs(pod.name, ['cat', '/proc/sys/net/ipv6/conf/eth0/disable_ipv6']).trim(), '0');

      const del = await w.run({ ...call, command: 'DEL' });
      assert.equal(del.code, 0, `DEL: ${del.stdout} ${del.stderr}`);
      assert.notEqual(tryInNs(pod.name, ['ip', 'link', 'show', 'dev', 'eth0']).status, 0, 'eth0 gone');
    } finally {
      w.removePod(pod.name);
    }
  });
}
