// IPAM stress through the calico-ipam executable on a real etcd: borrowing on, then strict affinity with
// maxBlocksPerHost 2. Scale: IPAM_STRESS_ETCD_ADDS (default 150 to fit the suite budget, since every request starts
// a plugin process that loads the etcd client; the acceptance scale is IPAM_STRESS_ETCD_ADDS=2000); strict round
// at most 120 requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type TestEtcd } from '../../support/etcd.js';
import { EtcdDatastore } from '../../../src/datastore/etcd.js';
import { requireBuild, runStress, strictBlockSize } from './stress.js';

const ADDS = Number(process.env.IPAM_STRESS_ETCD_ADDS ?? 150);
const running: TestEtcd[] = [];

before(() => requireBuild());
after(async () => {
  for (const e of running) await e.stop();
});

async function withEtcd<T>(fn: (ds: EtcdDatastore, endpoint: string) => Promise<T>): Promise<T> {
  const etcd = await startEtcd();
  running.push(etcd);
  const ds = new EtcdDatastore({ endpoints: [etcd.endpoint] });
  try {
    return await fn(ds, etcd.endpoint);
  } finally {
    await ds.close();
    await etcd.stop();
    running.splice(running.indexOf(etcd), 1);
  }
}

test(`etcd, borrowing on: ${ADDS} addresses by 8 processes on 3 nodes, release half, allocate again`, async () => {
  await withEtcd(async (ds, endpoint) => {
    const r = await runStress({
      ds,
      dsConf: { datastore_type: 'etcdv3', etcd_endpoints: endpoint },
      ctlSpec: { datastoreType: 'etcdv3', etcdEndpoints: endpoint },
      adds: ADDS,
      blockSize: 26,
    });
    assert.equal(r.firstRound, ADDS);
    console.log(`etcd borrowing: ${ADDS} + ${ADDS / 2} allocations, ${ADDS / 2} releases in ${r.seconds.toFixed(1)} s`);
  });
});

test(`etcd, strict affinity and maxBlocksPerHost 2: ${ADDS} requests, the block-limit error appears, nothing is borrowed`, async () => {
  const adds = ADDS;
  const blockSize = strictBlockSize(adds);
  await withEtcd(async (ds, endpoint) => {
    const r = await runStress({
      ds,
      dsConf: { datastore_type: 'etcdv3', etcd_endpoints: endpoint },
      ctlSpec: { datastoreType: 'etcdv3', etcdEndpoints: endpoint },
      adds,
      blockSize: 28,
      strictLimit: 2,
      expectSuccess: Math.min(adds, 96),
    });
    assert.ok(r.failures.length > 0);
    for (const f of r.failures) assert.match(f, /limit of 2 blocks reached for this node/);
    console.log(
      `%s strict: %d requests, %d allocated (/%d blocks), %d limit errors, in %s s`,
      'etcd',
      adds,
      r.firstRound,
      blockSize,
      r.failures.length,
      r.seconds.toFixed(1),
    );
  });
});
