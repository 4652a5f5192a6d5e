// calico-k8s-apiserver as the lab runs it: a separate process with --listen/--data-dir and the datastore from the
// environment. It writes ca.crt, the admin token and admin.kubeconfig; a restart keeps them (and issued
// service-account tokens) valid; on etcd, history compacted by etcd gives watchers 410 Expired.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { KubeConfig, CoreV1Api } from '@kubernetes/client-node';
import { openDatastore } from '../../../src/datastore/index.js';
import { startEtcd, freePort, type TestEtcd } from '../../support/etcd.js';
import { eventually } from '../../support/k8s.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

function startProgram(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/bin/calico-k8s-apiserver.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function stopProgram(p: ChildProcess): Promise<number | null> {
  if (p.exitCode !== null) return p.exitCode;
  const done = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
  const code = await done;
  clearTimeout(timer);
  return code;
}

function core(kubeconfigFile: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigFile);
  return kc.makeApiClient(CoreV1Api);
}

describe('calico-k8s-apiserver program', () => {
  const dirs: string[] = [];
  const procs: ChildProcess[] = [];
  let etcd: TestEtcd | undefined;
  after(async () => {
    for (const p of procs) await stopProgram(p);
    await etcd?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('SQLite: writes its credentials, serves kubectl-ready kubeconfig, keeps credentials across a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tk-apiprog-'));
    dirs.push(dir);
    const port = await freePort();
    const env = { DATASTORE_TYPE: 'sqlite', SQLITE_PATH: path.join(dir, 'calico.db') };
    const args = ['--listen', `127.0.0.1:${port}`, '--data-dir', path.join(dir, 'api')];
    let p = startProgram(args, env);
    procs.push(p);
    const kubeconfig = path.join(dir, 'api', 'admin.kubeconfig');
    await eventually(() => existsSync(kubeconfig), 'admin.kubeconfig written', 30_000);
    for (const f of ['ca.crt', 'admin.token', 'admin.kubeconfig']) assert.ok(existsSync(path.join(dir, 'api', f)), f);
    const token = readFileSync(path.join(dir, 'api', 'admin.token'), 'utf8').trim();
    assert.match(readFileSync(kubeconfig, 'utf8'), new RegExp(`server: https://127.0.0.1:${port}`));
    await core(kubeconfig).createNamespacedServiceAccount({
      namespace: 'default',
      body: { metadata: { name: 'cni' } },
    });
    const sa = await core(kubeconfig).createNamespacedServiceAccountToken({
      name: 'cni',
      namespace: 'default',
      body: { spec: { audiences: [] } },
    });
    assert.equal(await stopProgram(p), 0, 'SIGTERM stops it cleanly');

    p = startProgram(args, env);
    procs.push(p);
    await eventually(
      async () => {
        try {
          return (await core(kubeconfig).listNamespacedServiceAccount({ namespace: 'default' })).items.length > 0;
        } catch {
          return false;
        }
      },
      'restarted server answers',
      30_000,
    );
    assert.equal(readFileSync(path.join(dir, 'api', 'admin.token'), 'utf8').trim(), token, 'same admin token');
    const status = await new Promise<number>((resolve, reject) => {
      https
        .get(
          `https://127.0.0.1:${port}/api/v1/namespaces/default/serviceaccounts`,
          {
            ca: readFileSync(path.join(dir, 'api', 'ca.crt')),
            headers: { Authorization: `Bearer ${sa.status!.token}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
        .on('error', reject);
    });
    assert.equal(status, 200, 'a service-account token issued before the restart still works');
    assert.equal(await stopProgram(p), 0);
  });

  test('etcd: objects at /calico-ts/k8s/ in etcd; a watch from a version etcd compacted gets ERROR 410', async () => {
    etcd = await startEtcd();
    const dir = mkdtempSync(path.join(tmpdir(), 'tk-apiprog-'));
    dirs.push(dir);
    const port = await freePort();
    const p = startProgram(['--listen', `127.0.0.1:${port}`, '--data-dir', dir], {
      DATASTORE_TYPE: 'etcdv3',
      ETCD_ENDPOINTS: etcd.endpoint,
    });
    procs.push(p);
    const kubeconfig = path.join(dir, 'admin.kubeconfig');
    await eventually(() => existsSync(kubeconfig), 'admin.kubeconfig written', 30_000);
    const api = core(kubeconfig);
    const first = await api.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'a' }, spec: { containers: [{ name: 'c' }] } },
    });
    const ds = await openDatastore({ type: 'etcdv3', etcdEndpoints: [etcd.endpoint] });
    try {
      const kv = await ds.get('/calico-ts/k8s/core/pods/default/a');
      assert.equal(String(kv?.revision), first.metadata!.resourceVersion);
      for (const name of ['b', 'c'])
        await api.createNamespacedPod({
          namespace: 'default',
          body: { metadata: { name }, spec: { containers: [{ name: 'c' }] } },
        });
      // etcd keeps the compaction revision itself: watching from after `a` now needs history it dropped.
      await ds.compact(await ds.currentRevision());
    } finally {
      await ds.close();
    }
    const line = await new Promise<any>((resolve, reject) => {
      https
        .get(
          `https://127.0.0.1:${port}/api/v1/namespaces/default/pods?watch=1&resourceVersion=${first.metadata!.resourceVersion}`,
          {
            ca: readFileSync(path.join(dir, 'ca.crt')),
            headers: { Authorization: `Bearer ${readFileSync(path.join(dir, 'admin.token'), 'utf8').trim()}` },
          },
          (res) => {
            const timer = setTimeout(() => res.destroy(new Error('no 410 within 10 s')), 10_000);
            res.on('close', () => clearTimeout(timer));
            let buf = '';
            res.setEncoding('utf8');
            res.on('data', (d) => (buf += d));
            res.on('end', () => resolve(JSON.parse(buf.split('\n')[0]!)));
          },
        )
        .on('error', reject);
    });
    assert.equal(line.type, 'ERROR');
    assert.equal(line.object.code, 410);
    assert.equal(line.object.reason, 'Expired');
    assert.equal(await stopProgram(p), 0);
  });
});
