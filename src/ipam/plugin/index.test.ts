import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { MemoryDatastore } from '../../datastore/memory.js';
import type { Datastore } from '../../datastore/types.js';
import { CniError, type CniRequest, type NetConf } from '../../cni/skel/types.js';
import { invokeHandler } from '../../cni/skel/dispatch.js';
import { resourceKey } from '../../datastore/keys.js';
import { IpamClient } from '../client.js';
import {
  createIpamPluginHandlers,
  goUtcTimestamp,
  heldAddressesResult,
  withBlockPrefixes,
  type KubernetesLookup,
} from './index.js';
import { putNode, putPool } from '../../../test/support/ipam.js';

describe('calico-ipam handlers', () => {
  let mem: MemoryDatastore;
  let dir: string;
  let pods: Record<string, Record<string, string>>;
  let namespaces: Record<string, { labels: Record<string, string>; annotations: Record<string, string> }>;

  // The plugin closes its datastore after each call; the shared in-memory one must survive that.
  const shared = (): Datastore => Object.assign(Object.create(mem), { close: async () => undefined });
  const kubernetes: KubernetesLookup = {
    pod: async (ns, name) => (pods[`${ns}/${name}`] ? { annotations: pods[`${ns}/${name}`] } : undefined),
    namespace: async (name) => namespaces[name],
  };
  const handlers = () =>
    createIpamPluginHandlers({
      openDatastore: async () => shared(),
      kubernetes,
      now: () => new Date('2026-01-02T03:04:05.678Z'),
    });

  const request = (
    command: CniRequest['command'],
    cid: string,
    ipam: Record<string, unknown> = {},
    pod = 'web-0',
  ): CniRequest => {
    const config: NetConf = {
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      type: 'calico',
      nodename: 'node-a',
      ipam: { type: 'calico-ipam', ipam_lock_file: path.join(dir, 'ipam.lock'), ...ipam },
    };
    return {
      command,
      containerId: cid,
      netns: '/var/run/netns/never-opened',
      ifName: 'eth0',
      args: { K8S_POD_NAMESPACE: 'prod', K8S_POD_NAME: pod },
      path: [],
      config,
      stdin: JSON.stringify(config),
      env: {},
    };
  };

  beforeEach(async () => {
    mem = new MemoryDatastore();
    dir = mkdtempSync(path.join(tmpdir(), 'ti-plugin-'));
    pods = { 'prod/web-0': {} };
    namespaces = { prod: { labels: { team: 'a' }, annotations: {} } };
    await putNode(mem, 'node-a');
    await putPool(mem, 'default-v4', '10.0.0.0/16');
    await putPool(mem, 'special', '10.99.0.0/24', { assignmentMode: 'Manual' });
    await putPool(mem, 'v6', 'fd00:1::/64');
  });
  afterEach(async () => {
    await mem.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('ADD returns <ip>/<block prefix> under handle <network>.<containerID> with the pod attributes', async () => {
    const r = await handlers().add(request('ADD', 'cid1'));
    const ips = r.ips as { address: string }[];
    assert.equal(ips.length, 1);
    assert.match(ips[0].address, /^10\.0\.\d+\.\d+\/26$/);
    assert.deepEqual(r.routes, [{ dst: ips[0].address }]);
    const a = await new IpamClient(mem).getAllocation(ips[0].address.split('/')[0]);
    assert.equal(a?.handleId, 'k8s-pod-network.cid1');
    assert.deepEqual(a?.attrs, {
      node: 'node-a',
      namespace: 'prod',
      pod: 'web-0',
      timestamp: '2026-01-02 03:04:05.678 +0000 UTC',
    });
  });

  test('assign_ipv6 adds an IPv6 address; assign_ipv4 "false" leaves IPv4 out', async () => {
    const r = await handlers().add(request('ADD', 'cid1', { assign_ipv6: 'true', assign_ipv4: 'false' }));
    const ips = r.ips as { address: string }[];
    assert.equal(ips.length, 1);
    assert.match(ips[0].address, /^fd00:1::.*\/122$/);
  });

  test('pool annotations: the pod over the namespace over the CNI config', async () => {
    namespaces.prod.annotations['cni.projectcalico.org/ipv4pools'] = '["special"]';
    let r = await handlers().add(request('ADD', 'c1', { ipv4_pools: ['default-v4'] }));
    assert.match((r.ips as { address: string }[])[0].address, /^10\.99\.0\./, 'namespace annotation beats CNI config');
    pods['prod/web-0']['cni.projectcalico.org/ipv4pools'] = '["10.0.0.0/16"]';
    r = await handlers().add(request('ADD', 'c2'));
    assert.match((r.ips as { address: string }[])[0].address, /^10\.0\./, 'pod annotation beats namespace annotation');
  });

  test('ipAddrs annotation and CNI_ARGS IP give that exact address; a taken one fails and writes nothing', async () => {
    pods['prod/web-0']['cni.projectcalico.org/ipAddrs'] = '["10.0.5.5"]';
    const r = await handlers().add(request('ADD', 'c1'));
    assert.deepEqual(r.ips, [{ address: '10.0.5.5/26' }]);
    const rev = await mem.currentRevision();
    await assert.rejects(
      handlers().add(request('ADD', 'c2')),
      /: resource already exists: 10\.0\.5\.5 \(Address already assigned in block; held by handle k8s-pod-network\.c1\)$/,
    );
    assert.equal(await mem.currentRevision(), rev);
    pods['prod/web-0'] = {};
    const req = request('ADD', 'c3');
    req.args.IP = '10.0.7.7';
    assert.deepEqual((await handlers().add(req)).ips, [{ address: '10.0.7.7/26' }]);
  });

  test('a malformed annotation or one naming a missing pool fails with its own error and writes nothing', async () => {
    const rev = await mem.currentRevision();
    pods['prod/web-0']['cni.projectcalico.org/ipv4pools'] = 'special';
    await assert.rejects(
      handlers().add(request('ADD', 'c1')),
      /annotation cni\.projectcalico\.org\/ipv4pools on pod prod\/web-0: must be a JSON list/,
    );
    pods['prod/web-0']['cni.projectcalico.org/ipv4pools'] = '["missing-pool"]';
    await assert.rejects(
      handlers().add(request('ADD', 'c1')),
      /the given pool \(missing-pool\) does not exist, or is not enabled/,
    );
    pods['prod/web-0'] = { 'cni.projectcalico.org/ipAddrs': '["10.0.0.300"]' };
    await assert.rejects(
      handlers().add(request('ADD', 'c1')),
      /ipAddrs on pod prod\/web-0: "10\.0\.0\.300" is not an IP address/,
    );
    assert.equal(await mem.currentRevision(), rev);
  });

  test('DEL releases by handle and by the legacy <namespace>.<pod> handle, and is idempotent', async () => {
    const h = handlers();
    const r = await h.add(request('ADD', 'c1'));
    const ipam = new IpamClient(mem);
    const legacy = await ipam.autoAssign({ num4: 1, num6: 0, handleId: 'prod.web-0', attrs: {}, hostname: 'node-a' });
    await h.del(request('DEL', 'c1'));
    assert.equal(await ipam.getAllocation((r.ips as { address: string }[])[0].address.split('/')[0]), undefined);
    assert.equal(await ipam.getAllocation(legacy.ipv4[0].split('/')[0]), undefined);
    await h.del(request('DEL', 'c1'));
    await h.del(request('DEL', 'never-added'));
  });

  test("CHECK succeeds with empty output, as Calico's calico-ipam (no CHECK handler), without opening the datastore", async () => {
    let opened = 0;
    const h = createIpamPluginHandlers({
      openDatastore: async () => {
        opened++;
        return shared();
      },
      kubernetes,
      now: () => new Date(),
    });
    assert.equal(h.check, undefined);
    const check = request('CHECK', 'never-added');
    check.config.prevResult = { cniVersion: '1.0.0', ips: [{ address: '10.0.200.1/26' }] };
    assert.equal(await invokeHandler(h, check), undefined);
    assert.equal(opened, 0);
  });

  test("exhaustion is worded as Calico's plugin words it, naming the pool by CIDR", async () => {
    await mem.delete(resourceKey('IPPool', 'default-v4'));
    await putPool(mem, 'tiny', '10.7.0.0/31', { blockSize: 31 });
    const h = handlers();
    await h.add(request('ADD', 'x1'));
    await h.add(request('ADD', 'x2'));
    await assert.rejects(h.add(request('ADD', 'x3')), (e: CniError) => {
      assert.equal(e.code, 999);
      assert.match(
        e.message,
        /^failed to request IPv4 addresses: Assigned 0 out of 1 requested IPv4 addresses; No IPs available in pools: \[10\.7\.0\.0\/31\]/,
      );
      return true;
    });
  });

  test('without an injected lookup, the netconf kubeconfig is used to read the pod and its Namespace', async () => {
    await putPool(mem, 'team-a', '10.50.0.0/24', { namespaceSelector: 'team == "a"' });
    await putPool(mem, 'default-v4', '10.0.0.0/16', { namespaceSelector: 'team == "nobody"' });
    const seen: string[] = [];
    const api = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      if (req.url === '/api/v1/namespaces/prod')
        res.end(JSON.stringify({ metadata: { name: 'prod', labels: { team: 'a' } } }));
      else if (req.url === '/api/v1/namespaces/prod/pods/web-0')
        res.end(JSON.stringify({ metadata: { name: 'web-0', annotations: {} } }));
      else {
        res.statusCode = 404;
        res.end('{"message":"not found"}');
      }
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    try {
      const port = (api.address() as { port: number }).port;
      const kubeconfig = path.join(dir, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:${port}\n` +
          `users:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n`,
      );
      const h = createIpamPluginHandlers({ openDatastore: async () => shared() });
      const req = request('ADD', 'k1');
      req.config.kubernetes = { kubeconfig };
      const r = await h.add(req);
      assert.match((r.ips as { address: string }[])[0].address, /^10\.50\.0\./, 'the namespace labels chose the pool');
      assert.deepEqual(seen.sort(), ['/api/v1/namespaces/prod', '/api/v1/namespaces/prod/pods/web-0']);
    } finally {
      api.close();
    }
  });

  test("heldAddressesResult rebuilds ADD's result from the handle without assigning anything", async () => {
    const r = await handlers().add(request('ADD', 'cid1', { assign_ipv6: 'true' }));
    const asEndpoint = (r.ips as { address: string }[]).map(
      (ip) => `${ip.address.split('/')[0]}/${ip.address.includes(':') ? 128 : 32}`,
    );
    assert.equal(asEndpoint.length, 2);
    const rev = await mem.currentRevision();
    const again = await heldAddressesResult(mem, 'k8s-pod-network.cid1', asEndpoint);
    assert.deepEqual(again, { ips: r.ips, routes: r.routes });
    assert.equal(await mem.currentRevision(), rev, 'nothing written');
    // An address the handle holds no block for (ipAddrsNoIpam) is not IPAM's: left out. No handle: nothing.
    assert.deepEqual((await heldAddressesResult(mem, 'k8s-pod-network.cid1', ['10.200.0.9/32'])).routes, []);
    assert.deepEqual(await heldAddressesResult(mem, 'k8s-pod-network.none', asEndpoint), { ips: [], routes: [] });
  });

  test('withBlockPrefixes gives each address its block prefix and leaves out addresses in no block', () => {
    assert.deepEqual(
      withBlockPrefixes(['10.0.0.5/32', '10.9.0.1/32', 'fd00:1::7/128'], ['10.0.0.0/26', 'fd00:1::/122']),
      ['10.0.0.5/26', 'fd00:1::7/122'],
    );
    assert.deepEqual(withBlockPrefixes(['10.0.0.5'], ['not-a-cidr']), []);
  });

  test('timestamps are recorded in Go time.Time String() form, as Calico', () => {
    assert.equal(goUtcTimestamp(new Date('2026-05-06T07:08:09.010Z')), '2026-05-06 07:08:09.01 +0000 UTC');
    assert.equal(goUtcTimestamp(new Date('2026-05-06T07:08:09.123Z')), '2026-05-06 07:08:09.123 +0000 UTC');
    assert.equal(goUtcTimestamp(new Date('2026-05-06T07:08:09.000Z')), '2026-05-06 07:08:09 +0000 UTC');
  });
});
