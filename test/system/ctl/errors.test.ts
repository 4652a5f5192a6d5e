// calicoctl's failure paths through the built binary on SQLite and a real etcd: invalid files rejected with every
// problem listed and nothing written; create/replace/delete conflicts and the skip flags; label and patch; read-only
// kinds; version and the version-mismatch guard; and "Partial success" when the datastore becomes unreachable
// mid-file (etcd frozen with SIGSTOP, SQLite locked by another connection).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { resourcePrefix } from '../../../src/datastore/keys.js';
import { IpamClient } from '../../../src/ipam/client.js';
import { IpamStore } from '../../../src/ipam/store.js';
import { etcdBackend, requireBuild, sqliteBackend, type Backend } from './harness.js';

const pool = (name: string, cidr: string, extra = '') =>
  `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n${extra}`;

for (const make of [sqliteBackend, etcdBackend]) {
  describe(`calicoctl errors (${make === sqliteBackend ? 'sqlite' : 'etcd'})`, () => {
    let b: Backend;
    let dir: string;
    const file = (name: string, text: string): string => {
      const p = path.join(dir, name);
      writeFileSync(p, text);
      return p;
    };

    before(async () => {
      requireBuild();
      dir = mkdtempSync(path.join(tmpdir(), 'tl-err-'));
      b = await make();
    });
    after(async () => {
      await b?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('an invalid file is refused whole: every problem listed, nothing written', async () => {
      const text = [
        pool('good', '10.1.0.0/16'),
        pool('bad-size', '10.2.0.0/16', '  blockSize: 40\n'),
        'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n  name: Bad_Name\nspec:\n  selector: "a =="\n',
        'apiVersion: projectcalico.org/v3\nkind: ClusterInformation\nmetadata:\n  name: default\nspec: {}\n',
      ].join('---\n');
      const rev = await b.client.datastore.currentRevision();
      for (const cmd of ['apply', 'create', 'replace', 'validate']) {
        const r = await b.ctl([cmd, '-f', file('bad.yaml', text)]);
        assert.equal(r.code, 1, cmd);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, /^Failed to execute command: 4 problems:\n/);
        assert.match(r.stderr, /IPPool "bad-size": spec\.blockSize/);
        assert.match(r.stderr, /GlobalNetworkPolicy "Bad_Name": spec\.selector/);
        assert.match(r.stderr, /GlobalNetworkPolicy "Bad_Name": metadata\.name/);
        const op = cmd === 'validate' ? 'apply' : cmd;
        assert.match(
          r.stderr,
          new RegExp(`operation ${op} is not supported on ClusterInformation: resource is readonly`),
        );
      }
      const syntax = await b.ctl(['apply', '-f', file('syntax.yaml', 'kind: [unclosed\n')]);
      assert.equal(syntax.code, 1);
      assert.match(syntax.stderr, /^Failed to execute command: /);
      assert.equal(await b.client.datastore.currentRevision(), rev, 'nothing written');
      assert.equal(await b.client.find('IPPool', 'good'), undefined);
      const ok = await b.ctl(['validate', '-f', file('good.yaml', pool('good', '10.1.0.0/16'))]);
      assert.equal(ok.stdout, "Successfully validated 1 'IPPool' resource(s)\n");
      assert.equal(await b.client.find('IPPool', 'good'), undefined, 'validate writes nothing');
    });

    test('create conflicts and --skip-exists; stdin input', async () => {
      const text = `${pool('c1', '10.11.0.0/16')}---\n${pool('c2', '10.12.0.0/16')}`;
      const first = await b.ctl(['create', '-f', '-'], text);
      assert.equal(first.stdout, "Successfully created 2 'IPPool' resource(s)\n", first.stderr);
      const again = await b.ctl(['create', '-f', '-'], text);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /resource already exists: IPPool\(c1\)/);
      const changed = `${pool('c1', '10.11.0.0/16', '  natOutgoing: true\n')}---\n${pool('c3', '10.13.0.0/16')}`;
      const skip = await b.ctl(['create', '--skip-exists', '-f', '-'], changed);
      assert.equal(skip.stdout, "Successfully created 2 'IPPool' resource(s)\n", skip.stderr);
      assert.equal((await b.client.get('IPPool', 'c1')).spec.natOutgoing, undefined, 'existing one left alone');
      assert.ok(await b.client.find('IPPool', 'c3'));
    });

    test('replace and delete with a stale resourceVersion are conflicts; missing ones fail unless skipped', async () => {
      const got = await b.ctl(['get', 'ippool', 'c1', '-o', 'yaml']);
      const stale = file(
        'stale.yaml',
        got.stdout.replace('cidr: 10.11.0.0/16', 'cidr: 10.11.0.0/16\n  disabled: true'),
      );
      const label = await b.ctl(['label', 'ippool', 'c1', 'env=prod']);
      assert.equal(label.stdout, 'Successfully set label env on ippool c1\n', label.stderr);
      const rep = await b.ctl(['replace', '-f', stale]);
      assert.equal(rep.code, 1);
      assert.match(rep.stderr, /update conflict: IPPool\(c1\)/);
      const del = await b.ctl(['delete', '-f', stale]);
      assert.equal(del.code, 1);
      assert.match(del.stderr, /update conflict: IPPool\(c1\)/);
      assert.ok(await b.client.find('IPPool', 'c1'), 'still there');

      const fresh = await b.ctl(['get', 'ippool', 'c1', '-o', 'yaml']);
      const rep2 = await b.ctl(
        ['replace', '-f', '-'],
        fresh.stdout.replace('cidr: 10.11.0.0/16', 'cidr: 10.11.0.0/16\n  disabled: true'),
      );
      assert.equal(rep2.stdout, "Successfully replaced 1 'IPPool' resource(s)\n", rep2.stderr);
      assert.equal((await b.client.get('IPPool', 'c1')).spec.disabled, true);

      const missing = await b.ctl(['replace', '-f', '-'], pool('nope', '10.99.0.0/16'));
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /resource does not exist: IPPool\(nope\)/);
      const delMissing = await b.ctl(['delete', 'ippool', 'nope']);
      assert.equal(delMissing.code, 1);
      assert.match(delMissing.stderr, /resource does not exist: IPPool\(nope\) with error: <nil>/);
      const skip = await b.ctl(['delete', 'pools', 'nope', 'c3', '--skip-not-exists']);
      assert.equal(skip.stdout, "Successfully deleted 2 'IPPool' resource(s)\n", skip.stderr);
      assert.equal(await b.client.find('IPPool', 'c3'), undefined);
    });

    test('label --overwrite/--remove and patch of each type', async () => {
      const refused = await b.ctl(['label', 'ipp', 'c1', 'env=dev']);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /key env is already present\. please use '--overwrite'/);
      assert.equal((await b.ctl(['label', 'ipp', 'c1', 'env=dev', '--overwrite'])).code, 0);
      assert.equal((await b.client.get('IPPool', 'c1')).metadata.labels?.env, 'dev');
      const removed = await b.ctl(['label', 'ipp', 'c1', 'env', '--remove']);
      assert.equal(removed.stdout, 'Successfully removed label env from ipp c1\n');
      assert.equal((await b.client.get('IPPool', 'c1')).metadata.labels?.env, undefined);

      const merge = await b.ctl(['patch', 'ippool', 'c1', '-p', '{"spec":{"natOutgoing":true}}', '--type', 'merge']);
      assert.equal(merge.stdout, "Successfully patched 1 'IPPool' resource\n", merge.stderr);
      const strategic = await b.ctl(['patch', 'ippool', 'c1', '-p', 'spec:\n  disabled: false\n']);
      assert.equal(strategic.code, 0, strategic.stderr);
      const json = await b.ctl([
        'patch',
        'ippool',
        'c1',
        '--type',
        'json',
        '-p',
        '[{"op":"replace","path":"/spec/blockSize","value":28}]',
      ]);
      assert.equal(json.code, 1, 'blockSize cannot change on an existing pool');
      assert.match(json.stderr, /spec\.blockSize: an IP pool's block size cannot be modified/);
      const json2 = await b.ctl([
        'patch',
        'ippool',
        'c1',
        '--type',
        'json',
        '-p',
        '[{"op":"add","path":"/metadata/labels","value":{"a":"b"}}]',
      ]);
      assert.equal(json2.code, 0, json2.stderr);
      const got = await b.client.get('IPPool', 'c1');
      assert.equal(got.spec.natOutgoing, true);
      assert.equal(got.spec.disabled, false);
      assert.deepEqual(got.metadata.labels, { a: 'b' });
      const bad = await b.ctl(['patch', 'ippool', 'c1', '-p', '{"spec":{"ipipMode":"Sometimes"}}']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /spec\.ipipMode/);
    });

    test('ClusterInformation is read-only; get works; version and the mismatch guard', async () => {
      const del = await b.ctl(['delete', 'clusterinfo', 'default']);
      assert.equal(del.code, 1);
      assert.match(del.stderr, /operation delete is not supported on ClusterInformation/);
      const info = await b.ctl(['get', 'clusterinformations', '-o', 'wide']);
      assert.match(info.stdout, /^default {3,}[0-9a-f]{32} {3,}/m, 'created on first write, with a GUID');
      const ci = await b.client.get('ClusterInformation', 'default');
      await b.client.update({ ...ci, spec: { ...ci.spec, calicoVersion: 'v3.1.0', clusterType: 'k8s,bgp' } });
      const mismatch = await b.ctl(['get', 'ippools']);
      assert.equal(mismatch.code, 1);
      assert.match(
        mismatch.stderr,
        /^Version mismatch\.\nClient Version: +v3\.29\.0-calico-ts\nCluster Version: +3\.1\.0\nUse --allow-version-mismatch to override\.\n$/,
      );
      const allowed = await b.ctl(['get', 'ippools', '--allow-version-mismatch']);
      assert.equal(allowed.code, 0, allowed.stderr);
      const cfg = file(
        'calicoctl.cfg',
        b.name === 'sqlite'
          ? `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  datastoreType: sqlite\n  sqlitePath: ${b.env.SQLITE_PATH}\n`
          : `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: ${b.env.ETCD_ENDPOINTS}\n`,
      );
      // The config file alone (no datastore settings in the environment) reaches the same datastore.
      const version = await b.ctl(['version', '-c', cfg], undefined, {
        DATASTORE_TYPE: '',
        SQLITE_PATH: '',
        ETCD_ENDPOINTS: '',
      });
      assert.equal(version.code, 0, version.stderr);
      assert.match(
        version.stdout,
        /^Client Version: +v3\.29\.0-calico-ts\n.*\nCluster Version: +v3\.1\.0\nCluster Type: +k8s,bgp\n$/s,
      );
      const missingCfg = await b.ctl(['get', 'ippools', '-c', path.join(dir, 'absent.cfg')]);
      assert.equal(missingCfg.code, 1);
      assert.match(missingCfg.stderr, /absent\.cfg does not exist/);
      await b.client.update({ ...(await b.client.get('ClusterInformation', 'default')), spec: { ...ci.spec } });
    });

    test("delete node releases the node's IPAM affinities and tunnel address", async () => {
      await b.client.create({
        apiVersion: 'projectcalico.org/v3',
        kind: 'IPPool',
        metadata: { name: 'tunnels' },
        spec: { cidr: '10.77.0.0/16', blockSize: 26, vxlanMode: 'Always' },
      });
      for (const name of ['tl-n1', 'tl-n2']) {
        await b.client.create({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name }, spec: {} });
      }
      const ipam = new IpamClient(b.client.datastore);
      const tunnel = await ipam.ensureTunnelAddress('tl-n1');
      await ipam.ensureTunnelAddress('tl-n2');
      const store = new IpamStore(b.client.datastore);
      assert.equal((await store.listAffinities('tl-n1')).length, 1);
      const r = await b.ctl(['delete', 'node', 'tl-n1']);
      assert.equal(r.stdout, "Successfully deleted 1 'Node' resource(s)\n", r.stderr);
      assert.deepEqual(await store.listAffinities('tl-n1'), []);
      assert.equal(await ipam.getAllocation(tunnel), undefined, 'tunnel address released');
      assert.equal((await store.listAffinities('tl-n2')).length, 1, 'the other node keeps its block');
      assert.equal(await b.client.find('Node', 'tl-n1'), undefined);
    });

    test('Partial success: the datastore becomes unreachable mid-file', async () => {
      const N = 400;
      const docs = Array.from({ length: N }, (_, i) =>
        pool(`ps-${i}`, `10.${100 + Math.floor(i / 256)}.${i % 256}.0/24`),
      );
      const big = file('big.yaml', docs.join('---\n'));
      let frozen = false;
      let freezeError: unknown;
      let unfreeze = async (): Promise<void> => {};
      let seen = 0;
      // Freeze at the second pool written: calicoctl only sent it after the reply to the first, so at least one
      // resource is known applied (freezing at the first could catch its reply in flight).
      const watch = b.client.datastore.watch(resourcePrefix('IPPool'), 0, () => {
        if (frozen || ++seen < 2) return;
        frozen = true;
        try {
          if (b.etcd) {
            const pid = b.etcd.pid;
            process.kill(pid, 'SIGSTOP');
            unfreeze = async () => void process.kill(pid, 'SIGCONT');
          } else {
            // Waits for calicoctl's write in progress, then holds the write lock.
            const db = new Database(b.env.SQLITE_PATH, { timeout: 10_000 });
            db.exec('BEGIN EXCLUSIVE');
            unfreeze = async () => {
              db.exec('ROLLBACK');
              db.close();
            };
          }
        } catch (e) {
          freezeError = e;
        }
      });
      let r;
      try {
        r = await b.ctl(['apply', '-f', big], undefined, { CALICOCTL_TIMEOUT_MS: '1500' });
      } finally {
        watch.close();
        await unfreeze();
      }
      assert.ok(frozen, 'the datastore was made unreachable');
      assert.equal(freezeError, undefined);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const m = /^Partial success: applied the first (\d+) out of 400 'IPPool' resources:\n$/.exec(r.stdout);
      assert.ok(m, r.stdout);
      const applied = Number(m[1]);
      assert.ok(applied >= 1 && applied < N, `applied ${applied}`);
      assert.match(r.stderr, /^Hit error\(s\): \[.*(etcd|sqlite).*\]\n$/);
      const stored = (await b.client.list('IPPool')).items.filter((p) => p.metadata.name.startsWith('ps-')).length;
      // A write in flight when the datastore froze may have been committed without its reply arriving.
      assert.ok(stored === applied || stored === applied + 1, `stored ${stored}, reported ${applied}`);
    });
  });
}
