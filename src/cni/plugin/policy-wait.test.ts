import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { endpointStatusFile, waitForPolicy } from './policy-wait.js';

test("the status file name is the agent's: <namespace>/<wep> URI-encoded", () => {
  assert.equal(endpointStatusFile('/d', 'default', 'node1-k8s-nginx-eth0'), '/d/default%2Fnode1-k8s-nginx-eth0');
});

test('waits until the agent reports the endpoint up; times out otherwise', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tc-status-'));
  try {
    const t0 = Date.now();
    assert.equal(await waitForPolicy(dir, 'ns', 'wep', 0.2), false);
    assert.ok(Date.now() - t0 >= 190);
    setTimeout(() => writeFileSync(endpointStatusFile(dir, 'ns', 'wep'), '{"status":"pending"}'), 20);
    setTimeout(() => writeFileSync(endpointStatusFile(dir, 'ns', 'wep'), '{"status":"up"}'), 120);
    const t1 = Date.now();
    assert.equal(await waitForPolicy(dir, 'ns', 'wep', 5), true);
    assert.ok(Date.now() - t1 >= 100, 'not before status up');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
