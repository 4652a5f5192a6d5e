// The calico-kube-controllers program as the lab and the manifests run it: dist/bin/calico-kube-controllers with a
// real etcd (ETCD_ENDPOINTS) and KUBECONFIG, etcd compaction, its exec probes (-r / -l), and SIGTERM releasing the
// leader Lease.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { CALICO_API_VERSION } from '../../../src/api/resource.js';
import { openDatastore, type Datastore } from '../../../src/datastore/index.js';
import { ResourceClient } from '../../../src/datastore/resources.js';
import { freePort, startEtcd, type TestEtcd } from '../../support/etcd.js';
import { eventually, startTestApiServer, type TestApiServer } from '../../support/k8s.js';

const program = path.resolve('dist/bin/calico-kube-controllers');

describe('calico-kube-controllers program (etcd datastore)', () => {
  let etcd: TestEtcd;
  let api: TestApiServer;
  let ds: Datastore;
  let child: ChildProcess | undefined;
  let healthPort: number;
  let env: Record<string, string>;

  before(async () => {
    assert.ok(existsSync(program), `${program} is missing: run "npm run build"`);
    etcd = await startEtcd();
    api = await startTestApiServer();
    ds = await openDatastore({ type: 'etcdv3', etcdEndpoints: [etcd.endpoint] } as any);
    // Metrics off (port 0), so the test never collides with another process's 9094.
    await new ResourceClient(ds).create({
      apiVersion: CALICO_API_VERSION,
      kind: 'KubeControllersConfiguration',
      metadata: { name: 'default' },
      spec: { prometheusMetricsPort: 0, etcdV3CompactionPeriod: '1s', controllers: { namespace: {}, policy: {} } },
    });
    healthPort = await freePort();
    env = {
      PATH: process.env.PATH ?? '',
      DATASTORE_TYPE: 'etcdv3',
      ETCD_ENDPOINTS: etcd.endpoint,
      KUBECONFIG: api.kubeconfigFile,
      HEALTH_PORT: String(healthPort),
      LOG_LEVEL: 'warning',
    };
  });
  after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await ds?.close();
    await api?.stop();
    await etcd?.stop();
  });

  test('keeps etcd in step, answers its probes, and releases the Lease on SIGTERM', async () => {
    child = spawn(process.execPath, [program], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const client = new ResourceClient(ds);
    await api.core().createNamespace({ body: { metadata: { name: 'tj-etcd' } } });
    await eventually(() => client.find('Profile', 'kns.tj-etcd'), 'kns.tj-etcd in etcd', 20_000);

    // The leader compacts etcd's history every etcdV3CompactionPeriod (1s here).
    await eventually(
      () =>
        new Promise<boolean>((resolve) => {
          const watch = ds.watch('/calico/resources/', 1, (e) => {
            void watch.close();
            resolve(e.type === 'resync-required'); // history from revision 1 is gone
          });
          setTimeout(() => resolve(false), 300);
        }),
      'etcd compacted',
      10_000,
    );

    const probe = (flag: string) =>
      spawnSync(process.execPath, [program, flag], { env, encoding: 'utf8', timeout: 15_000 });
    const ready = probe('-r');
    assert.equal(ready.status, 0, ready.stdout + ready.stderr);
    assert.match(ready.stdout, /^ready \(kube-controllers: leader: running namespace, policy\)/);
    assert.equal(probe('-l').status, 0);

    const exit = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exit, 0, stderr);
    const lease = await api
      .kubeConfig()
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace: 'kube-system', name: 'calico-kube-controllers' });
    assert.equal(lease.spec?.holderIdentity, '', 'released for the next replica');
    const down = probe('-l');
    assert.equal(down.status, 1);
    assert.match(down.stdout, /health endpoint 127\.0\.0\.1:\d+ unreachable/);
  });

  test('bad settings are refused with a message naming the setting', () => {
    const r = spawnSync(process.execPath, [program], {
      env: { ...env, ENABLED_CONTROLLERS: 'node,bogus' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ENABLED_CONTROLLERS: unknown controller "bogus"/);
  });
});
