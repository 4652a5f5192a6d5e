// calico-node's CNI hand-off keeps one IpamClient per datastore handle: counted datastore calls show that its ADDs
// take the allocator's no-read fast path, and concurrent ADDs through it still get distinct addresses.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteDatastore } from '../../datastore/sqlite.js';
import type { Datastore } from '../../datastore/types.js';
import type { CniRequest, NetConf } from '../../cni/skel/types.js';
import { createPluginDeps } from '../../cni/plugin/handlers.js';
import { createIpamPluginHandlers } from './index.js';
import { checkIpamInvariants, putNode, putPool } from '../../../test/support/ipam.js';

const COUNTED = ['get', 'list', 'create', 'put', 'update', 'delete', 'txn'] as const;

/** Wraps ds's calls in place (the shared handle the hand-off uses) and returns the running count. */
function countCalls(ds: Datastore): { total: () => number } {
  let n = 0;
  const target = ds as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of COUNTED) {
    const original = target[name].bind(ds);
    target[name] = (...a: unknown[]) => {
      n++;
      return original(...a);
    };
  }
  return { total: () => n };
}

describe('calico-ipam in the CNI hand-off', () => {
  let dir: string;
  let netconf: NetConf;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'ty-handoff-'));
    const dbPath = path.join(dir, 'calico.db');
    const seed = await SqliteDatastore.open(dbPath);
    await putNode(seed, 'node-a');
    await putPool(seed, 'p', '10.40.0.0/16');
    await seed.close();
    netconf = {
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      type: 'calico',
      datastore_type: 'sqlite',
      sqlite_path: dbPath,
      nodename: 'node-a',
      ipam: { type: 'calico-ipam', ipam_lock_file: path.join(dir, 'ipam.lock') },
    } as NetConf;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const request = (containerId: string): CniRequest => ({
    command: 'ADD',
    containerId,
    netns: '/var/run/netns/none',
    ifName: 'eth0',
    args: {},
    path: [],
    config: netconf,
    stdin: JSON.stringify(netconf),
    env: {},
  });

  test('20 sequential ADDs: after the first two, each is one datastore call (the CAS write), not a read round', async (t) => {
    const deps = createPluginDeps({ keepOpen: true, log: () => {} });
    const shared = (await deps.datastore(request('warm'))).ds;
    const calls = countCalls(shared);
    const perAdd: number[] = [];
    const addresses: string[] = [];
    for (let i = 0; i < 20; i++) {
      const before = calls.total();
      const r = await deps.ipam.invoke(request(`seq-${i}`), { command: 'ADD', config: netconf });
      perAdd.push(calls.total() - before);
      addresses.push(String(r?.ips?.[0]?.address));
    }
    assert.equal(new Set(addresses).size, 20);
    assert.ok(perAdd[0] > 1, `the first ADD reads what it decides from (${perAdd[0]} calls)`);
    // The second also lists the node's affinities once: the first decided from the list read before it claimed.
    assert.ok(perAdd[1] <= 2, `calls per ADD: ${perAdd.join(' ')}`);
    assert.deepEqual(perAdd.slice(2), new Array(18).fill(1), `calls per ADD: ${perAdd.join(' ')}`);

    // The same ADDs with a client per request (what the hand-off did before) read everything every time.
    const keptOpen = new Proxy(shared, {
      get: (t, prop) => (prop === 'close' ? async () => {} : Reflect.get(t, prop, t)),
    });
    const perRequest = createIpamPluginHandlers({ openDatastore: async () => keptOpen, now: () => new Date() });
    const before = calls.total();
    for (let i = 0; i < 5; i++) {
      await perRequest.add({ ...request(`fresh-${i}`), config: netconf });
    }
    const fresh = (calls.total() - before) / 5;
    t.diagnostic(`datastore calls per ADD, shared client: ${perAdd.join(' ')}; a client per request: ${fresh}`);
    assert.ok(fresh >= 5, `a fresh client per ADD costs ${fresh} calls`);
    await shared.close();
  });

  test('concurrent ADDs and DELs through one shared client: distinct addresses, exact releases, sound datastore', async () => {
    const deps = createPluginDeps({ keepOpen: true, log: () => {} });
    const shared = (await deps.datastore(request('warm'))).ds;
    const ids = Array.from({ length: 16 }, (_, i) => `par-${i}`);
    const got = await Promise.all(
      ids.map(async (id) => {
        const r = await deps.ipam.invoke(request(id), { command: 'ADD', config: netconf });
        return String(r?.ips?.[0]?.address).split('/')[0];
      }),
    );
    assert.equal(new Set(got).size, ids.length);
    await Promise.all(
      ids
        .slice(0, 8)
        .map((id) => deps.ipam.invoke({ ...request(id), command: 'DEL' }, { command: 'DEL', config: netconf })),
    );
    const { owners, violations } = await checkIpamInvariants(shared);
    assert.deepEqual(violations, []);
    for (let i = 0; i < ids.length; i++) {
      assert.equal(owners.get(got[i]) ?? null, i < 8 ? null : `k8s-pod-network.${ids[i]}`, got[i]);
    }
    await shared.close();
  });
});
