// The agent under failure: a restart during a running TCP stream (the table is adopted, not flushed), drift made by
// someone else repaired and counted, and an etcd outage (rules stay; after etcd restarts the agent catches up).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { openDatastore } from '../../../src/datastore/index.js';
import type { Datastore } from '../../../src/datastore/types.js';
import { startEtcd, type TestEtcd } from '../../support/etcd.js';
import { PolicyWorld, nsExec, type Pod } from './world.js';

/** Rule handles of the whole table: unchanged handles mean nothing was rewritten. */
function ruleHandles(w: PolicyWorld): string {
  const json = JSON.parse(nsExec(w.node, 'nft', '-j', '-a', 'list', 'table', 'inet', 'calico')) as {
    nftables: { rule?: { chain: string; handle: number } }[];
  };
  return json.nftables
    .filter((i) => i.rule)
    .map((i) => `${i.rule!.chain}#${i.rule!.handle}`)
    .join(',');
}

/** An echo stream a -> b:port: write a line, expect it back. */
class EchoStream {
  private readonly proc: ChildProcess;
  private readonly lines: string[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  constructor(from: Pod, ip: string, port: number) {
    this.proc = spawn('ip', ['netns', 'exec', from.netns, 'socat', '-', `TCP:${ip}:${port}`], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      this.lines.push(l);
      this.waiters.splice(0).forEach((f) => f());
    });
    this.proc.on('exit', () => {
      this.closed = true;
      this.waiters.splice(0).forEach((f) => f());
    });
  }
  get child(): ChildProcess {
    return this.proc;
  }
  async roundTrip(text: string, timeoutMs = 2000): Promise<boolean> {
    this.proc.stdin!.write(text + '\n');
    const deadline = Date.now() + timeoutMs;
    while (!this.lines.includes(text)) {
      if (this.closed || Date.now() > deadline) return false;
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
    return true;
  }
  end(): void {
    this.proc.stdin!.end();
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
  }
}

const bSel = "app == 'b'";

describe('agent restart and drift', () => {
  const w = new PolicyWorld('rst');
  let a: Pod, b: Pod, c: Pod;
  before(async () => {
    w.setup();
    await w.putNamespaceProfile('default');
    a = await w.addPod('pod-a', '10.66.0.2', { app: 'a' });
    b = await w.addPod('pod-b', '10.66.0.3', { app: 'b' });
    c = await w.addPod('pod-c', '10.66.0.4', { app: 'c' });
    await w.put({
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-a', namespace: 'default' },
      spec: { selector: bSel, types: ['Ingress'], ingress: [{ action: 'Allow', source: { selector: "app == 'a'" } }] },
    });
    await w.startAgent();
    w.serve(b, 80);
    const echo = spawn('ip', ['netns', 'exec', b.netns, 'socat', 'TCP-LISTEN:5000,reuseaddr,fork', 'EXEC:cat'], {
      stdio: 'ignore',
    });
    w.track(echo);
    await new Promise((r) => setTimeout(r, 200));
    w.canConnect(a, b.ip, 80); // warm-up
  });
  after(() => w.teardown());

  test('a restart during a running TCP stream loses no connection and rewrites nothing', async () => {
    const stream = new EchoStream(a, b.ip, 5000);
    w.track(stream.child);
    try {
      assert.equal(await stream.roundTrip('before'), true);
      const handles = ruleHandles(w);
      // Keep the stream busy while the agent goes away and comes back.
      let sent = 0;
      let lost = 0;
      let running = true;
      const pump = (async () => {
        while (running) {
          if (!(await stream.roundTrip(`line-${sent++}`))) lost++;
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await w.agent!.stop();
      assert.equal(w.canConnect(c, b.ip, 80), false, 'while the agent is down the rules stay');
      await w.startAgent();
      running = false;
      await pump;
      assert.equal(lost, 0, `${lost} of ${sent} round trips lost`);
      assert.equal(await stream.roundTrip('after'), true, 'stream still open after the restart');
      assert.equal(ruleHandles(w), handles, 'the new agent adopted the table without rewriting any rule');
      assert.equal(w.canConnect(c, b.ip, 80), false);
      assert.equal(w.canConnect(a, b.ip, 80), true);
    } finally {
      stream.end();
    }
  });

  test('drift made by someone else is repaired by the resync and counted', async () => {
    const agent = w.agent!;
    const driftBefore = (await agent.metrics.drift.get()).values[0]?.value ?? 0;
    // 1. someone flushes pod-b's ingress chain (this would open a hole: no end-of-tier drop)
    const twMap = JSON.parse(
      nsExec(w.node, 'nft', '-j', 'list', 'map', 'inet', 'calico', 'filter-cali-to-wl-dispatch-map'),
    ).nftables.find((i: any) => i.map).map.elem as [string, { goto: { target: string } }][];
    const bChain = twMap.find(([k]) => k === b.hostIf)![1].goto.target;
    nsExec(w.node, 'nft', 'flush', 'chain', 'inet', 'calico', bChain);
    // 2. someone adds an address to a selector set and deletes pod-a's ingress dispatch entry
    const set = JSON.parse(nsExec(w.node, 'nft', '-j', 'list', 'sets', 'table', 'inet', 'calico')).nftables.find(
      (i: any) => i.set?.name?.startsWith('cali40s_'),
    ).set.name as string;
    nsExec(w.node, 'nft', 'add', 'element', 'inet', 'calico', set, '{ 10.66.0.4 }');
    nsExec(w.node, 'nft', 'delete', 'element', 'inet', 'calico', 'filter-cali-to-wl-dispatch-map', `{ "${a.hostIf}" }`);
    assert.equal(w.canConnect(c, b.ip, 80), true, 'the drift really opened a hole');
    const res = await agent.resyncNow();
    assert.equal(res.driftedObjects, 3, 'chain, set and map repaired');
    const driftAfter = (await agent.metrics.drift.get()).values[0]?.value ?? 0;
    assert.equal(driftAfter - driftBefore, 3);
    assert.equal(w.canConnect(c, b.ip, 80), false, 'hole closed again');
    assert.equal(w.canConnect(a, b.ip, 80), true);
    const again = await agent.resyncNow();
    assert.equal(again.driftedObjects, 0, 'a second resync finds nothing');
  });

  test('a rule altered in place keeping its comment is detected by its fingerprint', async () => {
    const json = JSON.parse(
      nsExec(w.node, 'nft', '-j', '-a', 'list', 'chain', 'inet', 'calico', 'filter-cali-pi-np/default/default/allow-a'),
    );
    const rule = json.nftables.find((i: any) => i.rule).rule;
    nsExec(
      w.node,
      'nft',
      'replace',
      'rule',
      'inet',
      'calico',
      'filter-cali-pi-np/default/default/allow-a',
      'handle',
      String(rule.handle),
      'counter',
      'meta',
      'mark',
      'set',
      'meta',
      'mark',
      '|',
      '0x10000',
      'return',
      'comment',
      `"${rule.comment}"`,
    );
    assert.equal(w.canConnect(c, b.ip, 80), true, 'the altered rule allows everyone');
    const res = await w.agent!.resyncNow();
    assert.equal(res.alteredRules, 1);
    assert.equal(w.canConnect(c, b.ip, 80), false);
  });

  test('health and metrics endpoints answer', async () => {
    const agent = w.agent!;
    const ready = await fetch(`http://${agent.healthAddress}/readiness`);
    assert.equal(ready.status, 200);
    const metrics = await (await fetch(`http://${agent.metricsAddress}/metrics`)).text();
    assert.match(metrics, /felix_int_dataplane_apply_time_seconds_count [1-9]/);
    assert.match(metrics, /felix_active_local_endpoints 3/);
    assert.match(metrics, /felix_nftables_drift_repaired_total [1-9]/);
  });
});

describe('etcd outage', () => {
  let etcd: TestEtcd;
  let ds: Datastore;
  const w = new PolicyWorld('etc');
  let a: Pod, b: Pod;
  let restarted: ChildProcess | undefined;

  before(async () => {
    etcd = await startEtcd();
    ds = await openDatastore({ type: 'etcdv3', etcdEndpoints: [etcd.endpoint] } as never, { timeoutMs: 1000 });
    w.ds = ds;
    w.setup();
    await w.putNamespaceProfile('default');
    a = await w.addPod('pod-a', '10.67.0.2', { app: 'a' });
    b = await w.addPod('pod-b', '10.67.0.3', { app: 'b' });
    await w.put({
      kind: 'NetworkPolicy',
      metadata: { name: 'deny-b', namespace: 'default' },
      spec: { selector: bSel, types: ['Ingress'] },
    });
    await w.startAgent();
    w.serve(b, 80);
  });
  after(async () => {
    await w.teardown();
    await ds?.close().catch(() => {});
    if (restarted?.exitCode === null) restarted.kill('SIGKILL');
    await etcd?.stop();
  });

  test('with etcd stopped the rules stay; after etcd restarts the agent catches up', async () => {
    assert.equal(w.canConnect(a, b.ip, 80), false);
    const handles = ruleHandles(w);
    process.kill(etcd.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(w.agent!.health().ready, false, 'not ready while the datastore is unreachable');
    assert.match(w.agent!.health().reason, /datastore/);
    assert.equal(ruleHandles(w), handles, 'the programmed table is kept');
    assert.equal(w.canConnect(a, b.ip, 80), false, 'and still enforced');

    // Restart etcd on the same data directory and client URL.
    const port = new URL(etcd.endpoint).port;
    const peer = `http://127.0.0.1:${Number(port) + 1 > 65535 ? Number(port) - 1 : Number(port) + 1}`;
    restarted = spawn(
      'etcd',
      [
        '--name',
        'td',
        '--data-dir',
        path.join(etcd.dir, 'data'),
        '--listen-client-urls',
        etcd.endpoint,
        '--advertise-client-urls',
        etcd.endpoint,
        '--listen-peer-urls',
        peer,
        '--initial-advertise-peer-urls',
        peer,
        '--initial-cluster',
        `td=${peer}`,
        '--log-level',
        'error',
      ],
      { stdio: 'ignore' },
    );
    // Writes made once etcd is back (the policy is removed) must reach the kernel.
    const deadline = Date.now() + 20000;
    for (;;) {
      try {
        await ds.delete(
          (await import('../../../src/datastore/keys.js')).resourceKey('NetworkPolicy', 'deny-b', 'default'),
        );
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await w.settle(15000);
    assert.equal(w.canConnect(a, b.ip, 80), true, 'the deletion made after the outage is programmed');
    assert.equal(w.agent!.health().ready, true);
  });
});
