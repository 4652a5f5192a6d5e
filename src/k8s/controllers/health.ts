// Health and metrics over HTTP on localhost: /liveness and /readiness answer 200 or 503 with a JSON body naming
// each component's state; /metrics serves the Prometheus registry. Components report with HealthReport.set().
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface ComponentHealth {
  live: boolean;
  ready: boolean;
  detail?: string;
}

export class HealthReport {
  private readonly components = new Map<string, ComponentHealth>();

  set(component: string, health: ComponentHealth): void {
    this.components.set(component, health);
  }

  summary(): { live: boolean; ready: boolean; components: Record<string, ComponentHealth> } {
    const all = [...this.components.values()];
    return {
      live: all.every((c) => c.live),
      ready: all.length > 0 && all.every((c) => c.ready),
      components: Object.fromEntries(this.components),
    };
  }
}

export interface StatusServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves whichever of health and metrics is given; port 0 picks a free port. */
export async function startStatusServer(opts: {
  host?: string;
  port: number;
  health?: HealthReport;
  metrics?: Registry;
}): Promise<StatusServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (code: number, type: string, body: string) => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (opts.health && (path === '/liveness' || path === '/readiness' || path === '/health')) {
      const s = opts.health.summary();
      const ok = path === '/liveness' ? s.live : path === '/readiness' ? s.ready : s.live && s.ready;
      return reply(ok ? 200 : 503, 'application/json', JSON.stringify(s) + '\n');
    }
    if (opts.metrics && path === '/metrics') {
      opts.metrics.metrics().then(
        (text) => reply(200, opts.metrics!.contentType, text),
        (err: unknown) => reply(500, 'text/plain', String(err)),
      );
      return;
    }
    reply(404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.address}:${addr.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
