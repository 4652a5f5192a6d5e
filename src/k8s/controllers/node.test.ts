// The node controller's IPAM pass, driven directly with a fake clock: after the leak scan it frees cooled-down
// addresses of blocks nobody writes and trims a node's redundant empty blocks once leakGracePeriod has passed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { KubernetesNode, Pod } from '../../api/k8s/types.js';
import { MemoryDatastore } from '../../datastore/memory.js';
import { ResourceClient } from '../../datastore/resources.js';
import { IpamClient } from '../../ipam/client.js';
import { putNode, putPool } from '../../../test/support/ipam.js';
import type { KubeInformer } from './informer.js';
import type { KubeLookup } from './kube-lookup.js';
import { ControllerMetrics } from './metrics.js';
import { NodeController } from './node.js';

/** An informer that knows no objects (the IPAM pass only asks it about pods and nodes). */
const noObjects: unknown = { on: () => undefined, get: () => undefined, synced: async () => undefined };

const GRACE = 15 * 60_000;

test('the IPAM pass trims redundant empty blocks after leakGracePeriod and frees cooled-down addresses', async () => {
  const ds = new MemoryDatastore();
  let now = Date.parse('2026-01-01T00:00:00Z');
  const ipam = new IpamClient(ds, { now: () => new Date(now) });
  await putNode(ds, 'node-a');
  await putPool(ds, 'p', '10.50.0.0/24', { blockSize: 30 });
  const controller = new NodeController(noObjects as KubeInformer<KubernetesNode>, noObjects as KubeInformer<Pod>, {
    client: new ResourceClient(ds),
    log: pino({ level: 'silent' }),
    metrics: new ControllerMetrics(),
    reconcilerPeriodMs: 300_000,
    ipam,
    lookup: {} as KubeLookup,
    leakGracePeriodMs: GRACE,
    syncLabels: false,
    now: () => now,
  });
  const gcPass = () => (controller as unknown as { reconcile(key: string): Promise<void> }).reconcile(' ipam-gc');
  try {
    await ipam.setConfig({ ipCooldownSeconds: 60 });
    for (let i = 0; i < 9; i++) {
      await ipam.autoAssign({ num4: 1, num6: 0, handleId: `h${i}`, attrs: { node: 'node-a' }, hostname: 'node-a' });
    }
    for (let i = 0; i < 9; i++) await ipam.releaseByHandle(`h${i}`);
    const blocks = async () => (await ipam.store.listBlocks()).map((b) => b.value.cidr);
    assert.equal((await blocks()).length, 3);

    await gcPass();
    assert.equal((await blocks()).length, 3, 'cooling addresses: no block is empty yet');
    now += 60_000;
    await gcPass(); // the cooled addresses are freed; the blocks are seen empty from now on
    const held = (await ipam.store.listBlocks()).flatMap((b) => b.value.allocations.filter((a) => a !== null));
    assert.deepEqual(held, [], 'every cooled address freed by the backstop');
    now += GRACE;
    await gcPass();
    assert.equal((await blocks()).length, 3, 'not yet longer than the grace period');
    now += 1;
    await gcPass();
    assert.equal((await blocks()).length, 1, "two spare blocks released, the node's last kept");
    assert.deepEqual(
      (await ipam.store.listAffinities('node-a')).map((a) => a.cidr),
      await blocks(),
    );
  } finally {
    await controller.stop();
    await ds.close();
  }
});
