// Test support for the Kubernetes side: starts the project's API server in-process on loopback over a datastore,
// writes an admin kubeconfig for kubectl, and builds @kubernetes/client-node clients for it. stop() cleans up.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { MemoryDatastore, type Datastore } from '../../src/datastore/index.js';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../src/k8s/apiserver/index.js';

export interface TestApiServer {
  server: ApiServer;
  datastore: Datastore;
  dir: string;
  kubeconfigFile: string;
  kubeConfig(): KubeConfig;
  core(): CoreV1Api;
  kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export async function startTestApiServer(
  opts: Partial<ApiServerOptions> & { datastore?: Datastore } = {},
): Promise<TestApiServer> {
  const datastore = opts.datastore ?? new MemoryDatastore();
  const server = await startApiServer({ ...opts, datastore });
  const dir = mkdtempSync(path.join(tmpdir(), 'tk-apiserver-'));
  const kubeconfigFile = path.join(dir, 'admin.kubeconfig');
  writeFileSync(kubeconfigFile, server.kubeconfig(), { mode: 0o600 });
  const kubeConfig = (): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfig());
    return kc;
  };
  return {
    server,
    datastore,
    dir,
    kubeconfigFile,
    kubeConfig,
    core: () => kubeConfig().makeApiClient(CoreV1Api),
    kubectl: (...args: string[]) =>
      new Promise((resolve) => {
        execFile(
          '/usr/bin/kubectl',
          ['--kubeconfig', kubeconfigFile, '--request-timeout=20s', ...args],
          { timeout: 30_000 },
          (err, stdout, stderr) => {
            const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
      }),
    stop: async () => {
      await server.close();
      if (!opts.datastore) await datastore.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until check() returns a truthy value or the deadline passes (then throws with the last value). */
export async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${String(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
