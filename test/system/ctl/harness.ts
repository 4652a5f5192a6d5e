// Runs the built calicoctl (dist/bin/calicoctl) as a process against one backend: SQLite in a temporary directory or
// a real etcd started for the test (test/support/etcd.ts). Each backend gives the environment calicoctl reads and a
// ResourceClient for checking what the datastore holds.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatastore } from '../../../src/datastore/index.js';
import { ResourceClient } from '../../../src/datastore/resources.js';
import type { Datastore } from '../../../src/datastore/types.js';
import { startEtcd, type TestEtcd } from '../../support/etcd.js';

export const CTL_BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../dist/bin/calicoctl');

const NODE_MODULES = path.resolve(path.dirname(CTL_BIN), '../../node_modules');
let privateBin: string | undefined;

/**
 * Checks the build exists and takes a private copy of dist/bin/calicoctl for this test file, so that another
 * `npm run build` (which empties dist/) while the tests run cannot pull the program away mid-test.
 */
export function requireBuild(): void {
  if (!existsSync(CTL_BIN)) throw new Error(`build the programs first (npm run build): ${CTL_BIN} is missing`);
  if (privateBin) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'tl-bin-'));
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  privateBin = path.join(dir, 'calicoctl');
  copyFileSync(CTL_BIN, privateBin);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
}

export interface CtlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Backend {
  name: 'sqlite' | 'etcd';
  env: Record<string, string>;
  client: ResourceClient;
  etcd?: TestEtcd;
  ctl(args: string[], stdin?: string, extraEnv?: Record<string, string>): Promise<CtlResult>;
  close(): Promise<void>;
}

function runCtl(env: Record<string, string>, args: string[], stdin?: string): Promise<CtlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [privateBin ?? CTL_BIN, ...args], {
      // The copy lives outside the repository: its external packages resolve through NODE_PATH.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', NODE_PATH: NODE_MODULES, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

export async function sqliteBackend(): Promise<Backend> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tl-ctl-'));
  const env = { DATASTORE_TYPE: 'sqlite', SQLITE_PATH: path.join(dir, 'calico.db') };
  const ds: Datastore = await openDatastore({ type: 'sqlite', sqlitePath: env.SQLITE_PATH });
  return {
    name: 'sqlite',
    env,
    client: new ResourceClient(ds),
    ctl: (args, stdin, extra) => runCtl({ ...env, ...extra }, args, stdin),
    close: async () => {
      await ds.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function etcdBackend(): Promise<Backend> {
  const etcd = await startEtcd();
  const env = { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: etcd.endpoint };
  let ds: Datastore;
  try {
    ds = await openDatastore({ type: 'etcdv3', etcdEndpoints: [etcd.endpoint] });
  } catch (e) {
    await etcd.stop();
    throw e;
  }
  return {
    name: 'etcd',
    env,
    etcd,
    client: new ResourceClient(ds),
    ctl: (args, stdin, extra) => runCtl({ ...env, ...extra }, args, stdin),
    close: async () => {
      await ds.close();
      await etcd.stop();
    },
  };
}
