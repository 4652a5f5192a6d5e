import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requestProbes, runPodAgent } from './pod-agent.js';

test('the pod agent serves its ports and probes TCP and UDP targets (loopback only)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cl-agent-'));
  const controlSocket = path.join(dir, 'agent.sock');
  const port = 20000 + Math.floor(Math.random() * 20000);
  try {
    const agent = await runPodAgent({
      controlSocket,
      ports: [
        { port, protocol: 'TCP' },
        { port, protocol: 'UDP' },
      ],
    });
    const results = await requestProbes(controlSocket, {
      timeoutMs: 300,
      targets: [
        { ip: '127.0.0.1', port, protocol: 'TCP' },
        { ip: '127.0.0.1', port, protocol: 'UDP' },
        { ip: '127.0.0.1', port: port + 1, protocol: 'TCP' },
        { ip: '127.0.0.1', port: port + 1, protocol: 'UDP' },
      ],
    });
    agent.close();
    assert.deepEqual(results, [true, true, false, false]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
