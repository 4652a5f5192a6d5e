// IPAM stress through the calico-ipam executable on SQLite: borrowing on, then strict affinity with
// maxBlocksPerHost 2 (where the block-limit error must appear), both at the scale IPAM_STRESS_ADDS, by default the
// acceptance scale 2,000. Each request execs the plugin (~88 ms of CPU, 8 at once keep both cores busy), so the two
// runs take ~6 min on a quiet 2-core machine (measured at 400: 37 s + 34 s, CPU-bound). Measured at 2,000 with other
// work on the machine: 184 s borrowing + 191 s strict at load ~9; 436 s + 244 s at load ~12.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteDatastore } from '../../../src/datastore/sqlite.js';
import { requireBuild, runStress, strictBlockSize } from './stress.js';

const ADDS = Number(process.env.IPAM_STRESS_ADDS ?? 2000);

before(() => requireBuild());

async function withSqlite<T>(fn: (ds: SqliteDatastore, file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ti-sqlite-'));
  const file = path.join(dir, 'calico.db');
  const ds = await SqliteDatastore.open(file);
  try {
    return await fn(ds, file);
  } finally {
    await ds.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test(`SQLite, borrowing on: ${ADDS} addresses by 8 processes on 3 nodes, release half, allocate again`, async () => {
  await withSqlite(async (ds, file) => {
    const r = await runStress({
      ds,
      dsConf: { datastore_type: 'sqlite', sqlite_path: file },
      ctlSpec: { datastoreType: 'sqlite', sqlitePath: file },
      adds: ADDS,
      blockSize: 26, // two pools of just over ADDS/2 addresses each (2 x /22 for 2,000): the end of the run borrows
    });
    assert.equal(r.firstRound, ADDS);
    console.log(
      `sqlite borrowing: ${ADDS} + ${ADDS / 2} allocations, ${ADDS / 2} releases in ${r.seconds.toFixed(1)} s`,
    );
  });
});

test(`SQLite, strict affinity and maxBlocksPerHost 2: ${ADDS} requests, the block-limit error appears, nothing is borrowed`, async () => {
  const adds = ADDS;
  const blockSize = strictBlockSize(adds);
  await withSqlite(async (ds, file) => {
    const r = await runStress({
      ds,
      dsConf: { datastore_type: 'sqlite', sqlite_path: file },
      ctlSpec: { datastoreType: 'sqlite', sqlitePath: file },
      adds,
      blockSize, // a node's 2 blocks hold at most 3/4 of its requests: every node reaches the limit
      strictLimit: 2,
      expectSuccess: 6 * 2 ** (32 - blockSize),
    });
    assert.ok(r.failures.length > 0);
    for (const f of r.failures) assert.match(f, /limit of 2 blocks reached for this node/);
    console.log(
      `%s strict: %d requests, %d allocated (/%d blocks), %d limit errors, in %s s`,
      'sqlite',
      adds,
      r.firstRound,
      blockSize,
      r.failures.length,
      r.seconds.toFixed(1),
    );
  });
});
