// The agent loop without a kernel: the in-memory datastore, and an NftRunner test double standing in for `nft`
// (it records each transaction and can refuse some). What is checked: updates are coalesced into few transactions,
// a refused transaction is retried until it lands, endpoint status files follow the programmed endpoints, and the
// health state reports what a probe should see. Kernel behaviour itself is covered by test/system/policy.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { startAgent, type Agent } from './agent.js';
import type { NftRunner } from './dataplane/nft-runner.js';
import { resourceKey } from '../datastore/keys.js';
import { MemoryDatastore } from '../datastore/memory.js';

class RecordingRunner implements NftRunner {
  scripts: string[] = [];
  refuseNext = 0;
  async apply(script: string): Promise<void> {
    if (this.refuseNext > 0) {
      this.refuseNext--;
      throw new Error('nft transaction failed (nothing applied): Error: Could not process rule');
    }
    this.scripts.push(script);
  }
  async listTable(): Promise<string | undefined> {
    return undefined;
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'tp-agent-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const wep = (i: number) => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'WorkloadEndpoint',
  metadata: { name: `node1-k8s-pod${i}-eth0`, namespace: 'default', labels: { app: 'web' } },
  spec: {
    node: 'node1',
    orchestrator: 'k8s',
    pod: `pod${i}`,
    endpoint: 'eth0',
    interfaceName: `cali${String(i).padStart(11, '0')}`,
    ipNetworks: [`10.0.0.${i + 1}/32`],
    profiles: ['kns.default'],
  },
});

async function waitFor(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function start(ds: MemoryDatastore, runner: RecordingRunner, statusDir: string): Promise<Agent> {
  return startAgent({
    nodeName: 'node1',
    datastore: ds,
    env: {},
    logger: pino({ level: 'silent' }),
    nftRunner: runner,
    endpointStatusDir: statusDir,
    health: false,
    metrics: false,
    batchDelayMs: 20,
    retryDelayMs: 10,
    resyncIntervalMs: 3_600_000,
  });
}

test('updates arriving together are coalesced into few transactions; status files follow the endpoints', async () => {
  const ds = new MemoryDatastore();
  const runner = new RecordingRunner();
  const statusDir = path.join(dir, 'coalesce');
  const agent = await start(ds, runner, statusDir);
  try {
    await agent.whenProgrammed();
    const before = runner.scripts.length;
    for (let i = 0; i < 30; i++)
      await ds.put(resourceKey('WorkloadEndpoint', `node1-k8s-pod${i}-eth0`, 'default'), JSON.stringify(wep(i)));
    const target = await ds.currentRevision();
    await waitFor('all endpoints programmed', () => agent.programmedRevision() >= target);
    assert.ok(runner.scripts.length - before < 10, `30 updates took ${runner.scripts.length - before} transactions`);
    const last = runner.scripts.slice(before).join('\n');
    for (let i = 0; i < 30; i++)
      assert.ok(last.includes(`"cali${String(i).padStart(11, '0')}"`), `endpoint ${i} programmed`);
    await waitFor('status files', () => existsSync(statusDir) && readdirSync(statusDir).length === 30);
    await ds.delete(resourceKey('WorkloadEndpoint', 'node1-k8s-pod0-eth0', 'default'));
    await waitFor('status file removed', () => readdirSync(statusDir).length === 29);
  } finally {
    await agent.stop();
    await ds.close();
  }
});

test('a refused transaction is retried until it lands; health reflects it', async () => {
  const ds = new MemoryDatastore();
  const runner = new RecordingRunner();
  runner.refuseNext = 3;
  const agent = await start(ds, runner, path.join(dir, 'retry'));
  try {
    await waitFor('not ready while nft refuses', () => /dataplane apply failed/.test(agent.health().reason));
    assert.equal(agent.health().ready, false);
    await agent.whenProgrammed();
    assert.equal(agent.health().ready, true);
    assert.equal(agent.health().live, true);
    const failures = (await agent.metrics.dataplaneFailures.get()).values[0]?.value;
    assert.equal(failures, 3);
    assert.match(runner.scripts[0]!, /^add table inet calico\n/);
  } finally {
    await agent.stop();
    await ds.close();
  }
});
