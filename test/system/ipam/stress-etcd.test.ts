// IPAM stress through the calico-ipam executable on a real etcd: borrowing on, then strict affinity with
// maxBlocksPerHost 2, both at the scale IPAM_STRESS_ETCD_ADDS, by default the acceptance scale 2,000 (about 4 min
// more CI time than 1,000; a smaller figure is for quick local runs). The plugin reaches etcd through its JSON
// gateway: an ADD exec takes ~85-100 ms (it took ~260 ms with the gRPC client), ~100 ms of CPU per request in this test including
// etcd's own. Measured at 400 on a quiet machine: 44 s + 39 s; at 1,000 (load ~5-9): 110 s + 101 s; at 2,000 under
// load ~10-13: 275 s borrowing + 225 s strict (with the gRPC client: 1,149 s + 607 s). etcd runs with its defaults
// (fsync on).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, type TestEtcd } from '../../support/etcd.js';
import { EtcdDatastore } from '../../../src/datastore/etcd.js';
import { requireBuild, runStress, strictBlockSize } from './stress.js';

const ADDS = Number(process.env.IPAM_STRESS_ETCD_ADDS ?? 2000);
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
      blockSize, // a node's 2 blocks hold at most 3/4 of its requests: every node reaches the limit
      strictLimit: 2,
      expectSuccess: 6 * 2 ** (32 - blockSize),
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
