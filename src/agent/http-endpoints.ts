// AgentHttpEndpoints: runs the health server (/liveness, /readiness) and the Prometheus metrics server (/metrics)
// where the effective Felix configuration puts them: healthEnabled/healthHost/healthPort and
// prometheusMetricsEnabled/prometheusMetricsHost/prometheusMetricsPort (FELIX_* env > FelixConfiguration
// node.<name> > default > built-in, resolved by calc/config.ts). In: the wanted listen addresses, again after every
// configuration change. Out: servers started, moved or stopped to match, and their bound addresses.
import type { Server } from 'node:http';
import type { FelixConfig } from './calc/config.js';
import { startAgentHttpServer, type AgentMetrics, type HealthState } from './metrics.js';

export interface ListenAddress {
  /** '' listens on every address (Felix's prometheusMetricsHost default). */
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
}

export interface WantedEndpoints {
  health?: ListenAddress;
  metrics?: ListenAddress;
}

/** Felix's reading of the configuration: each server only when enabled (both are off by default). */
export function endpointsFromConfig(c: FelixConfig): WantedEndpoints {
  const out: WantedEndpoints = {};
  if (c.healthEnabled) out.health = { host: c.healthHost, port: c.healthPort };
  if (c.prometheusMetricsEnabled) out.metrics = { host: c.prometheusMetricsHost, port: c.prometheusMetricsPort };
  return out;
}

interface Running {
  listen: ListenAddress;
  server: Server;
  address: string;
}

const sameListen = (a: ListenAddress | undefined, b: ListenAddress | undefined): boolean =>
  a === b || (!!a && !!b && a.host === b.host && a.port === b.port);

export class AgentHttpEndpoints {
  #health: Running | undefined;
  #metrics: Running | undefined;
  /** The last wanted addresses that could not all be bound: not retried until the configuration changes. */
  #failed: WantedEndpoints | undefined;
  /** Reconciliations run one after another. */
  #queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly metrics: AgentMetrics,
    private readonly health: () => HealthState,
    private readonly onError: (what: string, err: Error) => void,
  ) {}

  get healthAddress(): string | undefined {
    return this.#health?.address;
  }

  get metricsAddress(): string | undefined {
    return this.#metrics?.address;
  }

  /** Starts, moves or stops the servers to match `want`; a server that cannot bind is reported and left off. */
  reconcile(want: WantedEndpoints): Promise<void> {
    this.#queue = this.#queue.then(() => this.#reconcile(want));
    return this.#queue;
  }

  close(): Promise<void> {
    return this.reconcile({});
  }

  async #reconcile(want: WantedEndpoints): Promise<void> {
    // Health and metrics on the same address share one server (it answers all three paths).
    const shared = !!want.health && !!want.metrics && sameListen(want.health, want.metrics);
    const layoutOk = shared ? this.#health === this.#metrics : !this.#health || this.#health !== this.#metrics;
    if (sameListen(this.#health?.listen, want.health) && sameListen(this.#metrics?.listen, want.metrics) && layoutOk) {
      return;
    }
    const failed = this.#failed;
    if (failed && sameListen(failed.health, want.health) && sameListen(failed.metrics, want.metrics)) return;
    this.#failed = undefined;
    // Something moved: stop both and start what is wanted (a port may pass from one server to the other).
    for (const r of new Set([this.#health, this.#metrics])) {
      if (r) await new Promise<void>((resolve) => r.server.close(() => resolve()));
    }
    this.#health = this.#metrics = undefined;
    const start = async (listen: ListenAddress, withMetrics: boolean, what: string): Promise<Running | undefined> => {
      try {
        const host = listen.host === '' ? undefined : listen.host;
        const s = await startAgentHttpServer(host, listen.port, withMetrics ? this.metrics : undefined, this.health);
        return { listen, server: s.server, address: s.address };
      } catch (err) {
        this.onError(`${what} server on ${listen.host || '*'}:${listen.port}`, err as Error);
        this.#failed = want;
        return undefined;
      }
    };
    if (shared) {
      this.#health = this.#metrics = await start(want.health!, true, 'health and metrics');
      return;
    }
    if (want.health) this.#health = await start(want.health, false, 'health');
    if (want.metrics) this.#metrics = await start(want.metrics, true, 'metrics');
  }
}
