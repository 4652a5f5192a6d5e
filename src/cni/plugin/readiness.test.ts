import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { waitForReadinessGates } from './readiness.js';

let server: Server;
let base = '';
let readyAfter = 0;

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/ok') res.writeHead(204).end();
    else if (req.url === '/later') res.writeHead(Date.now() >= readyAfter ? 200 : 503).end();
    else res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => server.close());

test('every gate must answer 2xx/3xx; a gate that becomes ready is waited for', async () => {
  readyAfter = Date.now() + 150;
  const t0 = Date.now();
  await waitForReadinessGates([`${base}/ok`, `${base}/later`], { intervalMs: 50, timeoutMs: 2000 });
  assert.ok(Date.now() - t0 >= 140);
});

test('a gate that never gets ready fails with code 11 naming it', async () => {
  await assert.rejects(waitForReadinessGates([`${base}/broken`], { intervalMs: 50, timeoutMs: 200 }), (err: any) => {
    assert.equal(err.code, 11);
    assert.match(err.message, /readiness gate http:\/\/127\.0\.0\.1:\d+\/broken not ready: HTTP 500/);
    return true;
  });
});
