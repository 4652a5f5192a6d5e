// The calico plugin end to end, as a runtime calls it: real veths and routes in namespaces, a SQLite datastore,
// calico-ipam in-process and host-local by exec, every command for every version, rollback, both hand-off paths.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { SqliteDatastore } from '../../../src/datastore/sqlite.js';
import { resourceKey, resourcePrefix, handleKey } from '../../../src/datastore/keys.js';
import { IpamClient } from '../../../src/ipam/client.js';
import { putNode, putPool } from '../../support/ipam.js';
import { CniWorld, inNs, startAgent, tryInNs, type CniOutcome } from './world.js';

const NODE = 'tc-node-1';
let w: CniWorld;
let ds: SqliteDatastore;
let seq = 0;
const cid = () => `c${process.pid}x${++seq}abcdef`;

const calicoIpam = (families: { v4?: boolean; v6?: boolean } = { v4: true }) => ({
  type: 'calico-ipam',
  assign_ipv4: families.v4 ? 'true' : 'false',
  assign_ipv6: families.v6 ? 'true' : 'false',
});

function ok(o: CniOutcome, what: string): void {
  assert.equal(o.code, 0, `${what} failed: stdout=${o.stdout} stderr=${o.stderr}`);
}

async function weps(): Promise<any[]> {
  return (await ds.list(resourcePrefix('WorkloadEndpoint'))).items.map((kv) => JSON.parse(kv.value));
}
async function handleExists(containerId: string, network = 'tc-net'): Promise<boolean> {
  return (await ds.get(handleKey(`${network}.${containerId}`))) !== undefined;
}
async function allocationsOf(containerId: string, network = 'tc-net'): Promise<string[]> {
  return new IpamClient(ds).ipsByHandle(`${network}.${containerId}`).catch(() => []);
}

before(async () => {
  w = await CniWorld.create('p');
  ds = await SqliteDatastore.open(w.sqlitePath, { timeoutMs: 5000 });
  await putPool(ds, 'tc-v4', '10.125.0.0/16', { blockSize: 26 });
  await putPool(ds, 'tc-v6', 'fd12:5::/64', { blockSize: 122 });
  await putNode(ds, NODE);
});

after(async () => {
  await ds?.close();
  await w?.destroy();
});

describe('every command for each version', () => {
  for (const version of ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']) {
    test(`cniVersion ${version}`, async () => {
      const pod = w.addPod();
      const id = cid();
      const conf = w.netconf({ cniVersion: version, ipam: calicoIpam({ v4: true }) });
      const base = { containerId: id, netns: pod.netns, ifName: 'eth0' };
      const add = await w.run({ ...base, command: 'ADD', config: conf });
      ok(add, 'ADD');
      assert.equal(add.json.cniVersion, version);
      let addr: string;
      if (version === '0.1.0' || version === '0.2.0') {
        assert.ok(add.json.ip4, 'ip4 object in a 0.1/0.2 result');
        assert.equal(add.json.ips, undefined);
        addr = add.json.ip4.ip;
      } else {
        assert.equal(add.json.interfaces.length, 2);
        assert.equal(add.json.interfaces[1].sandbox, pod.netns);
        assert.equal(add.json.ips[0].interface, 1);
        assert.equal('version' in add.json.ips[0], version < '1.0.0', 'ips[].version only before 1.0.0');
        addr = add.json.ips[0].address;
      }
      assert.match(addr, /^10\.125\.\d+\.\d+\/32$/);
      assert.match(inNs(pod.name, ['ip', '-4', 'addr', 'show', 'dev', 'eth0']), new RegExp(addr.replace(/\./g, '\\.')));
      // The result's routes are calico-ipam's: the address with its block's prefix (0.1/0.2: inside ip4).
      const routes = version === '0.1.0' || version === '0.2.0' ? add.json.ip4.routes : add.json.routes;
      assert.deepEqual(routes, [{ dst: addr.replace(/\/32$/, '/26') }]);

      const check = await w.run({ ...base, command: 'CHECK', config: { ...conf, prevResult: add.json } });
      if (version >= '0.4.0') ok(check, 'CHECK');
      else {
        assert.equal(check.code, 1);
        assert.equal(check.json.code, 1);
      }
      for (const cmd of ['STATUS', 'GC']) {
        const r = await w.run({
          command: cmd,
          config: { ...conf, 'cni.dev/valid-attachments': [{ containerID: id, ifname: 'eth0' }] },
        });
        if (version === '1.1.0') ok(r, cmd);
        else {
          assert.equal(r.code, 1, `${cmd} refused below 1.1.0`);
          assert.equal(r.json.code, 1);
        }
      }
      // GC kept the valid attachment.
      assert.equal((await weps()).filter((x) => x.spec.containerID === id).length, 1);
      const del = await w.run({ ...base, command: 'DEL', config: { ...conf, prevResult: add.json } });
      ok(del, 'DEL');
      assert.equal(del.stdout, '');
      assert.deepEqual(await allocationsOf(id), []);
      assert.equal((await weps()).filter((x) => x.spec.containerID === id).length, 0);
      w.removePod(pod.name);
    });
  }

  test('VERSION through the binary', async () => {
    const r = await w.run({ command: 'VERSION', config: {} });
    ok(r, 'VERSION');
    assert.deepEqual(r.json.supportedVersions, ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']);
  });

  test('the same executable under the name calico-ipam is the IPAM plugin; -v prints the version', async () => {
    const id = cid();
    const conf = {
      cniVersion: '1.0.0',
      name: 'tc-net',
      type: 'calico-ipam',
      datastore_type: 'sqlite',
      sqlite_path: w.sqlitePath,
      nodename_file: w.nodenameFile,
      ipam: { type: 'calico-ipam' },
    };
    const add = await w.run(
      { command: 'ADD', containerId: id, netns: '/var/run/netns/none', ifName: 'eth0', config: conf },
      'calico-ipam',
    );
    ok(add, 'calico-ipam ADD');
    assert.match(add.json.ips[0].address, /^10\.125\.\d+\.\d+\/26$/, 'IPAM result carries the block prefix');
    assert.equal(add.json.interfaces, undefined);
    ok(
      await w.run({ command: 'DEL', containerId: id, ifName: 'eth0', config: conf }, 'calico-ipam'),
      'calico-ipam DEL',
    );
    assert.deepEqual(await allocationsOf(id), []);
    const about = await w.run({ command: '', config: {} }, 'calico-ipam');
    assert.equal(about.code, 0);
    assert.match(about.stderr, /^Calico CNI IPAM v.*\nCNI protocol versions supported: 0\.1\.0, /);
    const v = spawnSync(path.join(w.binDir, 'calico'), ['-v'], { encoding: 'utf8' });
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^v\d+\.\d+\.\d+/);
  });

  test('calico -t tests the datastore connection (code 100 when unreachable)', async () => {
    const good = spawnSync(path.join(w.binDir, 'calico'), ['-t'], {
      input: JSON.stringify(w.netconf()),
      encoding: 'utf8',
    });
    assert.equal(good.status, 0, good.stdout + good.stderr);
    assert.match(good.stderr, /reachable/);
    const bad = spawnSync(path.join(w.binDir, 'calico'), ['-t'], {
      input: JSON.stringify({ ...w.netconf(), sqlite_path: '/nonexistent/dir/calico.db' }),
      encoding: 'utf8',
    });
    assert.equal(bad.status, 1);
    assert.equal(JSON.parse(bad.stdout).code, 100);
  });

  test('protocol errors through the binary: missing env (4) and bad stdin (6)', async () => {
    const r = await w.run({ command: 'ADD', config: w.netconf() });
    assert.equal(r.code, 1);
    assert.equal(r.json.code, 4);
    assert.match(r.json.msg, /CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME/);
  });
});

describe('address families and connectivity', () => {
  for (const [label, fam] of [
    ['IPv4-only', { v4: true }],
    ['IPv6-only', { v6: true }],
    ['dual-stack', { v4: true, v6: true }],
  ] as const) {
    test(`${label}: two pods reach each other and the node`, async () => {
      const conf = w.netconf({ ipam: calicoIpam(fam) });
      const pods = [w.addPod(), w.addPod()];
      const ids = [cid(), cid()];
      const results: any[] = [];
      try {
        for (let i = 0; i < 2; i++) {
          const r = await w.run({
            command: 'ADD',
            containerId: ids[i],
            netns: pods[i]!.netns,
            ifName: 'eth0',
            config: conf,
          });
          ok(r, `ADD pod ${i}`);
          results.push(r.json);
        }
        const addrs = (r: any) => (r.ips as { address: string }[]).map((x) => x.address.split('/')[0]!);
        assert.equal(addrs(results[0]).length, (fam.v4 ? 1 : 0) + ('v6' in fam && fam.v6 ? 1 : 0));
        // Host side: veth with the fixed MAC and a /32 or /128 route per address.
        const routes = w.hostRoutes();
        for (const r of results) {
          const veth = r.interfaces[0].name;
          for (const a of addrs(r))
            assert.ok(
              routes.some((x) => x.startsWith(`${a} dev ${veth}`)),
              `route ${a} dev ${veth} in ${routes}`,
            );
          const link = JSON.parse(inNs(w.nodeNs, ['ip', '-j', 'link', 'show', 'dev', veth]))[0];
          assert.equal(link.address, 'ee:ee:ee:ee:ee:ee');
          assert.equal(link.mtu, 1400);
        }
        for (const [from, to] of [
          [0, 1],
          [1, 0],
        ] as const) {
          for (const a of addrs(results[to])) {
            const p = tryInNs(pods[from]!.name, ['ping', '-c1', '-W2', a]);
            assert.equal(p.status, 0, `pod ${from} -> ${a}: ${p.stdout}${p.stderr}`);
          }
        }
        const nodeTargets = [...(fam.v4 ? [w.nodeAddr4] : []), ...('v6' in fam && fam.v6 ? [w.nodeAddr6] : [])];
        for (const a of nodeTargets) {
          const p = tryInNs(pods[0]!.name, ['ping', '-c1', '-W2', a]);
          assert.equal(p.status, 0, `pod -> node ${a}: ${p.stdout}${p.stderr}`);
        }
        // Pod side: gateway routes and the permanent neighbour entry.
        const podRoutes = inNs(pods[0]!.name, ['ip', 'route']) + inNs(pods[0]!.name, ['ip', '-6', 'route']);
        if (fam.v4) assert.match(podRoutes, /default via 169\.254\.1\.1 dev eth0/);
        if ('v6' in fam && fam.v6) assert.match(podRoutes, /default via fe80::ecee:eeff:feee:eeee dev eth0/);
        const neigh =
          inNs(pods[0]!.name, ['ip', 'neigh', 'show', 'dev', 'eth0']) +
          inNs(pods[0]!.name, ['ip', '-6', 'neigh', 'show', 'dev', 'eth0']);
        assert.match(neigh, /ee:ee:ee:ee:ee:ee PERMANENT/);
      } finally {
        for (let i = 0; i < 2; i++) {
          await w.run({ command: 'DEL', containerId: ids[i], netns: pods[i]!.netns, ifName: 'eth0', config: conf });
          w.removePod(pods[i]!.name);
        }
      }
      assert.deepEqual(w.hostVeths(), []);
    });
  }
});

describe('endpoint, idempotency and cleanup', () => {
  test('the WorkloadEndpoint carries the names, addresses and MAC; a second ADD returns the same result', async () => {
    const pod = w.addPod();
    const id = cid();
    const conf = w.netconf({ ipam: calicoIpam({ v4: true, v6: true }) });
    const base = { containerId: id, netns: pod.netns, ifName: 'eth0' };
    const first = await w.run({ ...base, command: 'ADD', config: conf });
    ok(first, 'ADD');
    const second = await w.run({ ...base, command: 'ADD', config: conf });
    ok(second, 'second ADD');
    assert.deepEqual(second.json, first.json);
    const wepName = `tc--node--1-cni-${id}-eth0`;
    const kv = await ds.get(resourceKey('WorkloadEndpoint', wepName, 'default'));
    assert.ok(kv, `WEP ${wepName} exists`);
    const wep = JSON.parse(kv.value);
    assert.equal(wep.spec.orchestrator, 'cni');
    assert.equal(wep.spec.node, NODE);
    assert.equal(wep.spec.containerID, id);
    assert.equal(wep.spec.workload, id);
    assert.equal(wep.spec.endpoint, 'eth0');
    assert.equal(wep.spec.interfaceName, `cali${id.slice(0, 11)}`);
    assert.equal(wep.spec.mac, first.json.interfaces[1].mac);
    assert.deepEqual(wep.spec.profiles, ['tc-net']);
    assert.deepEqual(wep.spec.ipNetworks.sort(), first.json.ips.map((i: any) => i.address).sort());
    assert.equal(wep.metadata.labels['projectcalico.org/orchestrator'], 'cni');
    assert.ok(wep.metadata.uid);
    assert.ok(await ds.get(resourceKey('Profile', 'tc-net')), 'network profile created');
    assert.equal(w.hostVeths().filter((v) => v === wep.spec.interfaceName).length, 1);
    assert.equal((await allocationsOf(id)).length, 2, 'one v4 + one v6, not doubled');

    ok(await w.run({ ...base, command: 'DEL', config: conf }), 'DEL');
    ok(await w.run({ ...base, command: 'DEL', config: conf }), 'second DEL');
    assert.equal(await ds.get(resourceKey('WorkloadEndpoint', wepName, 'default')), undefined);
    assert.equal(await handleExists(id), false);
    assert.deepEqual(w.hostVeths(), []);
    w.removePod(pod.name);
  });

  test('DEL after the netns is gone releases everything', async () => {
    const pod = w.addPod();
    const id = cid();
    const conf = w.netconf({ ipam: calicoIpam({ v4: true }) });
    ok(await w.run({ command: 'ADD', containerId: id, netns: pod.netns, ifName: 'eth0', config: conf }), 'ADD');
    w.removePod(pod.name);
    assert.equal(existsSync(pod.netns), false);
    ok(
      await w.run({ command: 'DEL', containerId: id, netns: pod.netns, ifName: 'eth0', config: conf }),
      'DEL with netns gone',
    );
    ok(await w.run({ command: 'DEL', containerId: id, ifName: 'eth0', config: conf }), 'DEL without CNI_NETNS');
    assert.deepEqual(await allocationsOf(id), []);
    assert.equal(
      (await weps()).some((x) => x.spec.containerID === id),
      false,
    );
    assert.deepEqual(w.hostVeths(), []);
    assert.deepEqual(w.hostRoutes(), []);
  });

  for (const point of ['after-ipam', 'after-veth', 'after-endpoint']) {
    test(`fault injected ${point}: nothing is left behind`, async () => {
      const pod = w.addPod();
      const id = cid();
      const conf = w.netconf({ ipam: calicoIpam({ v4: true, v6: true }) });
      const r = await w.run({
        command: 'ADD',
        containerId: id,
        netns: pod.netns,
        ifName: 'eth0',
        config: conf,
        env: { CALICO_CNI_FAULT_INJECT: point },
      });
      assert.equal(r.code, 1);
      assert.match(r.json.msg, new RegExp(`fault injected at ${point}`));
      assert.match(readFileSync(path.join(w.dir, 'cni.log'), 'utf8'), new RegExp(`ADD ${id} failed: fault injected`));
      assert.deepEqual(w.hostVeths(), [], 'no host link');
      assert.deepEqual(w.hostRoutes(), [], 'no host route');
      assert.doesNotMatch(inNs(pod.name, ['ip', 'link']), /eth0/, 'no pod link');
      assert.equal(
        (await weps()).some((x) => x.spec.containerID === id),
        false,
        'no endpoint',
      );
      assert.equal(await handleExists(id), false, 'no handle');
      assert.deepEqual(await allocationsOf(id), [], 'no allocation');
      const all = await new IpamClient(ds).listAllocations();
      assert.equal(
        all.some((a) => a.handleId === `tc-net.${id}`),
        false,
        'no block allocation',
      );
      w.removePod(pod.name);
    });
  }

  test('CHECK names what differs: a missing host route and a missing pod address', async () => {
    const pod = w.addPod();
    const id = cid();
    const conf = w.netconf({ cniVersion: '0.4.0', ipam: calicoIpam() });
    const base = { containerId: id, netns: pod.netns, ifName: 'eth0' };
    const add = await w.run({ ...base, command: 'ADD', config: conf });
    ok(add, 'ADD');
    ok(await w.run({ ...base, command: 'CHECK', config: { ...conf, prevResult: add.json } }), 'CHECK of an intact pod');
    const addr = add.json.ips[0].address as string;
    inNs(w.nodeNs, ['ip', 'route', 'del', addr]);
    inNs(pod.name, ['ip', 'addr', 'del', addr, 'dev', 'eth0']);
    const check = await w.run({ ...base, command: 'CHECK', config: { ...conf, prevResult: add.json } });
    assert.equal(check.code, 1);
    assert.match(check.json.msg, new RegExp(`host route ${addr.replace(/\./g, '\\.')} via cali\\w+ is missing`));
    assert.match(check.json.msg, /eth0 has addresses \[\], expected/);
    ok(await w.run({ ...base, command: 'DEL', config: conf }), 'DEL');
    w.removePod(pod.name);
  });

  test('ADD fails when the interface already exists in the pod, and leaves nothing', async () => {
    const pod = w.addPod();
    inNs(pod.name, ['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'tcx0']);
    const id = cid();
    const r = await w.run({
      command: 'ADD',
      containerId: id,
      netns: pod.netns,
      ifName: 'eth0',
      config: w.netconf({ ipam: calicoIpam() }),
    });
    assert.equal(r.code, 1);
    assert.match(r.json.msg, /interface "eth0" already exists/);
    assert.deepEqual(w.hostVeths(), []);
    assert.deepEqual(await allocationsOf(id), []);
    assert.equal(
      (await weps()).some((x) => x.spec.containerID === id),
      false,
    );
    w.removePod(pod.name);
  });

  test('a host route for the address on another interface fails ADD naming it, and is left alone', async () => {
    const pod = w.addPod();
    const id = cid();
    const conf = w.netconf({
      ipam: {
        type: 'host-local',
        ranges: [[{ subnet: '10.124.9.0/24', rangeStart: '10.124.9.9', rangeEnd: '10.124.9.9' }]],
        dataDir: path.join(w.dir, 'host-local-conflict'),
      },
    });
    inNs(w.nodeNs, ['ip', 'route', 'add', '10.124.9.9/32', 'dev', 'lo']);
    try {
      const r = await w.run({ command: 'ADD', containerId: id, netns: pod.netns, ifName: 'eth0', config: conf });
      assert.equal(r.code, 1);
      assert.match(r.json.msg, /route 10\.124\.9\.9\/32 already exists for an interface other than 'cali\w+'.*dev lo/);
      assert.deepEqual(w.hostVeths(), [], 'rolled back');
      assert.match(inNs(w.nodeNs, ['ip', 'route', 'show', '10.124.9.9']), /dev lo/, 'the other route is untouched');
      // The address went back to host-local: a second pod can have it once the conflict is gone.
      inNs(w.nodeNs, ['ip', 'route', 'del', '10.124.9.9/32', 'dev', 'lo']);
      const again = await w.run({ command: 'ADD', containerId: id, netns: pod.netns, ifName: 'eth0', config: conf });
      ok(again, 'ADD after the conflict is gone');
      assert.equal(again.json.ips[0].address, '10.124.9.9/32');
      ok(await w.run({ command: 'DEL', containerId: id, netns: pod.netns, ifName: 'eth0', config: conf }), 'DEL');
    } finally {
      spawnSync('ip', ['-n', w.nodeNs, 'route', 'del', '10.124.9.9/32', 'dev', 'lo']);
      w.removePod(pod.name);
    }
  });

  test('host-local by exec from CNI_PATH', async () => {
    const pod = w.addPod();
    const id = cid();
    const conf = w.netconf();
    const r = await w.run({ command: 'ADD', containerId: id, netns: pod.netns, ifName: 'eth0', config: conf });
    ok(r, 'ADD');
    assert.match(r.json.ips[0].address, /^10\.124\.0\.\d+\/32$/);
    ok(await w.run({ command: 'DEL', containerId: id, netns: pod.netns, ifName: 'eth0', config: conf }), 'DEL');
    w.removePod(pod.name);
  });

  test("a Kubernetes pod on host-local gets ipam.routes through its gateway instead of the defaults (Calico's k8s path)", async () => {
    const base = w.netconf();
    const ipam = { ...(base.ipam as Record<string, unknown>), routes: [{ dst: '10.200.0.0/16', gw: '10.124.0.1' }] };
    for (const [extra, want] of [
      [{}, ['10.200.0.0/16']],
      [{ include_default_routes: true }, ['0.0.0.0/0', '10.200.0.0/16']],
    ] as const) {
      const pod = w.addPod();
      const id = cid();
      const conf = { ...base, ipam, ...extra };
      const call = {
        containerId: id,
        netns: pod.netns,
        ifName: 'eth0',
        args: `K8S_POD_NAMESPACE=prod;K8S_POD_NAME=${id}`,
      };
      const r = await w.run({ ...call, command: 'ADD', config: conf });
      ok(r, 'ADD');
      // The result's routes are host-local's, as it printed them; the pod's own routes are checked below.
      assert.deepEqual(r.json.routes, [{ dst: '10.200.0.0/16', gw: '10.124.0.1' }]);
      const again = await w.run({ ...call, command: 'ADD', config: conf });
      ok(again, 'repeated ADD');
      assert.deepEqual(again.json, r.json, 'a repeated ADD returns the same result');
      const routes = JSON.parse(inNs(pod.name, ['ip', '-j', '-4', 'route', 'show'])) as {
        dst: string;
        gateway?: string;
      }[];
      const viaGateway = routes.filter((x) => x.gateway === '169.254.1.1').map((x) => x.dst);
      assert.deepEqual(viaGateway.sort(), want.map((d) => (d === '0.0.0.0/0' ? 'default' : d)).sort());
      ok(await w.run({ ...call, command: 'CHECK', config: { ...conf, prevResult: r.json } }), 'CHECK');
      ok(await w.run({ ...call, command: 'DEL', config: conf }), 'DEL');
      w.removePod(pod.name);
    }
  });

  test('ClusterInformation datastoreReady: false refuses ADD', async () => {
    const key = resourceKey('ClusterInformation', 'default');
    await ds.put(
      key,
      JSON.stringify({
        apiVersion: 'projectcalico.org/v3',
        kind: 'ClusterInformation',
        metadata: { name: 'default' },
        spec: { datastoreReady: false },
      }),
    );
    try {
      const pod = w.addPod();
      const r = await w.run({
        command: 'ADD',
        containerId: cid(),
        netns: pod.netns,
        ifName: 'eth0',
        config: w.netconf({ ipam: calicoIpam() }),
      });
      assert.equal(r.code, 1);
      assert.match(r.json.msg, /not ready to process requests/);
      const s = await w.run({ command: 'STATUS', config: w.netconf({ cniVersion: '1.1.0', ipam: calicoIpam() }) });
      assert.equal(s.json.code, 50);
      w.removePod(pod.name);
    } finally {
      await ds.delete(key);
    }
  });

  test('GC removes endpoints and addresses of attachments no longer listed', async () => {
    const conf = w.netconf({ cniVersion: '1.1.0', ipam: calicoIpam({ v4: true }) });
    const pods = [w.addPod(), w.addPod()];
    const ids = [cid(), cid()];
    for (let i = 0; i < 2; i++)
      ok(
        await w.run({ command: 'ADD', containerId: ids[i], netns: pods[i]!.netns, ifName: 'eth0', config: conf }),
        'ADD',
      );
    ok(
      await w.run({
        command: 'GC',
        config: { ...conf, 'cni.dev/valid-attachments': [{ containerID: ids[0], ifname: 'eth0' }] },
      }),
      'GC',
    );
    assert.equal((await allocationsOf(ids[0]!)).length, 1, 'listed attachment kept');
    assert.deepEqual(await allocationsOf(ids[1]!), [], 'unlisted attachment released');
    assert.equal(
      (await weps()).some((x) => x.spec.containerID === ids[1]),
      false,
    );
    assert.equal(w.hostVeths().length, 1);
    for (let i = 0; i < 2; i++) {
      ok(
        await w.run({ command: 'DEL', containerId: ids[i], netns: pods[i]!.netns, ifName: 'eth0', config: conf }),
        'DEL',
      );
      w.removePod(pods[i]!.name);
    }
  });
});

describe('policy before traffic', () => {
  test('ADD waits for the agent to report the endpoint programmed (policy_setup_timeout_seconds)', async () => {
    const statusDir = path.join(w.dir, 'endpoint-status');
    mkdirSync(statusDir, { recursive: true });
    const pod = w.addPod();
    const id = cid();
    const conf = w.netconf({ ipam: calicoIpam(), policy_setup_timeout_seconds: 10, endpoint_status_dir: statusDir });
    const file = path.join(statusDir, encodeURIComponent(`default/tc--node--1-cni-${id}-eth0`));
    const writer = setTimeout(() => writeFileSync(file, JSON.stringify({ status: 'up' })), 1500);
    const t0 = Date.now();
    try {
      ok(await w.run({ command: 'ADD', containerId: id, netns: pod.netns, ifName: 'eth0', config: conf }), 'ADD');
    } finally {
      clearTimeout(writer);
    }
    assert.ok(Date.now() - t0 >= 1500, `ADD returned after ${Date.now() - t0} ms, before the status file said up`);
    ok(await w.run({ command: 'DEL', containerId: id, netns: pod.netns, ifName: 'eth0', config: conf }), 'DEL');
    // Without a report, ADD still succeeds once the timeout passes (Calico only warns).
    const id2 = cid();
    const t1 = Date.now();
    const late = await w.run({
      command: 'ADD',
      containerId: id2,
      netns: pod.netns,
      ifName: 'eth0',
      config: { ...conf, policy_setup_timeout_seconds: 1 },
    });
    ok(late, 'ADD after timeout');
    assert.ok(Date.now() - t1 >= 1000);
    assert.match(late.stderr, /not reported programmed within 1s/);
    ok(await w.run({ command: 'DEL', containerId: id2, netns: pod.netns, ifName: 'eth0', config: conf }), 'DEL');
    w.removePod(pod.name);
  });
});

describe('hand-off to the calico-node agent', () => {
  test('agent running: served over the socket; agent stopped: in-process', async () => {
    const agent = await startAgent(w);
    const pod = w.addPod();
    const id = cid();
    const conf = w.netconf({ ipam: calicoIpam({ v4: true }) });
    const base = { containerId: id, netns: pod.netns, ifName: 'eth0' };
    try {
      const r = await w.run({ ...base, command: 'ADD', config: conf, env: { CALICO_CNI_HANDOFF: 'required' } });
      ok(r, 'ADD via agent');
      assert.match(agent.log(), new RegExp(`ADD ${id}: ok`));
      const again = await w.run({ ...base, command: 'ADD', config: conf, env: { CALICO_CNI_HANDOFF: 'never' } });
      ok(again, 'repeated ADD in-process');
      assert.deepEqual(again.json, r.json, "the agent's result, routes included, rebuilt in-process");
      const p = tryInNs(pod.name, ['ping', '-c1', '-W2', w.nodeAddr4]);
      assert.equal(p.status, 0, p.stdout);
      ok(
        await w.run({ ...base, command: 'DEL', config: conf, env: { CALICO_CNI_HANDOFF: 'required' } }),
        'DEL via agent',
      );
      assert.match(agent.log(), new RegExp(`DEL ${id}: ok`));
      // A failure part-way inside the agent rolls back there too.
      const failed = await w.run({
        ...base,
        command: 'ADD',
        config: conf,
        env: { CALICO_CNI_HANDOFF: 'required', CALICO_CNI_FAULT_INJECT: 'after-veth' },
      });
      assert.equal(failed.json?.code, 999);
      assert.match(failed.json.msg, /fault injected at after-veth/);
      assert.deepEqual(w.hostVeths(), []);
      assert.deepEqual(await allocationsOf(id), []);
      assert.equal(
        (await weps()).some((x) => x.spec.containerID === id),
        false,
      );
    } finally {
      await agent.stop();
    }
    const absent = await w.run({ ...base, command: 'ADD', config: conf, env: { CALICO_CNI_HANDOFF: 'required' } });
    assert.equal(absent.json?.code, 50, 'required hand-off without an agent fails clearly');
    ok(
      await w.run({ ...base, command: 'ADD', config: conf, env: { CALICO_CNI_HANDOFF: 'auto' } }),
      'ADD in-process fallback',
    );
    ok(
      await w.run({ ...base, command: 'DEL', config: conf, env: { CALICO_CNI_HANDOFF: 'auto' } }),
      'DEL in-process fallback',
    );
    assert.deepEqual(await allocationsOf(id), []);
    w.removePod(pod.name);
  });
});
