import { test, describe, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDatastore } from './memory.js';
import { ResourceClient, ensureInitialized } from './resources.js';
import { ensureBuiltInTiers, isBuiltInTier } from './tiers.js';
import { OperationNotSupportedError } from './types.js';
import type { Resource } from '../api/resource.js';
import { implicitTier, parseTier } from '../agent/calc/policy-parser.js';

const tier = (name: string, spec: Record<string, unknown> = {}): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'Tier',
  metadata: { name },
  spec,
});
const gnp = (name: string, tierName?: string): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'GlobalNetworkPolicy',
  metadata: { name },
  spec: { selector: 'all()', ...(tierName ? { tier: tierName } : {}) },
});

describe('built-in tiers', () => {
  let ds: MemoryDatastore;
  let client: ResourceClient;
  beforeEach(() => {
    ds = new MemoryDatastore();
    client = new ResourceClient(ds);
  });
  afterEach(() => ds.close());

  test("ensureInitialized creates ClusterInformation and the three tiers with Calico's order and defaultAction", async () => {
    await ensureInitialized(client);
    const tiers = (await client.list('Tier')).items.map((t) => ({ name: t.metadata.name, spec: t.spec }));
    assert.deepEqual(tiers, [
      { name: 'default', spec: { order: 1_000_000, defaultAction: 'Deny' } },
      { name: 'kube-admin', spec: { order: 1_000, defaultAction: 'Pass' } },
      { name: 'kube-baseline', spec: { order: 10_000_000, defaultAction: 'Pass' } },
    ]);
    const info = await client.get('ClusterInformation', 'default');
    assert.equal(info.spec.datastoreReady, true);
  });

  test('create-if-absent: a second run writes nothing, and an edited tier is never overwritten', async () => {
    await client.create(tier('kube-admin', { order: 1_000, defaultAction: 'Deny' }));
    const edited = await client.update({
      ...(await client.get('Tier', 'kube-admin')),
      metadata: { ...(await client.get('Tier', 'kube-admin')).metadata, labels: { team: 'platform' } },
    });
    await ensureInitialized(client);
    assert.deepEqual((await client.list('Tier')).items.length, 3, 'the two missing tiers were created');
    const before = await ds.currentRevision();
    assert.deepEqual(await ensureBuiltInTiers(client), []);
    await ensureInitialized(client);
    assert.equal(await ds.currentRevision(), before, 'nothing written when everything exists');
    const kept = await client.get('Tier', 'kube-admin');
    assert.equal(kept.metadata.resourceVersion, edited.metadata.resourceVersion);
    assert.deepEqual(kept.spec, { order: 1_000, defaultAction: 'Deny' });
    assert.deepEqual(kept.metadata.labels, { team: 'platform' });
  });

  test("deleting a built-in tier is refused with Calico's error, and the tier stays", async () => {
    await ensureInitialized(client);
    for (const name of ['default', 'kube-admin', 'kube-baseline']) {
      assert.ok(isBuiltInTier(name));
      await assert.rejects(
        client.delete('Tier', name),
        (e: Error) =>
          e instanceof OperationNotSupportedError &&
          e.message === `operation Delete is not supported on ${name}: Cannot delete ${name} tier`,
      );
      assert.ok(await client.find('Tier', name), `${name} still exists`);
    }
    assert.equal(isBuiltInTier('security'), false);
  });

  test('a tier that any (staged) policy names cannot be deleted until the policies are gone', async () => {
    await client.create(tier('security', { order: 100 }));
    await client.create(tier('unused', { order: 200 }));
    await client.create(gnp('security.block', 'security'));
    await client.create({
      apiVersion: 'projectcalico.org/v3',
      kind: 'StagedNetworkPolicy',
      metadata: { name: 'security.try', namespace: 'prod' },
      spec: { tier: 'security', selector: 'all()' },
    });
    // A policy whose name starts with the tier name but lives in another tier does not count (Calico checks spec.tier).
    await client.create(gnp('unused-not-in-tier'));
    const refused = (e: Error) =>
      e instanceof OperationNotSupportedError &&
      e.message === 'operation delete is not supported on security: Cannot delete a non-empty tier';
    await assert.rejects(client.delete('Tier', 'security'), refused);
    await client.delete('GlobalNetworkPolicy', 'security.block');
    await assert.rejects(client.delete('Tier', 'security'), refused, 'the staged policy still holds it');
    await client.delete('StagedNetworkPolicy', 'security.try', 'prod');
    const gone = await client.delete('Tier', 'security');
    assert.equal(gone.metadata.name, 'security');
    assert.equal((await client.delete('Tier', 'unused')).metadata.name, 'unused');
  });

  test('the agent sees the same default tier whether or not the Tier object exists', async () => {
    await ensureInitialized(client);
    const stored = await client.get('Tier', 'default');
    assert.deepEqual(parseTier(stored), implicitTier('default'));
  });
});
