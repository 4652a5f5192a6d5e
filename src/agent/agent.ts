// The node agent loop (Felix's job): datastore -> calculation graph -> nftables, with status, metrics and health.
//
//   Datastore list + watch(prefix, rev) --put/delete--> CalcGraph.onUpdates --(coalesce batchDelayMs)--> snapshot
//        ^ re-list on resync-required / error (retry with backoff; the last programmed table stays meanwhile)
//   snapshot --> NftDataplane.apply (one nft transaction) --> EndpointStatusReporter (files for the CNI plugin)
//   every nftablesRefreshInterval: NftDataplane.resync (read the kernel's table back, repair drift)
//
// Health (/liveness, /readiness) and metrics (/metrics) are served where Felix's configuration puts them
// (http-endpoints.ts); the host's interfaces come from an interface monitor (host endpoints by expectedIPs,
// interfaceExclude /regex/ entries); logs are pino JSON on stderr.
import { pino, type Logger } from 'pino';
import { CALC_GRAPH_KINDS, type CalcUpdate, type DataplaneSnapshot } from './calc/model.js';
import { CalcGraph } from './calc/graph.js';
import { RESOURCE_PREFIX } from '../datastore/keys.js';
import { parseResourceKey } from '../datastore/resources.js';
import type { Datastore, Watch, WatchEvent } from '../datastore/types.js';
import { NftDataplane, tableCounts, type ResyncResult } from './dataplane/driver.js';
import { DEFAULT_ENDPOINT_STATUS_DIR, EndpointStatusReporter } from './dataplane/endpoint-status.js';
import { NftCommandRunner, type NftRunner } from './dataplane/nft-runner.js';
import type { HostInterface } from './dataplane/host-endpoints.js';
import { IpInterfaceMonitor, type InterfaceSource } from './dataplane/interface-monitor.js';
import { AgentHttpEndpoints, endpointsFromConfig, type ListenAddress, type WantedEndpoints } from './http-endpoints.js';
import { collectGarbage } from './heap-collector.js';
import { AgentMetrics, type HealthState } from './metrics.js';

export interface AgentContext {
  nodeName: string;
  datastore: Datastore;
  /** Environment (FELIX_*, CALICO_ENDPOINT_STATUS_DIR); defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  logger?: Logger;
  /** How nft is run; default: the `nft` program in this process's network namespace. */
  nftRunner?: NftRunner;
  /** Default: env CALICO_ENDPOINT_STATUS_DIR or /var/run/calico/endpoint-status. */
  endpointStatusDir?: string;
  /**
   * Where /liveness and /readiness (health) and /metrics are served. Default: as Felix's configuration says, with its
   * precedence (FELIX_* env > FelixConfiguration node.<name> > default > built-in): healthEnabled (false),
   * healthHost (localhost), healthPort (9099); prometheusMetricsEnabled (false), prometheusMetricsHost ('' = every
   * address), prometheusMetricsPort (9091); the servers move when the configuration changes. Given here, the
   * address is fixed; `false` disables a server; port 0 picks a free port (tests).
   */
  health?: { host: string; port: number } | false;
  metrics?: { host: string; port: number } | false;
  /**
   * The host's interfaces and addresses (host endpoints with only expectedIPs, interfaceExclude /regex/ entries).
   * Default: `ip` behind the nft runner's command prefix when the runner is an NftCommandRunner; `false`: none.
   */
  interfaces?: InterfaceSource | false;
  /** Coalescing delay between a datastore change and the apply (default 5 ms). */
  batchDelayMs?: number;
  /** Overrides FelixConfiguration nftablesRefreshInterval (ms) for the periodic kernel read-back. */
  resyncIntervalMs?: number;
  /** First retry delay after a datastore or dataplane failure (doubles up to 5 s; default 250 ms). */
  retryDelayMs?: number;
  /** How often a watching agent checks that the datastore still answers (default 2000 ms). */
  datastoreCheckMs?: number;
}

export interface Agent {
  /** Resolves after the first complete datastore state has been programmed into the kernel. */
  whenProgrammed(): Promise<void>;
  health(): HealthState;
  /** The datastore revision the kernel reflects (0 before the first apply). */
  programmedRevision(): number;
  /** Reads the kernel's table back now and repairs drift. */
  resyncNow(): Promise<ResyncResult>;
  readonly metrics: AgentMetrics;
  readonly dataplane: NftDataplane;
  /** host:port of the health and metrics servers while they run (they follow the configuration). */
  readonly healthAddress: string | undefined;
  readonly metricsAddress: string | undefined;
  stop(): Promise<void>;
}

const KIND_SET = new Set<string>(CALC_GRAPH_KINDS);
/** Listed resources parsed and fed to the graph at a time during a (re-)list. */
const FEED_SLICE = 500;

/** Felix's logSeverityScreen (Debug, Info, Warning, Error, Fatal; None = silent) as a pino level. */
function pinoLevel(severity: string | undefined): string {
  const s = (severity ?? 'info').toLowerCase();
  if (s === 'warning') return 'warn';
  if (s === 'none') return 'silent';
  return ['debug', 'info', 'error', 'fatal', 'trace'].includes(s) ? s : 'info';
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startAgent(ctx: AgentContext): Promise<Agent> {
  const env = ctx.env ?? process.env;
  const log =
    ctx.logger ??
    pino(
      {
        name: 'calico-node-agent',
        level: pinoLevel(env.FELIX_LOGSEVERITYSCREEN),
      },
      process.stderr,
    );
  const metrics = new AgentMetrics();
  const graph = new CalcGraph({ nodeName: ctx.nodeName, env });
  const dataplane = new NftDataplane(ctx.nftRunner ?? new NftCommandRunner());
  const status = new EndpointStatusReporter(
    ctx.endpointStatusDir ?? env.CALICO_ENDPOINT_STATUS_DIR ?? DEFAULT_ENDPOINT_STATUS_DIR,
  );
  const batchDelayMs = ctx.batchDelayMs ?? 5;
  const baseRetry = ctx.retryDelayMs ?? 250;

  let stopped = false;
  /** Set by a (re-)list: the next successful apply ends its allocation burst with one full collection. */
  let collectAfterApply = false;
  /** The host's (non-workload) interfaces, once listed. */
  let hostInterfaces: HostInterface[] | undefined;
  /** Moves the health and metrics servers after a configuration change (set once they are first started). */
  let reconcileEndpoints = (): void => {};
  let inSync = false; // the graph holds a complete datastore state
  let datastoreOk = false;
  let dataplaneOk = false;
  let lastError = 'starting';
  let fedRevision = 0; // highest datastore revision fed into the graph
  let programmedRevision = 0;
  let watch: Watch | undefined;
  let programmedResolve: () => void = () => {};
  const programmed = new Promise<void>((r) => (programmedResolve = r));

  // ------------------------------------------------------------------------------------------------------------
  // Apply loop: one apply at a time; changes arriving meanwhile are coalesced into the next one.
  let flushTimer: NodeJS.Timeout | undefined;
  let applying: Promise<void> | undefined;
  let pending = false;
  let applyRetry = baseRetry;

  const scheduleApply = (delay = batchDelayMs): void => {
    if (stopped || !inSync) return;
    pending = true;
    if (flushTimer || applying) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      void runApply();
    }, delay);
  };

  let lastProblems: DataplaneSnapshot['problems'] | undefined;
  const updateGauges = (snap: DataplaneSnapshot): void => {
    metrics.activePolicies.set(snap.policies.size);
    metrics.stagedPolicies.set(snap.stagedPolicies.size);
    metrics.activeEndpoints.set(snap.endpoints.size);
    let selectors = 0;
    for (const id of snap.ipSets.keys()) if (id.startsWith('s:') || id.startsWith('n:')) selectors++;
    metrics.activeSelectors.set(selectors);
    const counts = tableCounts(dataplane.desiredState);
    metrics.nftRules.set(counts.rules);
    metrics.nftSets.set(counts.sets);
  };

  const runApply = async (): Promise<void> => {
    if (applying || stopped) return;
    pending = false;
    const revision = fedRevision;
    applying = (async () => {
      const ts = performance.now();
      const snap = graph.snapshot();
      graph.flush();
      const snapshotMs = performance.now() - ts;
      const end = metrics.applyTime.startTimer();
      try {
        const res = await dataplane.apply(snap, hostInterfaces);
        end();
        dataplaneOk = true;
        applyRetry = baseRetry;
        programmedRevision = revision;
        updateGauges(snap);
        if (res.changedObjects) {
          log.info(
            {
              changedObjects: res.changedObjects,
              ms: Math.round(res.durationMs),
              snapshotMs: Math.round(snapshotMs),
              renderMs: Math.round(res.renderMs ?? 0),
              planMs: Math.round(res.planMs ?? 0),
              nftMs: Math.round(res.nftMs ?? 0),
              scriptBytes: res.scriptBytes,
              rssMB: Math.round(process.memoryUsage.rss() / 1048576),
              heapMB: Math.round(process.memoryUsage().heapUsed / 1048576),
              revision,
            },
            'dataplane updated',
          );
        }
        if (snap.problems !== lastProblems) {
          lastProblems = snap.problems;
          for (const p of snap.problems) log.warn({ resource: p.resource }, p.message);
        }
        try {
          await status.report(snap);
        } catch (err) {
          log.warn({ err: String(err) }, 'could not write endpoint status files');
        }
        programmedResolve();
        if (collectAfterApply) {
          // The (re-)list's parsing and first rendering are garbage now: collect it once, off the change path.
          collectAfterApply = false;
          const g = collectGarbage();
          log.info(
            {
              heapMBBefore: Math.round(g.beforeBytes / 1048576),
              heapMBAfter: Math.round(g.afterBytes / 1048576),
              ms: Math.round(g.ms),
            },
            'collected the garbage of the initial sync',
          );
        }
      } catch (err) {
        end();
        dataplaneOk = false;
        lastError = `dataplane apply failed: ${(err as Error).message}`;
        metrics.dataplaneFailures.inc();
        log.error({ err: (err as Error).message }, 'dataplane apply failed; will retry');
        pending = true;
        await sleep(applyRetry);
        applyRetry = Math.min(applyRetry * 2, 5000);
      }
    })();
    await applying;
    applying = undefined;
    if (pending && !stopped) scheduleApply(0);
  };

  // ------------------------------------------------------------------------------------------------------------
  // Datastore sync: list, feed, watch; on resync-required or error: re-list (the graph keeps its state meanwhile).
  /** Keys of the resources the graph holds (to turn a key missing from a re-list into a delete). */
  const known = new Set<string>();
  /** Ends the current watch (the sync loop then re-lists); set while watching. */
  let endWatch: ((ev: WatchEvent) => void) | undefined;

  const toUpdate = (key: string, value: string | undefined): CalcUpdate | undefined => {
    const id = parseResourceKey(key);
    if (!id || !KIND_SET.has(id.kind)) return undefined;
    if (value === undefined) {
      known.delete(key);
      return { type: 'delete', kind: id.kind, name: id.name, namespace: id.namespace };
    }
    let resource: any;
    try {
      resource = JSON.parse(value);
    } catch (err) {
      log.warn({ key, err: (err as Error).message }, 'ignoring unparsable datastore entry');
      return undefined;
    }
    resource.kind ||= id.kind;
    resource.metadata = { ...(resource.metadata ?? {}), name: id.name, namespace: id.namespace };
    known.add(key);
    return { type: 'put', resource };
  };

  /**
   * Lists the datastore and feeds it to the graph in slices, parsing each slice just before it is fed, so the parsed
   * resources of the whole datastore never live at once; keys the graph holds but the listing lacks become deletes.
   * The feeding is synchronous, so no apply sees a half-fed state. The listing is released when this returns.
   */
  const listAndFeed = async (): Promise<{ revision: number; listed: number; listMs: number; feedMs: number }> => {
    const tList = performance.now();
    const { items, revision } = await ctx.datastore.list(RESOURCE_PREFIX);
    const tFeed = performance.now();
    const present = new Set<string>();
    for (let i = 0; i < items.length; i += FEED_SLICE) {
      const updates: CalcUpdate[] = [];
      for (let j = i; j < Math.min(items.length, i + FEED_SLICE); j++) {
        const kv = items[j]!;
        present.add(kv.key);
        const u = toUpdate(kv.key, kv.value);
        if (u) updates.push(u);
      }
      graph.onUpdates(updates);
    }
    const gone: CalcUpdate[] = [];
    for (const key of known) if (!present.has(key)) gone.push(toUpdate(key, undefined)!);
    if (gone.length) graph.onUpdates(gone);
    return { revision, listed: items.length, listMs: tFeed - tList, feedMs: performance.now() - tFeed };
  };

  const syncLoop = async (): Promise<void> => {
    let retry = baseRetry;
    while (!stopped) {
      try {
        metrics.resyncs.inc({ kind: 'datastore' });
        const { revision, listed, listMs, feedMs } = await listAndFeed();
        fedRevision = revision;
        collectAfterApply = true;
        reconcileEndpoints();
        inSync = true;
        datastoreOk = true;
        retry = baseRetry;
        log.info(
          {
            resources: listed,
            revision,
            listMs: Math.round(listMs),
            feedMs: Math.round(feedMs),
          },
          'datastore in sync',
        );
        scheduleApply(0);
        // Watch until it ends (resync-required or error).
        const ended = await new Promise<WatchEvent>((resolve) => {
          endWatch = resolve;
          const batch: CalcUpdate[] = [];
          watch = ctx.datastore.watch(RESOURCE_PREFIX, revision + 1, (ev) => {
            if (ev.type === 'put' || ev.type === 'delete') {
              const u = toUpdate(ev.key, ev.type === 'put' ? ev.value : undefined);
              fedRevision = Math.max(fedRevision, ev.revision);
              if (u) {
                batch.push(u);
                queueMicrotask(() => {
                  if (batch.length) graph.onUpdates(batch.splice(0));
                  reconcileEndpoints();
                  scheduleApply();
                });
              }
            } else resolve(ev);
          });
        });
        endWatch = undefined;
        await watch?.close().catch(() => {});
        watch = undefined;
        if (stopped) break;
        if (ended.type === 'error') throw ended.error;
        log.info('datastore history compacted: re-listing');
      } catch (err) {
        if (stopped) break;
        datastoreOk = false;
        lastError = `datastore ${ctx.datastore.description} unreachable: ${(err as Error).message}`;
        metrics.datastoreErrors.inc();
        log.warn(
          { err: (err as Error).message, retryMs: retry },
          'datastore list/watch failed; keeping the programmed dataplane and retrying',
        );
        await sleep(retry);
        retry = Math.min(retry * 2, 5000);
      }
    }
  };

  // A watch may stay silent while its server is gone: check that the datastore answers; if not, end the watch so
  // the loop re-lists (with backoff) once it is back. The programmed table is untouched meanwhile.
  const checkTimer = setInterval(() => {
    const end = endWatch;
    if (!end || stopped) return;
    ctx.datastore.currentRevision().catch((err: unknown) => {
      if (endWatch === end) end({ type: 'error', error: err instanceof Error ? err : new Error(String(err)) });
    });
  }, ctx.datastoreCheckMs ?? 2000);
  checkTimer.unref();

  // ------------------------------------------------------------------------------------------------------------
  // Periodic read-back of the kernel's table.
  const resyncNow = async (): Promise<ResyncResult> => {
    while (applying) await applying;
    metrics.resyncs.inc({ kind: 'nftables' });
    const p = dataplane.resync();
    applying = p.then(
      () => undefined,
      () => undefined,
    );
    try {
      const res = await p;
      if (res.driftedObjects) {
        metrics.drift.inc(res.driftedObjects);
        log.warn(
          { drifted: res.driftedObjects, altered: res.alteredRules, foreign: res.foreignRules },
          'repaired nftables drift',
        );
      }
      return res;
    } finally {
      applying = undefined;
      if (pending) scheduleApply(0);
    }
  };
  const resyncMs = (): number =>
    ctx.resyncIntervalMs ?? Math.max(1, graph.snapshot().config.nftablesRefreshInterval) * 1000;
  let resyncTimer: NodeJS.Timeout | undefined;
  const scheduleResync = (): void => {
    resyncTimer = setTimeout(() => {
      if (stopped) return;
      const go = inSync && dataplaneOk ? resyncNow() : Promise.resolve();
      go.catch((err: unknown) => {
        metrics.dataplaneFailures.inc();
        log.error({ err: String(err) }, 'nftables resync failed');
      }).finally(() => !stopped && scheduleResync());
    }, resyncMs());
  };

  // ------------------------------------------------------------------------------------------------------------
  const health = (): HealthState => {
    const ready = inSync && datastoreOk && dataplaneOk;
    return {
      live: !stopped,
      ready,
      reason: ready ? 'in sync with the datastore and the dataplane is programmed' : lastError,
    };
  };
  const endpoints = new AgentHttpEndpoints(metrics, health, (what, err) =>
    log.error({ err: err.message }, `could not start the ${what}`),
  );
  /** The servers where the effective configuration puts them, unless the caller fixed them. */
  const wantedEndpoints = (): WantedEndpoints => {
    const fromConfig = endpointsFromConfig(graph.felixConfig());
    const pick = (fixed: AgentContext['health'], configured?: ListenAddress): ListenAddress | undefined =>
      fixed === undefined ? configured : fixed || undefined;
    return { health: pick(ctx.health, fromConfig.health), metrics: pick(ctx.metrics, fromConfig.metrics) };
  };
  reconcileEndpoints = () => {
    if (!stopped) void endpoints.reconcile(wantedEndpoints());
  };
  await endpoints.reconcile(wantedEndpoints());

  log.info(
    {
      node: ctx.nodeName,
      datastore: ctx.datastore.description,
      healthAddress: endpoints.healthAddress,
      metricsAddress: endpoints.metricsAddress,
    },
    'agent starting',
  );
  // The host's interfaces: only host (non-workload) interfaces matter, so a pod's veth coming and going does not
  // cause an apply.
  const runner = ctx.nftRunner;
  const interfaceSource =
    ctx.interfaces === false
      ? undefined
      : (ctx.interfaces ??
        (runner === undefined || runner instanceof NftCommandRunner
          ? new IpInterfaceMonitor(
              runner?.commandPrefix ?? [],
              Math.max(1, graph.felixConfig().interfaceRefreshInterval) * 1000,
              (err) => log.warn({ err: err.message }, 'could not list the host interfaces'),
            )
          : undefined));
  const hostOnly = (list: HostInterface[]): HostInterface[] => {
    const prefixes = graph.felixConfig().interfacePrefixes;
    return list.filter((i) => !prefixes.some((p) => i.name.startsWith(p)));
  };
  let hostInterfacesText = '';
  const onInterfaces = (list: HostInterface[]): void => {
    const host = hostOnly(list);
    const text = JSON.stringify(host);
    if (text === hostInterfacesText) return;
    hostInterfacesText = text;
    hostInterfaces = host;
    log.info({ interfaces: host.map((i) => i.name) }, 'host interfaces changed');
    scheduleApply(0);
  };
  if (interfaceSource) {
    try {
      onInterfaces(await interfaceSource.start(onInterfaces));
    } catch (err) {
      log.warn(
        { err: (err as Error).message },
        'could not list the host interfaces; host endpoints by expectedIPs stay unresolved',
      );
    }
  }

  const syncDone = syncLoop();
  scheduleResync();

  return {
    whenProgrammed: () => programmed,
    health,
    programmedRevision: () => programmedRevision,
    resyncNow,
    metrics,
    dataplane,
    get healthAddress() {
      return endpoints.healthAddress;
    },
    get metricsAddress() {
      return endpoints.metricsAddress;
    },
    async stop() {
      stopped = true;
      if (flushTimer) clearTimeout(flushTimer);
      if (resyncTimer) clearTimeout(resyncTimer);
      clearInterval(checkTimer);
      interfaceSource?.stop();
      endWatch?.({ type: 'error', error: new Error('agent stopped') });
      await watch?.close().catch(() => {});
      // Wake the watch promise so the sync loop ends.
      await Promise.race([syncDone, sleep(50)]);
      while (applying) await applying;
      await endpoints.close();
      log.info('agent stopped (the nftables table stays programmed)');
    },
  };
}
