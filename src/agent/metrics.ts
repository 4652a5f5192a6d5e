// The agent's Prometheus metrics (prom-client, own registry) with Felix's names where Felix has one, and the small
// HTTP server that serves them (/metrics) and the health endpoints (/liveness, /readiness) on localhost.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class AgentMetrics {
  readonly registry = new Registry();
  readonly applyTime = new Histogram({
    name: 'felix_int_dataplane_apply_time_seconds',
    help: 'Time in seconds for each incremental dataplane apply (render, diff, nft transaction).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly activePolicies = new Gauge({
    name: 'felix_active_local_policies',
    help: 'Number of active policies on this node.',
    registers: [this.registry],
  });
  readonly stagedPolicies = new Gauge({
    name: 'felix_active_local_staged_policies',
    help: 'Number of staged policies selecting local endpoints (computed and reported, never enforced).',
    registers: [this.registry],
  });
  readonly activeSelectors = new Gauge({
    name: 'felix_active_local_selectors',
    help: 'Number of active selectors (IP sets) on this node.',
    registers: [this.registry],
  });
  readonly activeEndpoints = new Gauge({
    name: 'felix_active_local_endpoints',
    help: 'Number of active endpoints on this node.',
    registers: [this.registry],
  });
  readonly nftRules = new Gauge({
    name: 'felix_nftables_rules',
    help: 'Number of rules in the table inet calico.',
    registers: [this.registry],
  });
  readonly nftSets = new Gauge({
    name: 'felix_nftables_sets',
    help: 'Number of sets in the table inet calico.',
    registers: [this.registry],
  });
  readonly resyncs = new Counter({
    name: 'felix_resyncs_started',
    help: 'Number of times the agent started a resync (datastore re-list or nftables read-back).',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly drift = new Counter({
    name: 'felix_nftables_drift_repaired_total',
    help: 'Chains, sets and maps found different in the kernel than programmed, and repaired.',
    registers: [this.registry],
  });
  readonly dataplaneFailures = new Counter({
    name: 'felix_int_dataplane_failures',
    help: 'Number of failed dataplane applies.',
    registers: [this.registry],
  });
  readonly datastoreErrors = new Counter({
    name: 'felix_datastore_errors_total',
    help: 'Number of datastore list/watch failures.',
    registers: [this.registry],
  });
}

export interface HealthState {
  live: boolean;
  ready: boolean;
  reason: string;
}

/**
 * Serves /metrics, /liveness and /readiness; resolves with the bound address (port 0 picks a free one; host undefined
 * listens on every address).
 */
export async function startAgentHttpServer(
  host: string | undefined,
  port: number,
  metrics: AgentMetrics | undefined,
  health: () => HealthState,
): Promise<{ server: http.Server; address: string }> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/metrics') && metrics) {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
      return;
    }
    if (url.startsWith('/liveness') || url.startsWith('/readiness')) {
      const h = health();
      const ok = url.startsWith('/liveness') ? h.live : h.ready;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ live: h.live, ready: h.ready, reason: h.reason }) + '\n');
      return;
    }
    res.writeHead(404);
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return { server, address: `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}` };
}
