// The IPAM stress scenario, run through the real executables (dist/bin/calico-ipam per CNI request, dist/bin/calicoctl
// for `ipam check`): 8 concurrent workers on 3 node names allocate from two pools, release half, allocate again; then
// every address must have exactly one holder, every release must have freed exactly its addresses, and `ipam check`
// must find exactly the allocations left without a WorkloadEndpoint. Each worker has its own host lock file, so
// correctness rests on the datastore's compare-and-swap alone. No network namespaces are needed: IPAM touches none.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import type { Datastore } from '../../../src/datastore/types.js';
import { resourceKey } from '../../../src/datastore/keys.js';
import { IpamClient } from '../../../src/ipam/client.js';
import { checkIpamInvariants, putNode, putPool } from '../../support/ipam.js';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
export const IPAM_BIN = path.join(ROOT, 'dist/bin/calico-ipam');
export const CTL_BIN = path.join(ROOT, 'dist/bin/calicoctl');
export const NETWORK = 'k8s-pod-network';
const NODES = ['ti-node-1', 'ti-node-2', 'ti-node-3'];
const WORKERS = 8;

export function requireBuild(): void {
  if (!existsSync(IPAM_BIN) || !existsSync(CTL_BIN)) {
    throw new Error(`build the programs first (npm run build): ${IPAM_BIN} or ${CTL_BIN} is missing`);
  }
}

/**
 * Block size for the strict-affinity round: a node's 2 blocks (maxBlocksPerHost) hold at most three quarters of the
 * third of the requests that node gets, so every node reaches its limit and the rest of its requests fail with it.
 */
export function strictBlockSize(adds: number): number {
  const perBlock = (0.75 * Math.floor(adds / 3)) / 2;
  return Math.min(30, Math.max(20, 32 - Math.floor(Math.log2(perBlock))));
}

/** The netconf fields that point the plugin at the datastore under test. */
export type DatastoreConf = Record<string, string>;

interface CniOutcome {
  cid: string;
  ip?: string;
  error?: string;
}

function runCni(
  command: 'ADD' | 'DEL',
  cid: string,
  node: string,
  conf: Record<string, unknown>,
): Promise<{ stdout: string; code: number }> {
  return new Promise((resolve) => {
    const child = execFile(
      IPAM_BIN,
      [],
      {
        env: {
          PATH: process.env.PATH,
          CNI_COMMAND: command,
          CNI_CONTAINERID: cid,
          CNI_NETNS: '/var/run/netns/ti-unused',
          CNI_IFNAME: 'eth0',
          CNI_PATH: '/usr/lib/cni',
          CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=stress;K8S_POD_NAME=pod-${cid};K8S_POD_INFRA_CONTAINER_ID=${cid}`,
        },
        timeout: 120_000,
      },
      (err, stdout) => resolve({ stdout, code: err ? ((err as { code?: number }).code ?? 1) : 0 }),
    );
    child.stdin!.end(JSON.stringify({ ...conf, nodename: node }));
  });
}

/** Runs the requests on 8 workers at once; worker w acts for node w % 3 with its own lock file. */
async function runWorkers(
  command: 'ADD' | 'DEL',
  cids: string[],
  nodeOf: (cid: string) => string,
  conf: (worker: number) => Record<string, unknown>,
): Promise<CniOutcome[]> {
  const out: CniOutcome[] = [];
  let next = 0;
  const worker = async (w: number) => {
    while (next < cids.length) {
      const cid = cids[next++];
      let r = await runCni(command, cid, nodeOf(cid), conf(w));
      // The shared dist/ may be mid-rebuild by another build: a program that is missing or dies before writing
      // anything never reached IPAM, so it is safe to run again.
      for (let i = 0; i < 10 && r.stdout.trim() === '' && (r.code as unknown) !== 0; i++) {
        await new Promise((res) => setTimeout(res, 1000));
        r = await runCni(command, cid, nodeOf(cid), conf(w));
      }
      if (command === 'DEL') {
        out.push(r.code === 0 ? { cid } : { cid, error: r.stdout || `exit ${r.code}` });
        continue;
      }
      try {
        const json = JSON.parse(r.stdout);
        if (r.code === 0 && json.ips?.length === 1) out.push({ cid, ip: String(json.ips[0].address) });
        else out.push({ cid, error: String(json.msg ?? r.stdout) });
      } catch {
        out.push({ cid, error: `unparseable output (exit ${r.code}): ${r.stdout}` });
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  return out;
}

export interface StressOptions {
  ds: Datastore;
  dsConf: DatastoreConf;
  /** calicoctl.cfg `spec` lines reaching the same datastore, e.g. `datastoreType: sqlite`. */
  ctlSpec: Record<string, string>;
  adds: number;
  blockSize: number;
  strictLimit?: number;
  /** Allocations expected to succeed in the first round (undefined = all). */
  expectSuccess?: number;
}

export interface StressReport {
  firstRound: number;
  failures: string[];
  leaks: number;
  seconds: number;
}

export async function runStress(o: StressOptions): Promise<StressReport> {
  const started = Date.now();
  const tmp = mkdtempSync(path.join(tmpdir(), 'ti-stress-'));
  try {
    for (const n of NODES) await putNode(o.ds, n);
    // Two pools just big enough for the round: the end of the run finds no unclaimed block and must borrow.
    // With a block limit, room for every node's blocks (8 per pool) so the limit, not the pool, is what runs out.
    const prefix = Math.min(32 - Math.ceil(Math.log2(Math.max(2, o.adds / 2))), o.blockSize - (o.strictLimit ? 3 : 0));
    await putPool(o.ds, 'ti-pool-a', `10.210.0.0/${prefix}`, { blockSize: o.blockSize });
    await putPool(o.ds, 'ti-pool-b', `10.211.0.0/${prefix}`, { blockSize: o.blockSize });
    const ipam = new IpamClient(o.ds);
    if (o.strictLimit) await ipam.setConfig({ strictAffinity: true, maxBlocksPerHost: o.strictLimit });
    const conf = (w: number) => ({
      cniVersion: '1.0.0',
      name: NETWORK,
      type: 'calico',
      ...o.dsConf,
      ipam: { type: 'calico-ipam', ipam_lock_file: path.join(tmp, `lock-${w}`) },
    });
    const nodeOf = (cid: string) => NODES[Number(cid.split('-')[1]) % NODES.length];

    // Round 1: allocate.
    const first = Array.from({ length: o.adds }, (_, i) => `c1-${i}`);
    const r1 = await runWorkers('ADD', first, nodeOf, conf);
    const ok1 = r1.filter((r) => r.ip);
    const failures = r1.filter((r) => r.error).map((r) => r.error!);
    if (o.expectSuccess === undefined) assert.deepEqual(failures.slice(0, 3), [], 'every allocation succeeds');
    else assert.equal(ok1.length, o.expectSuccess, `successful allocations (first errors: ${failures.slice(0, 2)})`);
    await assertHolders(o.ds, new Map(ok1.map((r) => [r.cid, r.ip!])), o.blockSize);

    // Release half (every other successful container), through DEL.
    const released = ok1.filter((_, i) => i % 2 === 0);
    const kept = ok1.filter((_, i) => i % 2 === 1);
    const d = await runWorkers(
      'DEL',
      released.map((r) => r.cid),
      nodeOf,
      conf,
    );
    assert.deepEqual(d.filter((r) => r.error).slice(0, 3), [], 'every DEL succeeds');
    const afterRelease = new Map(kept.map((r) => [r.cid, r.ip!]));
    await assertHolders(o.ds, afterRelease, o.blockSize);

    // DEL is idempotent.
    const again = await runWorkers(
      'DEL',
      released.slice(0, 8).map((r) => r.cid),
      nodeOf,
      conf,
    );
    assert.deepEqual(
      again.filter((r) => r.error),
      [],
    );

    // Round 2: allocate again.
    const second = Array.from({ length: released.length + (o.adds - ok1.length) }, (_, i) => `c2-${i}`);
    const r2 = await runWorkers('ADD', second, nodeOf, conf);
    const ok2 = r2.filter((r) => r.ip);
    failures.push(...r2.filter((r) => r.error).map((r) => r.error!));
    const live = new Map([...afterRelease, ...ok2.map((r) => [r.cid, r.ip!] as [string, string])]);
    await assertHolders(o.ds, live, o.blockSize);

    // Workload endpoints for all but a few allocations: exactly those few are leaks for `ipam check`.
    const entries = [...live.entries()];
    const leakCount = Math.min(17, entries.length);
    const leaked = new Set(entries.slice(0, leakCount).map(([, ip]) => ip.split('/')[0]));
    for (const [cid, ip] of entries.slice(leakCount)) {
      const name = `${nodeOf(cid)}-k8s-pod--${cid}-eth0`;
      await o.ds.put(
        resourceKey('WorkloadEndpoint', name, 'stress'),
        JSON.stringify({
          apiVersion: 'projectcalico.org/v3',
          kind: 'WorkloadEndpoint',
          metadata: { name, namespace: 'stress' },
          spec: { node: nodeOf(cid), pod: `pod-${cid}`, containerID: cid, ipNetworks: [`${ip.split('/')[0]}/32`] },
        }),
      );
    }
    const reportFile = path.join(tmp, 'report.json');
    const ctlConfig = path.join(tmp, 'calicoctl.cfg');
    writeFileSync(
      ctlConfig,
      `apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n${Object.entries(o.ctlSpec)
        .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}\n`)
        .join('')}`,
    );
    const check = await new Promise<{ stdout: string; code: number }>((resolve) =>
      execFile(
        CTL_BIN,
        ['ipam', 'check', '-c', ctlConfig, '-o', reportFile],
        { env: { PATH: process.env.PATH }, timeout: 60_000, maxBuffer: 16 << 20 },
        (err, stdout) => resolve({ stdout, code: err ? 1 : 0 }),
      ),
    );
    assert.equal(check.code, 0, check.stdout);
    assert.match(check.stdout, new RegExp(`Check complete; found ${leakCount} problems\\.\\n$`));
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    const reportedLeaks = Object.entries(report.allocations as Record<string, { inUse: boolean }[]>)
      .filter(([, list]) => list.some((a) => !a.inUse))
      .map(([ip]) => ip);
    assert.deepEqual(new Set(reportedLeaks), leaked);
    return { firstRound: ok1.length, failures, leaks: leakCount, seconds: (Date.now() - started) / 1000 };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The datastore holds exactly `expected` (container -> ip/prefix): one holder per address, the right handle. */
async function assertHolders(ds: Datastore, expected: Map<string, string>, blockSize: number): Promise<void> {
  const { owners, violations } = await checkIpamInvariants(ds);
  assert.deepEqual(violations, []);
  const ips = [...expected.values()];
  assert.equal(new Set(ips).size, ips.length, 'no address was handed out twice');
  for (const ip of ips) assert.ok(ip.endsWith(`/${blockSize}`), `${ip} carries the block prefix`);
  const want = new Map([...expected].map(([cid, ip]) => [ip.split('/')[0], `${NETWORK}.${cid}`]));
  assert.equal(owners.size, want.size, 'allocations in the datastore = live containers');
  for (const [ip, handle] of want) assert.equal(owners.get(ip), handle, `${ip} is held by ${handle}`);
}
