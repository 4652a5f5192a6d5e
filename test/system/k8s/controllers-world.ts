// Shared world of the kube-controllers system tests: the project's API server (in-process, TLS, tokens) over one
// in-memory datastore, a separate Calico datastore, and helpers to run calico-kube-controllers replicas against them.
import { CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import pino from 'pino';
import { MemoryDatastore } from '../../../src/datastore/index.js';
import { ResourceClient } from '../../../src/datastore/resources.js';
import {
  runKubeControllers,
  type KubeControllers,
  type KubeControllersOptions,
} from '../../../src/k8s/controllers/index.js';
import type { ApiServerOptions } from '../../../src/k8s/apiserver/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/k8s.js';

export interface ControllersWorld {
  api: TestApiServer;
  core: CoreV1Api;
  net: NetworkingV1Api;
  calico: MemoryDatastore;
  client: ResourceClient;
  start(opts?: Partial<KubeControllersOptions>): Promise<KubeControllers>;
  stop(): Promise<void>;
}

export const quietLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }, process.stderr);

export async function startControllersWorld(apiOptions: Partial<ApiServerOptions> = {}): Promise<ControllersWorld> {
  const api = await startTestApiServer(apiOptions);
  const calico = new MemoryDatastore();
  const client = new ResourceClient(calico);
  const running: KubeControllers[] = [];
  const kc = api.kubeConfig();
  return {
    api,
    core: kc.makeApiClient(CoreV1Api),
    net: kc.makeApiClient(NetworkingV1Api),
    calico,
    client,
    start: async (opts = {}) => {
      const kcs = await runKubeControllers({
        datastore: calico,
        kubeConfig: api.kubeConfig(),
        env: { ENABLED_CONTROLLERS: undefined },
        log: quietLog,
        healthPort: 0,
        metricsPort: 0,
        deadPodGraceMs: 200,
        lease: { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 },
        ...opts,
      });
      running.push(kcs);
      return kcs;
    },
    stop: async () => {
      for (const k of running.splice(0)) await k.stop().catch(() => undefined);
      await api.stop();
      await calico.close();
    },
  };
}
