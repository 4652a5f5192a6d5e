// create/apply/replace/delete over the in-memory datastore: Calico's messages and exit codes, skip flags, conflicts
// on stale resourceVersions, apply of unchanged resources writing nothing, Partial success when the datastore fails
// mid-way, label and patch, and `delete node` releasing the node's IPAM state.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/resource.js';
import { MemoryDatastore } from '../datastore/memory.js';
import { ResourceClient } from '../datastore/resources.js';
import { UnreachableError, type Datastore } from '../datastore/types.js';
import { IpamClient } from '../ipam/client.js';
import { IpamStore } from '../ipam/store.js';
import { executeAction, summarize } from './actions.js';
import { runGet } from './get.js';
import { runLabel } from './label.js';
import { runPatch } from './patch.js';

const pool = (name: string, cidr: string, extra: Record<string, unknown> = {}): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name },
  spec: { cidr, ...extra },
});

function client(ds: Datastore = new MemoryDatastore()): ResourceClient {
  return new ResourceClient(ds);
}

describe('create / apply / replace / delete', () => {
  test('apply twice: success message each time, the second writes nothing', async () => {
    const c = client();
    const res = await executeAction(c, 'apply', [pool('a', '10.1.0.0/16'), pool('b', '10.2.0.0/16')]);
    assert.deepEqual(summarize('apply', res), {
      code: 0,
      stdout: "Successfully applied 2 'IPPool' resource(s)\n",
      stderr: '',
    });
    const rev = await c.datastore.currentRevision();
    await executeAction(c, 'apply', [pool('a', '10.1.0.0/16'), pool('b', '10.2.0.0/16')]);
    assert.equal(await c.datastore.currentRevision(), rev);
  });

  test('create of an existing resource fails in Calico words; --skip-exists skips it', async () => {
    const c = client();
    await executeAction(c, 'create', [pool('a', '10.1.0.0/16')]);
    const again = summarize('create', await executeAction(c, 'create', [pool('a', '10.1.0.0/16')]));
    assert.equal(again.code, 1);
    assert.match(again.stderr, /resource already exists: IPPool\(a\)/);
    const skipped = await executeAction(c, 'create', [pool('a', '10.9.0.0/16'), pool('b', '10.2.0.0/16')], {
      skipExists: true,
    });
    assert.equal(summarize('create', skipped).stdout, "Successfully created 2 'IPPool' resource(s)\n");
    assert.equal((await c.get('IPPool', 'a')).spec.cidr, '10.1.0.0/16', 'the existing resource is left alone');
  });

  test('replace of a missing resource fails; stale resourceVersion on replace and delete is a conflict', async () => {
    const c = client();
    const missing = summarize('replace', await executeAction(c, 'replace', [pool('a', '10.1.0.0/16')]));
    assert.match(missing.stderr, /resource does not exist: IPPool\(a\)/);
    const created = await c.create(pool('a', '10.1.0.0/16'));
    await c.update({ ...created, spec: { ...created.spec, natOutgoing: true } });
    const stale = { ...created, metadata: { ...created.metadata } };
    const r = summarize('replace', await executeAction(c, 'replace', [stale]));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /update conflict: IPPool\(a\)/);
    const d = summarize('delete', await executeAction(c, 'delete', [stale]));
    assert.match(d.stderr, /update conflict: IPPool\(a\)/);
    assert.ok(await c.find('IPPool', 'a'));
  });

  test('delete: missing fails unless --skip-not-exists; several kinds say resource(s) without a kind', async () => {
    const c = client();
    const miss = summarize('delete', await executeAction(c, 'delete', [pool('x', '10.1.0.0/16')]));
    assert.equal(miss.code, 1);
    assert.match(miss.stderr, /resource does not exist: IPPool\(x\) with error: <nil>/);
    const skip = await executeAction(c, 'delete', [pool('x', '10.1.0.0/16')], { skipNotExists: true });
    assert.equal(summarize('delete', skip).code, 0);
    const tier: Resource = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'Tier',
      metadata: { name: 't1' },
      spec: { order: 10 },
    };
    const mixed = await executeAction(c, 'apply', [pool('a', '10.1.0.0/16'), tier]);
    assert.equal(summarize('apply', mixed).stdout, 'Successfully applied 2 resource(s)\n');
  });

  test('Partial success when the datastore fails mid-way: what was written stays, exit 1', async () => {
    const mem = new MemoryDatastore();
    let writes = 0;
    const failing = new Proxy(mem, {
      get(target, prop, receiver) {
        if (prop === 'create' || prop === 'update') {
          return async (...args: unknown[]) => {
            if (++writes > 2) throw new UnreachableError('etcdv3 http://127.0.0.1:1: unreachable');
            return (target[prop] as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as Datastore;
    const c = client(failing);
    const res = await executeAction(c, 'apply', [
      pool('a', '10.1.0.0/16'),
      pool('b', '10.2.0.0/16'),
      pool('c', '10.3.0.0/16'),
      pool('d', '10.4.0.0/16'),
    ]);
    const out = summarize('apply', res);
    assert.equal(out.code, 1);
    assert.equal(out.stdout, "Partial success: applied the first 2 out of 4 'IPPool' resources:\n");
    assert.match(out.stderr, /^Hit error\(s\): \[etcdv3 http:\/\/127\.0\.0\.1:1: unreachable\]\n$/);
    assert.deepEqual(
      (await client(mem).list('IPPool')).items.map((r) => r.metadata.name),
      ['a', 'b'],
    );
  });

  test("apply/replace may not change an IPPool's cidr or blockSize", async () => {
    const c = client();
    await c.create(pool('a', '10.1.0.0/16'));
    for (const action of ['apply', 'replace'] as const) {
      const out = summarize(action, await executeAction(c, action, [pool('a', '10.7.0.0/16')]));
      assert.equal(out.code, 1);
      assert.match(out.stderr, /spec\.cidr: an IP pool's CIDR cannot be modified/);
    }
    assert.equal((await c.get('IPPool', 'a')).spec.cidr, '10.1.0.0/16');
  });

  test('no resources in the input', () => {
    assert.equal(
      summarize('apply', { numResources: 0, numHandled: 0, errors: [], singleKind: '' }).stdout,
      'No resources specified\n',
    );
  });
});

describe('delete node', () => {
  test("releases the node's affinities, tunnel address and its node-specific objects", async () => {
    const ds = new MemoryDatastore();
    const c = client(ds);
    await c.create(pool('p', '10.50.0.0/16', { vxlanMode: 'Always' }));
    await c.create({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n1' }, spec: {} });
    await c.create({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n2' }, spec: {} });
    await c.create({
      apiVersion: 'projectcalico.org/v3',
      kind: 'FelixConfiguration',
      metadata: { name: 'node.n1' },
      spec: {},
    });
    await c.create({
      apiVersion: 'projectcalico.org/v3',
      kind: 'BGPPeer',
      metadata: { name: 'peer-n1' },
      spec: { node: 'n1', peerIP: '10.0.0.9', asNumber: 65000 },
    });
    const ipam = new IpamClient(ds);
    const tunnel = await ipam.ensureTunnelAddress('n1');
    await ipam.ensureTunnelAddress('n2');
    const store = new IpamStore(ds);
    assert.equal((await store.listAffinities('n1')).length, 1);

    const out = summarize(
      'delete',
      await executeAction(c, 'delete', [
        { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n1' }, spec: {} },
      ]),
    );
    assert.equal(out.stdout, "Successfully deleted 1 'Node' resource(s)\n");
    assert.equal((await store.listAffinities('n1')).length, 0);
    assert.equal((await store.listAffinities('n2')).length, 1, 'other nodes keep theirs');
    assert.equal(await ipam.getAllocation(tunnel), undefined);
    assert.equal(await c.find('FelixConfiguration', 'node.n1'), undefined);
    assert.equal(await c.find('BGPPeer', 'peer-n1'), undefined);
  });
});

describe('label and patch', () => {
  test('label sets, refuses to overwrite without --overwrite, removes', async () => {
    const c = client();
    await c.create(pool('a', '10.1.0.0/16'));
    assert.equal(
      (await runLabel(c, { kind: 'ippool', name: 'a', label: 'env=prod' })).stdout,
      'Successfully set label env on ippool a\n',
    );
    const refused = await runLabel(c, { kind: 'ippool', name: 'a', label: 'env=dev' });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^failed to update label of ippool a, key env is already present\. please use '--overwrite' to set a new value\.\n$/,
    );
    assert.equal(
      (await runLabel(c, { kind: 'ippool', name: 'a', label: 'env=dev', overwrite: true })).stdout,
      'Successfully updated label env on ippool a\n',
    );
    assert.deepEqual((await c.get('IPPool', 'a')).metadata.labels, { env: 'dev' });
    await runLabel(c, { kind: 'ippool', name: 'a', label: 'env', remove: true });
    assert.deepEqual((await c.get('IPPool', 'a')).metadata.labels, {});
    assert.equal(
      (await runLabel(c, { kind: 'ippool', name: 'a', label: 'env', remove: true })).stderr,
      'cannot remove label of ippool a, key env does not exist\n',
    );
    assert.match(
      (await runLabel(c, { kind: 'ippool', name: 'zz', label: 'a=b' })).stderr,
      /^failed to get ippool zz, error resource does not exist/,
    );
    assert.equal((await runLabel(c, { kind: 'clusterinfo', name: 'default', label: 'a=b' })).code, 1);
  });

  test('patch validates the result and writes it as a CAS', async () => {
    const c = client();
    await c.create(pool('a', '10.1.0.0/16'));
    const ok = await runPatch(c, { kind: 'pools', name: 'a', patch: '{"spec":{"natOutgoing":true}}', type: 'merge' });
    assert.equal(ok.stdout, "Successfully patched 1 'IPPool' resource\n");
    assert.equal((await c.get('IPPool', 'a')).spec.natOutgoing, true);
    const bad = await runPatch(c, { kind: 'pools', name: 'a', patch: '{"spec":{"blockSize":99}}', type: 'strategic' });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /spec\.blockSize/);
    const missing = await runPatch(c, { kind: 'pools', name: 'zz', patch: '{}', type: 'merge' });
    assert.match(missing.stderr, /resource does not exist: IPPool\(zz\)/);
  });
});

describe('get', () => {
  test('named get prints the object, missing one fails with exit 1, list prints a <Kind>List', async () => {
    const c = client();
    await c.create(pool('a', '10.1.0.0/16'));
    const one = await runGet(c, { kind: 'ipp', names: ['a'], output: 'json' });
    assert.equal(JSON.parse(one.stdout).kind, 'IPPool');
    const list = await runGet(c, { kind: 'ipp', names: [], output: 'yaml' });
    assert.match(list.stdout, /^kind: IPPoolList$/m);
    const missing = await runGet(c, { kind: 'ipp', names: ['nope'], output: 'ps' });
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'resource does not exist: IPPool(nope) with error: <nil>\n');
    const exported = await runGet(c, { kind: 'ipp', names: ['a'], output: 'yaml', export: true });
    assert.doesNotMatch(exported.stdout, /uid|resourceVersion|creationTimestamp/);
    assert.equal((await runGet(c, { kind: 'tiers', names: [], output: 'name' })).stdout, '');
  });
});

describe('read-only kinds', () => {
  test('BlockAffinity is read from IPAM affinities; ClusterInformation and BlockAffinity cannot be written', async () => {
    const ds = new MemoryDatastore();
    const c = client(ds);
    await c.create(pool('p', '10.60.0.0/16', { blockSize: 26 }));
    await c.create({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'node-a' }, spec: {} });
    await new IpamClient(ds).ensureTunnelAddress('node-a');
    const out = await runGet(c, { kind: 'blockaffinities', names: [], output: 'ps' });
    assert.equal(out.code, 0, out.stderr);
    assert.match(
      out.stdout.replace(/ +$/gm, ''),
      /^NAME {3,}CIDR {3,}NODE {3,}STATE\nnode-a-10-60-\d+-\d+-26 {3,}10\.60\.\d+\.\d+\/26 {3,}node-a {3,}confirmed\n\n$/,
    );
    const name = out.stdout.split('\n')[1].split(' ')[0];
    const one = await runGet(c, { kind: 'affinity', names: [name], output: 'json' });
    assert.equal(JSON.parse(one.stdout).spec.node, 'node-a');
    const del = await runLabel(c, { kind: 'blockaffinity', name, label: 'a=b' });
    assert.equal(del.stderr, 'operation label is not supported on BlockAffinity: resource is readonly\n');
  });
});
