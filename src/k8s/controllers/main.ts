// calico-kube-controllers: reads KubeControllersConfiguration `default` (creating it with Calico's defaults), serves
// health and metrics on localhost, campaigns for the leader Lease and, while leading, runs the enabled controllers.
// A change of the configuration's spec restarts the controllers with the new settings. In etcd mode the leader also
// compacts etcd's history every etcdV3CompactionPeriod.
import type { KubeConfig } from '@kubernetes/client-node';
import pino, { type Logger } from 'pino';
import { CALICO_API_VERSION, type Resource } from '../../api/resource.js';
import { ResourceClient } from '../../datastore/resources.js';
import { AlreadyExistsError, type Datastore } from '../../datastore/types.js';
import { IpamClient } from '../../ipam/client.js';
import { CalicoWatcher } from './calico-watch.js';
import { DatastoreCompactor } from './compactor.js';
import { DEFAULT_KUBE_CONTROLLERS_SPEC, runConfigFrom, runningConfigOf, type RunConfig } from './config.js';
import { errorText } from './controller.js';
import { ControllerSet } from './controller-set.js';
import { HealthReport, startStatusServer, type StatusServer } from './health.js';
import { apiLookup, type KubeLookup } from './kube-lookup.js';
import { LeaseElector } from './leader.js';
import { ControllerMetrics } from './metrics.js';

export const DEFAULT_HEALTH_PORT = 9440;
const KCC = 'KubeControllersConfiguration';

export interface KubeControllersOptions {
  datastore: Datastore;
  kubeConfig: KubeConfig;
  env?: Record<string, string | undefined>;
  log?: Logger;
  /** Leader-election identity (default: host, pid and a random suffix). */
  identity?: string;
  lease?: {
    namespace?: string;
    name?: string;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  /** Health server port on 127.0.0.1 (0 = any free port, null = none). Default: env HEALTH_PORT or 9440. */
  healthPort?: number | null;
  /** Metrics port on 127.0.0.1 (0 = any free port, null = none). Default: the configuration's prometheusMetricsPort. */
  metricsPort?: number | null;
  /** How long a pod must be gone before its leftover WorkloadEndpoint is removed (default 10 s). */
  deadPodGraceMs?: number;
  /** Kubernetes reads that confirm a pod or node is gone (default: the API server). */
  lookup?: KubeLookup;
}

export interface KubeControllers {
  readonly identity: string;
  readonly healthUrl?: string;
  readonly metricsUrl?: string;
  readonly metrics: ControllerMetrics;
  isLeader(): boolean;
  /** Names of the controllers running now (empty unless leading). */
  running(): string[];
  config(): RunConfig;
  /** Resolves when the running controllers have nothing queued. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function defaultLogger(level = 'info'): Logger {
  const l = level.toLowerCase().replace('warning', 'warn');
  return pino({ name: 'calico-kube-controllers', level: pino.levels.values[l] ? l : 'info' }, process.stderr);
}

/** The `default` configuration, created with Calico's defaults when absent. */
async function ensureConfiguration(client: ResourceClient): Promise<Resource> {
  const found = await client.find(KCC, 'default');
  if (found) return found;
  try {
    return await client.create({
      apiVersion: CALICO_API_VERSION,
      kind: KCC,
      metadata: { name: 'default' },
      spec: structuredClone(DEFAULT_KUBE_CONTROLLERS_SPEC),
    });
  } catch (err) {
    if (err instanceof AlreadyExistsError) return client.get(KCC, 'default');
    throw err;
  }
}

export async function runKubeControllers(opts: KubeControllersOptions): Promise<KubeControllers> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? defaultLogger(env.LOG_LEVEL);
  const client = new ResourceClient(opts.datastore);
  const ipam = new IpamClient(opts.datastore);
  const lookup = opts.lookup ?? apiLookup(opts.kubeConfig);
  const metrics = new ControllerMetrics();
  const health = new HealthReport();

  const initial = await ensureConfiguration(client);
  let config = runConfigFrom(initial.spec, env);
  log.info({ controllers: Object.keys(config.controllers) }, 'calico-kube-controllers starting');

  const servers: StatusServer[] = [];
  const healthPort = opts.healthPort === undefined ? Number(env.HEALTH_PORT ?? DEFAULT_HEALTH_PORT) : opts.healthPort;
  let healthUrl: string | undefined;
  if (healthPort !== null && config.healthChecks) {
    const s = await startStatusServer({ port: healthPort, health });
    servers.push(s);
    healthUrl = s.url;
  }
  const metricsPort = opts.metricsPort === undefined ? config.prometheusMetricsPort || null : opts.metricsPort;
  let metricsUrl: string | undefined;
  if (metricsPort !== null) {
    const s = await startStatusServer({ port: metricsPort, metrics: metrics.registry });
    servers.push(s);
    metricsUrl = s.url;
  }

  let set: ControllerSet | undefined;
  let compactor: DatastoreCompactor | undefined;
  let leading = false;
  let stopping = false;
  // Starts and stops of the controller set run one after another.
  let work: Promise<void> = Promise.resolve();
  const serially = (fn: () => Promise<void>): Promise<void> =>
    (work = work.then(fn).catch((err: unknown) => {
      log.error({ err: errorText(err) }, 'controller start/stop failed');
    }));
  const report = (ready: boolean, detail: string) => health.set('kube-controllers', { live: true, ready, detail });
  report(true, 'standby: waiting for the leader lease');

  const startSet = async (): Promise<void> => {
    if (!leading || stopping || set) return;
    const next = new ControllerSet(config, {
      kubeConfig: opts.kubeConfig,
      client,
      ipam,
      lookup,
      log,
      metrics,
      deadPodGraceMs: opts.deadPodGraceMs,
    });
    set = next;
    report(false, 'leader: syncing');
    await next.start();
    if (set !== next) return;
    if (opts.datastore.description.startsWith('etcdv3')) {
      compactor = new DatastoreCompactor(opts.datastore, next.config.etcdV3CompactionPeriodMs, log);
      compactor.start();
    }
    report(true, `leader: running ${next.names.join(', ')}`);
    await writeStatus(next.config).catch((err: unknown) =>
      log.warn({ err: errorText(err) }, 'could not write KubeControllersConfiguration status'),
    );
  };
  const stopSet = async (): Promise<void> => {
    const cur = set;
    set = undefined;
    compactor?.stop();
    compactor = undefined;
    await cur?.stop();
  };

  /** status.runningConfig and status.environmentVars of `default`, as Calico keeps them (CAS; unchanged = no write). */
  const writeStatus = async (running: RunConfig): Promise<void> => {
    const current = await client.find(KCC, 'default');
    if (!current) return;
    const environmentVars: Record<string, string> = {};
    if (env.ENABLED_CONTROLLERS) environmentVars.ENABLED_CONTROLLERS = env.ENABLED_CONTROLLERS;
    const status = { runningConfig: runningConfigOf(running, current.spec), environmentVars };
    if (JSON.stringify(current.status) === JSON.stringify(status)) return;
    await client.update({ ...current, status });
  };

  const elector = new LeaseElector({
    kubeConfig: opts.kubeConfig,
    identity: opts.identity,
    ...opts.lease,
    log,
    onStartedLeading: () => {
      leading = true;
      metrics.isLeader.set(1);
      // Not awaited: the start waits for the informers' first lists, and a step-down must not wait behind it.
      void serially(startSet);
    },
    onStoppedLeading: async () => {
      leading = false;
      metrics.isLeader.set(0);
      report(true, 'standby: waiting for the leader lease');
      // Not queued behind a start that may still wait for the API server: stopping must never wait for it.
      await stopSet();
    },
  });

  const configWatch = new CalicoWatcher(
    client,
    KCC,
    {
      onListed: (items) => onConfig(items.find((r) => r.metadata.name === 'default')),
      onChange: (id, r) => id.name === 'default' && onConfig(r),
    },
    log,
  );
  function onConfig(r: Resource | undefined): void {
    if (!r || stopping) return; // a deleted configuration keeps the running one until it is written again
    let next: RunConfig;
    try {
      next = runConfigFrom(r.spec, env);
    } catch (err) {
      log.error(
        { err: errorText(err) },
        'KubeControllersConfiguration default is not usable; keeping the running settings',
      );
      return;
    }
    if (JSON.stringify(next) === JSON.stringify(config)) return;
    config = next;
    log.info({ controllers: Object.keys(config.controllers) }, 'configuration changed; restarting the controllers');
    void serially(async () => {
      await stopSet();
      await startSet();
    });
  }

  await configWatch.start();
  elector.start();

  return {
    identity: elector.identity,
    healthUrl,
    metricsUrl,
    metrics,
    isLeader: () => elector.isLeader,
    running: () => set?.names ?? [],
    config: () => config,
    idle: async () => {
      await work;
      await set?.idle();
    },
    stop: async () => {
      stopping = true;
      await configWatch.stop();
      await elector.stop();
      await stopSet();
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}
