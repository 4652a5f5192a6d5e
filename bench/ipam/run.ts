// IPAM speed, per backend (SQLite file, real etcd): the raw compare-and-swap rate of the backend, allocations/s of
// one in-process IpamClient, and of 8 concurrent processes (3 node names), all in the same run; then Debian's
// host-local and our calico-ipam driven as CNI executables (process start-up dominates both). SQLite is measured
// with its default synchronous=NORMAL (a commit survives any process crash; see src/datastore/sqlite.ts) and with
// FULL (one fsync per commit, as durable as an etcd commit), which shows what the disk flush costs. etcd is measured
// through etcd3's gRPC client (long-running components) and through etcd's JSON gateway (what the calico-ipam
// executable uses: less client CPU, more server CPU). The load averages at the start and end are printed: on a shared
// machine they say how comparable two runs are.
// Run: node --import tsx bench/ipam/run.ts   (needs `npm run build` for the CNI part; IPAM_BENCH_N scales it,
// IPAM_BENCH_WARM_UP=0 measures the worker processes cold)
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { openDatastore } from '../../src/datastore/index.js';
import type { OpenOptions } from '../../src/datastore/open.js';
import type { DatastoreSettings } from '../../src/datastore/settings.js';
import type { Datastore } from '../../src/datastore/types.js';
import { IpamClient } from '../../src/ipam/client.js';
import { putNode, putPool } from '../../test/support/ipam.js';
import { startEtcd } from '../../test/support/etcd.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const N = Number(process.env.IPAM_BENCH_N ?? 1000);
const NODES = ['bench-1', 'bench-2', 'bench-3'];
// Each measurement allocates for its own node names: one node may hold at most 20 blocks (Calico's default limit),
// which N allocations per measurement would otherwise exceed.
const nodesOf = (phase: string): string[] => NODES.map((n) => `${phase}-${n}`);
const PHASES = ['one', 'eight', 'locked', 'warm'];
// Allocations (each released again) every bench worker makes for a 'warm-' node before the measured run.
const WARM_UP = Number(process.env.IPAM_BENCH_WARM_UP ?? 200);
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function seed(ds: Datastore): Promise<void> {
  for (const n of [...NODES, ...PHASES.flatMap(nodesOf)]) await putNode(ds, n);
  await putPool(ds, 'bench', '10.128.0.0/12');
}

async function rawCasRate(ds: Datastore, n: number): Promise<number> {
  let kv = await ds.put('/calico/bench/cas', '0');
  const start = performance.now();
  for (let i = 0; i < n; i++) kv = await ds.update(kv.key, String(i), kv.revision);
  return n / ((performance.now() - start) / 1000);
}

async function inProcessRate(ds: Datastore, n: number): Promise<number> {
  const ipam = new IpamClient(ds);
  const [node] = nodesOf('one');
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    await ipam.autoAssign({ num4: 1, num6: 0, handleId: `one.${i}`, attrs: { node }, hostname: node });
  }
  return n / ((performance.now() - start) / 1000);
}

async function multiProcessRate(
  settings: DatastoreSettings,
  procs: number,
  perProc: number,
  lockDir: string | undefined,
  open: OpenOptions,
): Promise<number> {
  const nodes = nodesOf(lockDir ? 'locked' : 'eight');
  const workers = Array.from({ length: procs }, (_, w) =>
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'bench/ipam/worker.ts'),
        JSON.stringify(settings),
        nodes[w % 3],
        String(perProc),
        `w${w}`,
        lockDir ? path.join(lockDir, `${nodes[w % 3]}.lock`) : '',
        JSON.stringify(open),
        nodesOf('warm')[w % 3],
        String(WARM_UP),
      ],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
    ),
  );
  const lines = workers.map((p) => {
    const out: string[] = [];
    let buf = '';
    p.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        out.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    return out;
  });
  const waitLine = async (w: number, k: number) => {
    while (lines[w].length <= k) {
      if (workers[w].exitCode !== null) throw new Error(`bench worker ${w} exited early`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  try {
    await Promise.all(workers.map((_, w) => waitLine(w, 0)));
    const start = performance.now();
    for (const p of workers) p.stdin!.write('go\n');
    await Promise.all(workers.map((_, w) => waitLine(w, 1)));
    return (procs * perProc) / ((performance.now() - start) / 1000);
  } finally {
    for (const p of workers) if (p.exitCode === null) p.kill();
  }
}

function cniExecRate(bin: string, conf: object, n: number, env: Record<string, string> = {}): number {
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    execFileSync(bin, [], {
      input: JSON.stringify(conf),
      env: {
        PATH: process.env.PATH ?? '',
        CNI_COMMAND: 'ADD',
        CNI_CONTAINERID: `bench${i}`,
        CNI_NETNS: '/var/run/netns/ti-bench-unused',
        CNI_IFNAME: 'eth0',
        CNI_PATH: '/usr/lib/cni',
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }
  return (performance.now() - start) / n;
}

const fmt = (x: number) => x.toFixed(0).padStart(8);

async function benchBackend(name: string, settings: DatastoreSettings, open: OpenOptions = {}): Promise<void> {
  const ds = await openDatastore(settings, { timeoutMs: 30_000, ...open });
  try {
    await seed(ds);
    await new IpamClient(ds).setConfig({}); // the config key exists, as in a running cluster
    const cas = await rawCasRate(ds, N);
    const one = await inProcessRate(ds, N);
    const eight = await multiProcessRate(settings, 8, Math.ceil(N / 8), undefined, open);
    const locked = await multiProcessRate(settings, 8, Math.ceil(N / 8), dir, open);
    console.log(
      `${name.padEnd(28)} raw CAS/s ${fmt(cas)} | allocations/s: 1 process ${fmt(one)} (${(one / cas).toFixed(2)}x CAS)` +
        ` | 8 processes ${fmt(eight)} (${(eight / cas).toFixed(2)}x CAS)` +
        ` | 8 processes with per-node host lock ${fmt(locked)} (${(locked / cas).toFixed(2)}x CAS)`,
    );
  } finally {
    await ds.close();
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'ti-bench-'));
try {
  console.log(
    `IPAM bench: ${N} allocations per measurement, pool 10.128.0.0/12 (/26 blocks), 3 node names; ` +
      `each of the 8 processes first allocates and releases ${WARM_UP} addresses for another node (V8 warm-up); ` +
      `load ${load()}`,
  );
  await benchBackend('sqlite (default, NORMAL)', { type: 'sqlite', sqlitePath: path.join(dir, 'calico.db') });
  await benchBackend(
    'sqlite (synchronous=FULL)',
    { type: 'sqlite', sqlitePath: path.join(dir, 'full.db') },
    { sqliteSynchronous: 'FULL' },
  );
  // A fresh etcd per transport: each measurement fills its node names' block limits.
  for (const [name, open] of [
    ['etcd', {}],
    ['etcd (JSON gateway)', { etcdTransport: 'json' }],
  ] as const) {
    const etcd = await startEtcd();
    try {
      await benchBackend(name, { type: 'etcdv3', etcdEndpoints: [etcd.endpoint] }, open);
    } finally {
      await etcd.stop();
    }
  }

  const execN = Math.max(10, Math.min(100, Math.floor(N / 10)));
  const hostLocal = '/usr/lib/cni/host-local';
  const ours = path.join(ROOT, 'dist/bin/calico-ipam');
  if (!existsSync(ours)) console.log('CNI executables: skipped (run npm run build first)');
  else {
    const hl = cniExecRate(
      hostLocal,
      {
        cniVersion: '1.0.0',
        name: 'bench',
        type: 'host-local',
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.200.0.0/16' }]], dataDir: path.join(dir, 'host-local') },
      },
      execN,
    );
    const db = path.join(dir, 'cni.db');
    const seedDs = await openDatastore({ type: 'sqlite', sqlitePath: db });
    await seed(seedDs);
    await seedDs.close();
    const ci = cniExecRate(
      ours,
      {
        cniVersion: '1.0.0',
        name: 'bench',
        type: 'calico',
        nodename: NODES[0],
        datastore_type: 'sqlite',
        sqlite_path: db,
        ipam: { type: 'calico-ipam', ipam_lock_file: path.join(dir, 'ipam.lock') },
      },
      execN,
    );
    console.log(
      `CNI ADD as an executable (${execN} sequential): host-local ${hl.toFixed(1)} ms, calico-ipam (sqlite) ${ci.toFixed(1)} ms`,
    );
  }
  console.log(`load at the end: ${load()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
