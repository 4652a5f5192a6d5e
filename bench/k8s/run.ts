// API server figures, per datastore backend (memory, SQLite): pod creates per second (1 and 8 concurrent clients
// through @kubernetes/client-node), listing 1,000 pods at once and in pages of 100, and watch latency (create ->
// ADDED line seen by a watcher), p50/p99. Printed, never asserted. Run: node --import tsx bench/k8s/run.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { Watch } from '@kubernetes/client-node';
import { MemoryDatastore, openDatastore, type Datastore } from '../../src/datastore/index.js';
import { startTestApiServer } from '../../test/support/k8s.js';

const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const pod = (name: string) => ({
  metadata: { name, labels: { app: 'bench' } },
  spec: { containers: [{ name: 'c', image: 'busybox' }] },
});

async function run(label: string, datastore: Datastore): Promise<void> {
  const t = await startTestApiServer({ datastore });
  try {
    const core = t.core();
    await core.createNamespace({ body: { metadata: { name: 'bench' } } });
    let t0 = performance.now();
    for (let i = 0; i < 300; i++) await core.createNamespacedPod({ namespace: 'bench', body: pod(`seq-${i}`) });
    const seq = 300 / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        const c = t.core();
        for (let i = 0; i < 88; i++) await c.createNamespacedPod({ namespace: 'bench', body: pod(`par-${w}-${i}`) });
      }),
    );
    const par = 704 / ((performance.now() - t0) / 1000);
    // The server alone: one keep-alive HTTPS connection (client-node opens a TLS connection per request).
    const agent = new https.Agent({ keepAlive: true, ca: t.server.caCert });
    const post = (name: string) =>
      new Promise<void>((resolve, reject) => {
        const req = https.request(
          `${t.server.url}/api/v1/namespaces/bench/pods`,
          {
            method: 'POST',
            agent,
            headers: { Authorization: `Bearer ${t.server.adminToken}`, 'Content-Type': 'application/json' },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve());
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify(pod(name)));
      });
    t0 = performance.now();
    for (let i = 0; i < 300; i++) await post(`raw-${i}`);
    const raw = 300 / ((performance.now() - t0) / 1000);
    agent.destroy();
    t0 = performance.now();
    const all = await core.listNamespacedPod({ namespace: 'bench' });
    const listMs = performance.now() - t0;
    t0 = performance.now();
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespacedPod({ namespace: 'bench', limit: 100, _continue: cont });
      cont = page.metadata?._continue;
      pages++;
    } while (cont);
    const pagedMs = performance.now() - t0;

    const seen = new Map<string, number>();
    const started = new Map<string, number>();
    const watch = new Watch(t.kubeConfig());
    const ctrl = await watch.watch(
      '/api/v1/namespaces/bench/pods',
      { resourceVersion: all.metadata!.resourceVersion },
      (type, obj) => {
        if (type === 'ADDED') seen.set(obj.metadata.name, performance.now());
      },
      () => undefined,
    );
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 100; i++) {
      started.set(`w-${i}`, performance.now());
      await core.createNamespacedPod({ namespace: 'bench', body: pod(`w-${i}`) });
    }
    const deadline = Date.now() + 10_000;
    while (seen.size < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    ctrl.abort();
    const lat = [...started].filter(([n]) => seen.has(n)).map(([n, s]) => seen.get(n)! - s);
    console.log(
      `${label.padEnd(7)} creates/s: ${seq.toFixed(0)} (1 client), ${par.toFixed(0)} (8 clients), ${raw.toFixed(0)} (keep-alive HTTPS) | list ${all.items.length} pods: ${listMs.toFixed(1)} ms, ${pages} pages of 100: ${pagedMs.toFixed(1)} ms | watch latency p50 ${pct(lat, 50).toFixed(1)} ms p99 ${pct(lat, 99).toFixed(1)} ms (${lat.length}/100 seen)`,
    );
  } finally {
    await t.stop();
  }
}

await run('memory', new MemoryDatastore());
const dir = mkdtempSync(path.join(tmpdir(), 'tk-bench-'));
const sqlite = await openDatastore({ type: 'sqlite', sqlitePath: path.join(dir, 'calico.db') });
try {
  await run('sqlite', sqlite);
} finally {
  await sqlite.close();
  rmSync(dir, { recursive: true, force: true });
}
