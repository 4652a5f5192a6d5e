import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDatastore } from './memory.js';
import { ResourceClient, ensureClusterInformation, parseResourceKey, type ResourceEvent } from './resources.js';
import { AlreadyExistsError, ConflictError, NotFoundError } from './types.js';
import { IPAM_CONFIG_KEY } from './keys.js';
import type { Resource } from '../api/resource.js';

const pool = (name: string, cidr = '10.0.0.0/16', extra: Record<string, unknown> = {}): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name },
  spec: { cidr, blockSize: 26, ...extra },
});

const policy = (ns: string, name: string): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: ns },
  spec: { selector: 'all()' },
});

describe('ResourceClient', () => {
  let ds: MemoryDatastore;
  let client: ResourceClient;
  beforeEach(() => {
    ds = new MemoryDatastore();
    client = new ResourceClient(ds, { now: () => new Date('2026-01-02T03:04:05.678Z') });
  });
  afterEach(() => ds.close());

  test("create stores the v3 object at Calico's key with uid and creationTimestamp; resourceVersion is the revision", async () => {
    const created = await client.create(pool('p1'));
    assert.match(created.metadata.uid!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(created.metadata.creationTimestamp, '2026-01-02T03:04:05Z');
    const kv = await ds.get('/calico/resources/v3/projectcalico.org/ippools/p1');
    assert.ok(kv);
    assert.equal(created.metadata.resourceVersion, String(kv.revision));
    const stored = JSON.parse(kv.value);
    assert.equal(stored.metadata.resourceVersion, undefined, 'resourceVersion is never stored');
    assert.deepEqual(Object.keys(stored), ['kind', 'apiVersion', 'metadata', 'spec']);
    assert.deepEqual(await client.get('IPPool', 'p1'), created);
  });

  test("create of an existing resource fails with Calico's wording", async () => {
    await client.create(pool('p1'));
    await assert.rejects(client.create(pool('p1')), (e: Error) => {
      assert.ok(e instanceof AlreadyExistsError);
      assert.equal(e.message, 'resource already exists: IPPool(p1)');
      return true;
    });
    await assert.rejects(client.get('IPPool', 'nope'), (e: Error) => {
      assert.ok(e instanceof NotFoundError);
      assert.equal(e.message, 'resource does not exist: IPPool(nope) with error: <nil>');
      return true;
    });
  });

  test('update with a stale resourceVersion is a conflict naming the resource; without one it overwrites', async () => {
    const v1 = await client.create(pool('p1'));
    const v2 = await client.update({ ...v1, spec: { ...v1.spec, natOutgoing: true } });
    assert.ok(Number(v2.metadata.resourceVersion) > Number(v1.metadata.resourceVersion));
    assert.equal(v2.metadata.uid, v1.metadata.uid);
    assert.equal(v2.metadata.creationTimestamp, v1.metadata.creationTimestamp);
    await assert.rejects(client.update({ ...v1, spec: { cidr: '10.9.0.0/16' } }), (e: Error) => {
      assert.ok(e instanceof ConflictError);
      assert.equal(e.message, 'update conflict: IPPool(p1)');
      return true;
    });
    const v3 = await client.update(pool('p1', '10.0.0.0/16', { disabled: true }));
    assert.equal(v3.spec.disabled, true);
    assert.equal(v3.metadata.uid, v1.metadata.uid, 'uid survives an update that did not carry it');
    await assert.rejects(client.update(pool('missing')), NotFoundError);
  });

  test('delete with a stale resourceVersion is a conflict; then deletes and returns the object', async () => {
    const v1 = await client.create(policy('prod', 'allow-dns'));
    const v2 = await client.update({ ...v1, metadata: { ...v1.metadata, labels: { a: 'b' } } });
    await assert.rejects(client.delete('NetworkPolicy', 'allow-dns', 'prod', v1.metadata.resourceVersion), {
      message: 'update conflict: NetworkPolicy(prod/allow-dns)',
    });
    const gone = await client.delete('NetworkPolicy', 'allow-dns', 'prod', v2.metadata.resourceVersion);
    assert.deepEqual(gone.metadata.labels, { a: 'b', 'projectcalico.org/tier': 'default' });
    await assert.rejects(client.delete('NetworkPolicy', 'allow-dns', 'prod'), {
      message: 'resource does not exist: NetworkPolicy(prod/allow-dns) with error: <nil>',
    });
  });

  test('apply creates, updates, and writes nothing for an unchanged resource (even re-read from get)', async () => {
    const a = await client.apply(pool('p1'));
    const rev = await ds.currentRevision();
    const again = await client.apply(pool('p1'));
    assert.equal(await ds.currentRevision(), rev, 'no write for identical content');
    assert.equal(again.metadata.resourceVersion, a.metadata.resourceVersion);
    const roundTrip = await client.apply(await client.get('IPPool', 'p1'));
    assert.equal(roundTrip.metadata.resourceVersion, a.metadata.resourceVersion);
    assert.equal(await ds.currentRevision(), rev);
    const changed = await client.apply(pool('p1', '10.0.0.0/16', { natOutgoing: true }));
    assert.ok(Number(changed.metadata.resourceVersion) > rev);
    assert.equal(changed.metadata.uid, a.metadata.uid);
    await assert.rejects(client.apply({ ...a, spec: { cidr: '10.1.0.0/16' } }), ConflictError);
  });

  test('list by kind, across namespaces or within one, sorted', async () => {
    await client.create(policy('b', 'x'));
    await client.create(policy('a', 'y'));
    await client.create(policy('a', 'x'));
    await client.create({ ...policy('ab', 'z') });
    await client.create(pool('p1'));
    const all = await client.list('NetworkPolicy');
    assert.deepEqual(
      all.items.map((r) => `${r.metadata.namespace}/${r.metadata.name}`),
      ['a/x', 'a/y', 'ab/z', 'b/x'],
    );
    const inA = await client.list('NetworkPolicy', 'a');
    assert.deepEqual(
      inA.items.map((r) => r.metadata.name),
      ['x', 'y'],
    );
    assert.equal((await client.list('IPPool')).items.length, 1);
    assert.equal(all.items[0]!.metadata.resourceVersion !== undefined, true);
  });

  test('identity errors name the missing field', async () => {
    const raw = new ResourceClient(ds, { validate: false });
    await assert.rejects(raw.create({ ...policy('', 'x') }), /insufficient identifiers, missing 'namespace'/);
    await assert.rejects(raw.create(pool('')), /insufficient identifiers, missing 'name'/);
    await assert.rejects(client.create(pool('')), /IPPool: metadata.name: required/);
    await assert.rejects(raw.get('IPPool', ''), /insufficient identifiers, missing 'name'/);
    await assert.rejects(client.create({ ...pool('x'), kind: 'Nope' }), /kind: unknown resource kind "Nope"/);
  });

  test("IPAMConfiguration is stored at /calico/ipam/v2/config in Calico's JSON and read back", async () => {
    const cfg: Resource = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'IPAMConfiguration',
      metadata: { name: 'default' },
      spec: { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 4 },
    };
    await client.apply(cfg);
    const kv = await ds.get(IPAM_CONFIG_KEY);
    assert.deepEqual(JSON.parse(kv!.value), { strict_affinity: true, auto_allocate_blocks: true, maxBlocksPerHost: 4 });
    const read = await client.get('IPAMConfiguration', 'default');
    assert.deepEqual(read.spec, { strictAffinity: true, autoAllocateBlocks: true, maxBlocksPerHost: 4 });
    assert.equal(read.metadata.resourceVersion, String(kv!.revision));
    const rev = await ds.currentRevision();
    await client.apply(read);
    assert.equal(await ds.currentRevision(), rev, 'unchanged config not rewritten');
    await assert.rejects(client.create({ ...cfg, metadata: { name: 'other' } }), /must be named "default"/);
    // What the IPAM code writes directly is read the same way.
    await ds.put(IPAM_CONFIG_KEY, '{"auto_allocate_blocks":true}');
    assert.deepEqual((await client.get('IPAMConfiguration', 'default')).spec, {
      strictAffinity: false,
      autoAllocateBlocks: true,
      maxBlocksPerHost: 0,
    });
  });

  test("by default every write is validated by src/api and stored with Calico's create-time defaults", async () => {
    await assert.rejects(client.create(pool('bad', '10.0.0.1/16')), (e: Error) => {
      assert.equal(e.name, 'ResourceValidationError');
      assert.match(e.message, /IPPool "bad": spec.cidr/);
      return true;
    });
    assert.equal(await ds.get('/calico/resources/v3/projectcalico.org/ippools/bad'), undefined, 'nothing written');
    const p = await client.create({ ...pool('good'), spec: { cidr: '10.3.0.0/16' } });
    assert.equal(p.spec.blockSize, 26);
    assert.equal(p.spec.ipipMode, 'Never');
    assert.equal(p.spec.nodeSelector, 'all()');
    const rev = await ds.currentRevision();
    await client.apply({ ...pool('good'), spec: { cidr: '10.3.0.0/16' } });
    assert.equal(
      await ds.currentRevision(),
      rev,
      'the same file applied again (defaults not written out) is no change',
    );
  });

  test('a custom validator is called before writing and can refuse or default', async () => {
    const strict = new ResourceClient(ds, {
      validate: (r) => {
        if (r.kind === 'IPPool' && !r.spec.cidr) throw new Error('IPPool "bad": spec.cidr: required');
        return { ...r, spec: { blockSize: 26, ...r.spec } };
      },
    });
    await assert.rejects(strict.create({ ...pool('bad'), spec: {} }), /spec.cidr: required/);
    assert.equal(await ds.get('/calico/resources/v3/projectcalico.org/ippools/bad'), undefined);
    const ok = await strict.create({ ...pool('good'), spec: { cidr: '10.2.0.0/16' } });
    assert.equal(ok.spec.blockSize, 26);
  });

  test('watch delivers resource events after a list, with deletes carrying the previous object', async () => {
    await client.create(pool('p1'));
    const list = await client.list('IPPool');
    const events: ResourceEvent[] = [];
    const w = client.watch('IPPool', undefined, list.revision + 1, (e) => events.push(e));
    await client.create(pool('p2', '10.1.0.0/16'));
    await client.create(policy('a', 'not-a-pool'));
    await client.delete('IPPool', 'p1');
    const end = Date.now() + 2000;
    while (events.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
    await w.close();
    assert.equal(events.length, 2);
    const [put, del] = events;
    assert.ok(put!.type === 'put');
    assert.equal(put.resource.metadata.name, 'p2');
    assert.equal(put.resource.metadata.resourceVersion, String(put.revision));
    assert.ok(del!.type === 'delete' && del.name === 'p1' && del.previous?.spec.cidr === '10.0.0.0/16');
  });

  test('ensureClusterInformation creates default once with a GUID and datastoreReady, keeps it after', async () => {
    const a = await ensureClusterInformation(client, { calicoVersion: 'v3.30.0' });
    assert.match(a.spec.clusterGUID, /^[0-9a-f]{32}$/);
    assert.equal(a.spec.datastoreReady, true);
    const rev = await ds.currentRevision();
    const b = await ensureClusterInformation(client, { calicoVersion: 'v3.30.0' });
    assert.equal(b.spec.clusterGUID, a.spec.clusterGUID);
    assert.equal(await ds.currentRevision(), rev);
    // A datastore locked for migration (datastoreReady false) stays locked.
    await client.update({ ...b, spec: { ...b.spec, datastoreReady: false } });
    const c = await ensureClusterInformation(client);
    assert.equal(c.spec.datastoreReady, false);
    // Concurrent first use from several clients: one object, one GUID.
    const ds2 = new MemoryDatastore();
    const clients = [1, 2, 3].map(() => new ResourceClient(ds2));
    const all = await Promise.all(clients.map((cl) => ensureClusterInformation(cl)));
    assert.equal(new Set(all.map((r) => r.spec.clusterGUID)).size, 1);
    await ds2.close();
  });

  test('parseResourceKey inverts the key layout', () => {
    assert.deepEqual(parseResourceKey('/calico/resources/v3/projectcalico.org/networkpolicies/prod/allow-dns'), {
      kind: 'NetworkPolicy',
      namespace: 'prod',
      name: 'allow-dns',
    });
    assert.deepEqual(parseResourceKey('/calico/resources/v3/projectcalico.org/ippools/p'), {
      kind: 'IPPool',
      name: 'p',
    });
    assert.equal(parseResourceKey('/calico/ipam/v2/handle/x'), undefined);
    assert.equal(parseResourceKey('/calico/resources/v3/projectcalico.org/ippools/a/b'), undefined);
  });
});

test('ResourceClient accepts calicoctl aliases and names the canonical kind in errors', async () => {
  const ds = new MemoryDatastore();
  try {
    const client = new ResourceClient(ds);
    await client.create(pool('p1'));
    assert.equal((await client.get('ippool', 'p1')).kind, 'IPPool');
    assert.equal((await client.list('pools')).items.length, 1);
    await assert.rejects(client.get('ipp', 'nope', 'ignored-namespace'), {
      message: 'resource does not exist: IPPool(nope) with error: <nil>',
    });
    await assert.rejects(client.delete('policy', 'x', 'ns1'), {
      message: 'resource does not exist: NetworkPolicy(ns1/x) with error: <nil>',
    });
  } finally {
    await ds.close();
  }
});
