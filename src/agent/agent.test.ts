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

/** A loopback port nothing listens on right now. */
async function freeLoopbackPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const answers = async (address: string | undefined, urlPath: string): Promise<number | undefined> => {
  if (!address) return undefined;
  try {
    return (await fetch(`http://${address}${urlPath}`)).status;
  } catch {
    return undefined;
  }
};

test('health and metrics servers follow Felix configuration: FELIX_* env > node.<name> > default > off', async () => {
  const ds = new MemoryDatastore();
  const [p1, p2, p3] = [await freeLoopbackPort(), await freeLoopbackPort(), await freeLoopbackPort()];
  const felix = (name: string, spec: Record<string, unknown>) =>
    ds.put(
      resourceKey('FelixConfiguration', name),
      JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'FelixConfiguration', metadata: { name }, spec }),
    );
  const agent = await startAgent({
    nodeName: 'node1',
    datastore: ds,
    env: { FELIX_PROMETHEUSMETRICSHOST: '127.0.0.1' },
    logger: pino({ level: 'silent' }),
    nftRunner: new RecordingRunner(),
    endpointStatusDir: path.join(dir, 'servers'),
    batchDelayMs: 5,
    resyncIntervalMs: 3_600_000,
  });
  try {
    await agent.whenProgrammed();
    // Felix's defaults: neither server runs.
    assert.equal(agent.healthAddress, undefined);
    assert.equal(agent.metricsAddress, undefined);

    await felix('default', {
      healthEnabled: true,
      healthHost: '127.0.0.1',
      healthPort: p1,
      prometheusMetricsEnabled: true,
      prometheusMetricsPort: p2,
    });
    await waitFor('servers from FelixConfiguration default', () => agent.metricsAddress === `127.0.0.1:${p2}`);
    await waitFor('health server', () => agent.healthAddress === `127.0.0.1:${p1}`);
    assert.equal(await answers(agent.healthAddress, '/liveness'), 200);
    assert.equal(await answers(agent.metricsAddress, '/metrics'), 200);
    assert.equal(await answers(agent.healthAddress, '/metrics'), 404, 'the health server does not serve metrics');

    // The per-node object wins over default, field by field; the old port is let go.
    await felix('node.node1', { healthPort: p3 });
    await waitFor('health server moved to the node setting', () => agent.healthAddress === `127.0.0.1:${p3}`);
    assert.equal(await answers(`127.0.0.1:${p1}`, '/liveness'), undefined);
    assert.equal(agent.metricsAddress, `127.0.0.1:${p2}`);

    // Disabled again: the metrics server stops.
    await felix('default', { healthEnabled: true, healthHost: '127.0.0.1', prometheusMetricsEnabled: false });
    await waitFor('metrics server stopped', () => agent.metricsAddress === undefined);
    assert.equal(await answers(`127.0.0.1:${p2}`, '/metrics'), undefined);
    assert.equal(agent.healthAddress, `127.0.0.1:${p3}`);
  } finally {
    await agent.stop();
    await ds.close();
  }
});

test('FELIX_* environment beats every FelixConfiguration for the servers', async () => {
  const ds = new MemoryDatastore();
  const envPort = await freeLoopbackPort();
  await ds.put(
    resourceKey('FelixConfiguration', 'node.node1'),
    JSON.stringify({
      apiVersion: 'projectcalico.org/v3',
      kind: 'FelixConfiguration',
      metadata: { name: 'node.node1' },
      spec: { healthEnabled: false, healthPort: 1 },
    }),
  );
  const agent = await startAgent({
    nodeName: 'node1',
    datastore: ds,
    env: { FELIX_HEALTHENABLED: 'true', FELIX_HEALTHHOST: '127.0.0.1', FELIX_HEALTHPORT: String(envPort) },
    logger: pino({ level: 'silent' }),
    nftRunner: new RecordingRunner(),
    endpointStatusDir: path.join(dir, 'env-servers'),
    metrics: false,
    resyncIntervalMs: 3_600_000,
  });
  try {
    // Up before the datastore is read (liveness during start-up), and still there after it.
    assert.equal(agent.healthAddress, `127.0.0.1:${envPort}`);
    await agent.whenProgrammed();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(agent.healthAddress, `127.0.0.1:${envPort}`);
    assert.equal(await answers(agent.healthAddress, '/readiness'), 200);
  } finally {
    await agent.stop();
    await ds.close();
  }
});
