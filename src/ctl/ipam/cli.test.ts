// The `calicoctl ipam` flags as commander parses them, end to end on a SQLite file: each flag reaches its command
// (--strictaffinity, --max-blocks-per-host, repeated --from-report), with Calico's outputs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { main } from '../main.js';
import { openDatastore } from '../../datastore/index.js';
import { resourceKey } from '../../datastore/keys.js';
import { IpamClient } from '../../ipam/client.js';
import { putNode, putPool } from '../../../test/support/ipam.js';

/** Runs calicoctl in-process; returns stdout, stderr and the exit code it set. */
async function calicoctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  // Only text is captured: the test runner's own protocol goes through stdout as binary chunks meanwhile.
  process.stdout.write = ((s: string | Uint8Array, ...rest: never[]) =>
    typeof s === 'string' ? ((stdout += s), true) : out(s, ...rest)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array, ...rest: never[]) =>
    typeof s === 'string' ? ((stderr += s), true) : err(s, ...rest)) as typeof process.stderr.write;
  process.exitCode = 0;
  try {
    await main(args);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { code, stdout, stderr };
}

describe('calicoctl ipam flags', () => {
  let dir: string;
  let cfg: string;
  let db: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tv-ctl-'));
    db = path.join(dir, 'calico.db');
    cfg = path.join(dir, 'calicoctl.cfg');
    writeFileSync(
      cfg,
      `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: sqlite\n  sqlitePath: ${db}\n`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('configure --strictaffinity / --max-blocks-per-host reach the configuration', async () => {
    const r = await calicoctl(['ipam', 'configure', '--strictaffinity=true', '--max-blocks-per-host=4', '-c', cfg]);
    assert.deepEqual(r, {
      code: 0,
      stdout: 'Successfully set StrictAffinity to: true\nSuccessfully set MaxBlocksPerHost to: 4\n',
      stderr: '',
    });
    const show = await calicoctl(['ipam', 'show', '--show-configuration', '-c', cfg]);
    assert.match(show.stdout, /\| StrictAffinity\s+\| true\s+\|/);
    assert.match(show.stdout, /\| MaxBlocksPerHost\s+\| 4\s+\|/);
  });

  test('release --from-report given twice releases only what both reports mark', async () => {
    const ds = await openDatastore({ type: 'sqlite', sqlitePath: db });
    try {
      await putNode(ds, 'node-a');
      await putPool(ds, 'p', '10.4.0.0/24');
      await ds.put(
        resourceKey('ClusterInformation', 'default'),
        JSON.stringify({ kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { datastoreReady: false } }),
      );
      const ipam = new IpamClient(ds);
      for (const h of ['a', 'b']) {
        await ipam.autoAssign({ num4: 1, num6: 0, handleId: h, attrs: { node: 'node-a' }, hostname: 'node-a' });
      }
    } finally {
      await ds.close();
    }
    const r1 = path.join(dir, 'r1.json');
    const r2 = path.join(dir, 'r2.json');
    assert.equal((await calicoctl(['ipam', 'check', '-o', r1, '-c', cfg])).code, 0);
    // Between the reports, b's address gets a workload endpoint: only a is leaked in both.
    const ds2 = await openDatastore({ type: 'sqlite', sqlitePath: db });
    try {
      const report = JSON.parse(readFileSync(r1, 'utf8'));
      const bIp = Object.keys(report.allocations).find((ip) => report.allocations[ip][0].handle === 'b')!;
      const wep = {
        apiVersion: 'projectcalico.org/v3',
        kind: 'WorkloadEndpoint',
        metadata: { name: 'w', namespace: 'default' },
        spec: { node: 'node-a', ipNetworks: [`${bIp}/32`] },
      };
      await ds2.put(resourceKey('WorkloadEndpoint', 'w', 'default'), JSON.stringify(wep));
    } finally {
      await ds2.close();
    }
    assert.equal((await calicoctl(['ipam', 'check', '-o', r2, '-c', cfg])).code, 0);
    const rel = await calicoctl(['ipam', 'release', '--from-report', r1, '--from-report', r2, '-c', cfg]);
    assert.equal(rel.code, 0, rel.stderr);
    assert.match(rel.stdout, /^Releasing 1 old IPs\.\.\.\nReleased 1 IPs successfully\n/);
    const ds3 = await openDatastore({ type: 'sqlite', sqlitePath: db });
    try {
      const handles = (await ds3.list('/calico/ipam/v2/handle/')).items.map((kv) => kv.key.split('/').pop());
      assert.deepEqual(handles, ['b'], 'a released, b (in use by the second report) kept');
    } finally {
      await ds3.close();
    }
  });
});
