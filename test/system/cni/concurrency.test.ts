// Pods started and stopped at once, as kubelet does: concurrent ADDs and DELs handed to one calico-node agent share
// its resident `ip` session and launcher shell. Each pod gets its own address, interface and working routes, a dual-
// stack pod included; afterwards no veth, route, endpoint or allocation is left.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteDatastore } from '../../../src/datastore/sqlite.js';
import { resourcePrefix } from '../../../src/datastore/keys.js';
import { IpamClient } from '../../../src/ipam/client.js';
import { putNode, putPool } from '../../support/ipam.js';
import { CniWorld, startAgent, tryInNs } from './world.js';

let w: CniWorld;
let ds: SqliteDatastore;

before(async () => {
  w = await CniWorld.create('cc');
  ds = await SqliteDatastore.open(w.sqlitePath, { timeoutMs: 5000 });
  await putPool(ds, 'tc-v4', '10.127.0.0/16', { blockSize: 26 });
  await putPool(ds, 'tc-v6', 'fd12:7::/64', { blockSize: 122 });
  await putNode(ds, 'tc-node-1');
});
after(async () => {
  await ds?.close();
  await w?.destroy();
});

test('eight concurrent ADDs and DELs through the agent: distinct addresses, working pods, nothing left', async () => {
  const agent = await startAgent(w);
  const pods = Array.from({ length: 8 }, () => w.addPod());
  const conf = (i: number) =>
    w.netconf({ ipam: { type: 'calico-ipam', assign_ipv4: 'true', assign_ipv6: i === 0 ? 'true' : 'false' } });
  const call = (i: number, command: string) =>
    w.run({
      command,
      containerId: `conc${i}x0123456789`,
      netns: pods[i]!.netns,
      ifName: 'eth0',
      config: conf(i),
      env: { CALICO_CNI_HANDOFF: 'required' },
    });
  try {
    const adds = await Promise.all(pods.map((_, i) => call(i, 'ADD')));
    for (const [i, r] of adds.entries()) assert.equal(r.code, 0, `ADD ${i}: ${r.stdout} ${r.stderr}`);
    const v4 = adds.map((r) => (r.json.ips as { address: string }[]).find((x) => !x.address.includes(':'))!.address);
    assert.equal(new Set(v4).size, 8, `distinct addresses: ${v4.join(' ')}`);
    assert.equal(
      adds[0]!.json.ips.some((x: { address: string }) => x.address.includes(':')),
      true,
      'the dual-stack pod has an IPv6 address',
    );
    assert.equal(w.hostVeths().length, 8);
    for (const [i, pod] of pods.entries()) {
      const p = tryInNs(pod.name, ['ping', '-c1', '-W2', w.nodeAddr4]);
      assert.equal(p.status, 0, `pod ${i} reaches its node: ${p.stdout}${p.stderr}`);
    }
    const p6 = tryInNs(pods[0]!.name, ['ping', '-6', '-c1', '-W2', w.nodeAddr6]);
    assert.equal(p6.status, 0, `dual-stack pod reaches its node over IPv6: ${p6.stdout}${p6.stderr}`);
    const p2p = tryInNs(pods[1]!.name, ['ping', '-c1', '-W2', v4[2]!.split('/')[0]!]);
    assert.equal(p2p.status, 0, 'pod to pod');

    const dels = await Promise.all(pods.map((_, i) => call(i, 'DEL')));
    for (const [i, r] of dels.entries()) assert.equal(r.code, 0, `DEL ${i}: ${r.stdout} ${r.stderr}`);
    assert.deepEqual(w.hostVeths(), []);
    assert.deepEqual(w.hostRoutes(), []);
    assert.equal((await ds.list(resourcePrefix('WorkloadEndpoint'))).items.length, 0);
    const ipam = new IpamClient(ds);
    for (let i = 0; i < 8; i++)
      assert.deepEqual(await ipam.ipsByHandle(`tc-net.conc${i}x0123456789`).catch(() => []), []);
  } finally {
    await agent.stop();
    for (const p of pods) w.removePod(p.name);
  }
});
