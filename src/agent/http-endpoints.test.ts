import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { AgentHttpEndpoints } from './http-endpoints.js';
import { AgentMetrics } from './metrics.js';

const healthy = () => ({ live: true, ready: true, reason: 'ok' });

test('health and metrics on one address share a server answering all three paths', async () => {
  const endpoints = new AgentHttpEndpoints(new AgentMetrics(), healthy, () => assert.fail('no error expected'));
  try {
    await endpoints.reconcile({ health: { host: '127.0.0.1', port: 0 }, metrics: { host: '127.0.0.1', port: 0 } });
    assert.ok(endpoints.healthAddress);
    assert.equal(endpoints.metricsAddress, endpoints.healthAddress);
    for (const p of ['/liveness', '/readiness', '/metrics'])
      assert.equal((await fetch(`http://${endpoints.healthAddress}${p}`)).status, 200, p);
  } finally {
    await endpoints.close();
  }
  assert.equal(endpoints.healthAddress, undefined);
});

test('a port already taken is reported once, not retried on every update, and retried after a change', async () => {
  const blocker: Server = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (blocker.address() as { port: number }).port;
  const errors: string[] = [];
  const endpoints = new AgentHttpEndpoints(new AgentMetrics(), healthy, (what) => errors.push(what));
  try {
    const want = { health: { host: '127.0.0.1', port } };
    await endpoints.reconcile(want);
    await endpoints.reconcile({ health: { host: '127.0.0.1', port } });
    assert.deepEqual(errors, [`health server on 127.0.0.1:${port}`]);
    assert.equal(endpoints.healthAddress, undefined);
    await endpoints.reconcile({ health: { host: '127.0.0.1', port: 0 } });
    assert.ok(endpoints.healthAddress, 'a new address is tried');
    assert.equal(errors.length, 1);
  } finally {
    await endpoints.close();
    await new Promise((r) => blocker.close(r));
  }
});
