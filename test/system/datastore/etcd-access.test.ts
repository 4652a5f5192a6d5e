// etcd v3 backend specifics against real etcd servers: failover across endpoints, TLS client certificates,
// username/password, and bounded failure (never a hang) when etcd is down, silent or refuses the client.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { openDatastore, UnreachableError, type Datastore, type WatchEvent } from '../../../src/datastore/index.js';
import { EtcdDatastore } from '../../../src/datastore/etcd.js';
import { EtcdJsonDatastore } from '../../../src/datastore/etcd-json.js';
import { startEtcd, freePort, type TestEtcd } from '../../support/etcd.js';

const started: TestEtcd[] = [];
after(async () => {
  for (const e of started) await e.stop();
});

async function etcd(opts: { tls?: boolean } = {}): Promise<TestEtcd> {
  const e = await startEtcd(opts);
  started.push(e);
  return e;
}

async function roundTrip(ds: Datastore, key: string): Promise<void> {
  const kv = await ds.create(key, 'v1');
  await ds.update(key, 'v2', kv.revision);
  assert.equal((await ds.get(key))?.value, 'v2');
}

/** Asserts the promise rejects with UnreachableError naming `names`, within `withinMs`. */
async function failsNaming(p: Promise<unknown>, names: string, withinMs: number): Promise<string> {
  const t0 = Date.now();
  let message = '';
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof UnreachableError, `${e.name}: ${e.message}`);
    assert.ok(e.message.includes(names), `"${e.message}" should name "${names}"`);
    message = e.message;
    return true;
  });
  assert.ok(Date.now() - t0 < withinMs, `took ${Date.now() - t0} ms, bound ${withinMs}`);
  return message;
}

// Both clients: gRPC (long-running components) and the JSON gateway (short-lived processes such as calico-ipam).
for (const etcdTransport of ['grpc', 'json'] as const) {
  describe(`etcd datastore access (${etcdTransport})`, () => {
    test('fails over to a live endpoint when the first one is dead', async () => {
      const live = await etcd();
      const dead = `http://127.0.0.1:${await freePort()}`;
      for (const endpoints of [
        [dead, live.endpoint],
        [live.endpoint, dead],
      ]) {
        const ds = await openDatastore(
          { type: 'etcdv3', etcdEndpoints: endpoints },
          { etcdTransport, timeoutMs: 3000 },
        );
        try {
          assert.equal(ds.description, `etcdv3 ${endpoints.join(',')}`);
          for (let i = 0; i < 5; i++) await roundTrip(ds, `/failover/${endpoints[0] === dead ? 'a' : 'b'}/${i}`);
        } finally {
          await ds.close();
        }
      }
    });

    test('TLS with a client certificate works; without the certificate the server refuses, within the timeout', async () => {
      const secure = await etcd({ tls: true });
      const ds = await openDatastore(
        {
          type: 'etcdv3',
          etcdEndpoints: [secure.endpoint],
          etcdCACertFile: secure.caFile!,
          etcdCertFile: secure.certFile!,
          etcdKeyFile: secure.keyFile!,
        },
        { etcdTransport, timeoutMs: 3000 },
      );
      try {
        await roundTrip(ds, '/tls/k');
      } finally {
        await ds.close();
      }
      await failsNaming(
        openDatastore(
          { type: 'etcdv3', etcdEndpoints: [secure.endpoint], etcdCACertFile: secure.caFile! },
          { etcdTransport, timeoutMs: 1500 },
        ),
        `etcdv3 ${secure.endpoint}`,
        4000,
      );
      await failsNaming(
        openDatastore(
          { type: 'etcdv3', etcdEndpoints: [secure.endpoint], etcdCACertFile: '/nonexistent/ca.pem' },
          { etcdTransport, timeoutMs: 1500 },
        ),
        '/nonexistent/ca.pem',
        1000,
      );
    });

    test('username and password: the right ones work, wrong ones fail with a clear error', async () => {
      const e = await etcd();
      const ctl = (...args: string[]): void => {
        execFileSync('etcdctl', ['--endpoints', e.endpoint, ...args], {
          env: { ...process.env, ETCDCTL_API: '3' },
          stdio: 'pipe',
        });
      };
      ctl('user', 'add', 'root:rootpw');
      ctl('user', 'add', 'calico:s3cret');
      ctl('role', 'add', 'calico-rw');
      ctl('role', 'grant-permission', 'calico-rw', '--prefix=true', 'readwrite', '/calico/');
      ctl('user', 'grant-role', 'calico', 'calico-rw');
      ctl('auth', 'enable');
      const ds = await openDatastore(
        { type: 'etcdv3', etcdEndpoints: [e.endpoint], etcdUsername: 'calico', etcdPassword: 's3cret' },
        { etcdTransport, timeoutMs: 3000 },
      );
      try {
        await roundTrip(ds, '/calico/auth/k');
      } finally {
        await ds.close();
      }
      const msg = await failsNaming(
        openDatastore(
          { type: 'etcdv3', etcdEndpoints: [e.endpoint], etcdUsername: 'calico', etcdPassword: 'wrong' },
          { etcdTransport, timeoutMs: 3000 },
        ),
        `etcdv3 ${e.endpoint}`,
        5000,
      );
      assert.match(msg, /authentication failed|invalid/i);
    });

    test('an open watch resumes after etcd restarts, missing nothing and repeating nothing', async () => {
      const e = await etcd();
      const ds = await openDatastore(
        { type: 'etcdv3', etcdEndpoints: [e.endpoint] },
        { etcdTransport, timeoutMs: 2000 },
      );
      try {
        const events: WatchEvent[] = [];
        const w = ds.watch('/restart/', (await ds.currentRevision()) + 1, (ev) => events.push(ev));
        for (let i = 0; i < 10; i++) await ds.put(`/restart/${i}`, String(i));
        while (events.length < 10) await new Promise((r) => setTimeout(r, 10));
        await e.restart(500);
        for (let i = 10; i < 20; i++) {
          for (let attempt = 0; ; attempt++) {
            try {
              await ds.put(`/restart/${i}`, String(i));
              break;
            } catch (err) {
              if (!(err instanceof UnreachableError) || attempt > 20) throw err;
              await new Promise((r) => setTimeout(r, 200));
            }
          }
        }
        const end = Date.now() + 20000;
        while (events.length < 20 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
        await new Promise((r) => setTimeout(r, 200));
        await w.close();
        assert.deepEqual(
          events.map((ev) => (ev.type === 'put' ? ev.value : ev.type)),
          Array.from({ length: 20 }, (_, i) => String(i)),
        );
      } finally {
        await ds.close();
      }
    });

    test('calls fail within the timeout once etcd is gone, and when an endpoint accepts but never answers', async () => {
      const e = await etcd();
      const ds = await openDatastore(
        { type: 'etcdv3', etcdEndpoints: [e.endpoint] },
        { etcdTransport, timeoutMs: 1000 },
      );
      try {
        await ds.put('/gone/k', 'v');
        await e.stop();
        await failsNaming(ds.get('/gone/k'), `etcdv3 ${e.endpoint}`, 3000);
        await failsNaming(ds.put('/gone/k', 'w'), `etcdv3 ${e.endpoint}`, 3000);
      } finally {
        await ds.close();
      }
      // A watch on an unreachable etcd reports an error within the timeout, and close() does not hang.
      const lost = new (etcdTransport === 'json' ? EtcdJsonDatastore : EtcdDatastore)(
        { endpoints: [e.endpoint] },
        { timeoutMs: 800 },
      );
      try {
        const events: WatchEvent[] = [];
        const t0 = Date.now();
        const w = lost.watch('/gone/', 0, (ev) => events.push(ev));
        while (events.length === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
        assert.equal(events[0]?.type, 'error');
        assert.match(
          (events[0] as { error: Error }).error.message,
          new RegExp(`etcdv3 ${e.endpoint}: watch not established`),
        );
        assert.ok(Date.now() - t0 < 3000, `error after ${Date.now() - t0} ms`);
        await w.close();
      } finally {
        await lost.close();
      }
      // A silent peer: TCP accepted, not one byte answered.
      const sockets: Socket[] = [];
      const silent: Server = createServer((s) => sockets.push(s));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
      const port = (silent.address() as { port: number }).port;
      try {
        await failsNaming(
          openDatastore(
            { type: 'etcdv3', etcdEndpoints: [`http://127.0.0.1:${port}`] },
            { etcdTransport, timeoutMs: 1000 },
          ),
          `etcdv3 http://127.0.0.1:${port}`,
          3000,
        );
      } finally {
        sockets.forEach((s) => s.destroy());
        silent.close();
      }
    });
  });
}
