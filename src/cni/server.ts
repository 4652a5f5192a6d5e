// calico-node's CNI hand-off server: a root-only unix socket where the plugin process hands over requests so they
// run with warm datastore, IPAM and Kubernetes state. Each request is re-validated exactly as skel validates stdin,
// acknowledged at once, then served by the same handlers the plugin would run in-process.
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { asCniError, invokeHandler, preflight } from './skel/dispatch.js';
import type { PluginHandlers } from './skel/types.js';
import { JsonLineReader, DEFAULT_AGENT_SOCKET, type HandoffReply, type HandoffRequest } from './handoff/protocol.js';

export interface CniServerOptions {
  /** Default: env CALICO_AGENT_SOCKET, else /var/run/calico/cni-server.sock. */
  socketPath?: string;
  /** Default: the calico plugin's handlers (loaded on first use). */
  handlers?: PluginHandlers;
  env?: Record<string, string | undefined>;
  log?: (line: string) => void;
}

export interface CniServer {
  readonly socketPath: string;
  /** Requests served so far (for health output and tests). */
  readonly served: number;
  close(): Promise<void>;
}

async function defaultHandlers(): Promise<PluginHandlers> {
  return (await import('./plugin/handlers.js')).agentPluginHandlers();
}

export async function startCniServer(opts: CniServerOptions = {}): Promise<CniServer> {
  const env = opts.env ?? process.env;
  const socketPath = opts.socketPath ?? (env.CALICO_AGENT_SOCKET || DEFAULT_AGENT_SOCKET);
  const log = opts.log ?? ((line: string) => process.stderr.write(`cni-server: ${line}\n`));
  const handlers = opts.handlers ?? (await defaultHandlers());
  const ownInode = statSync('/proc/self/ns/net').ino;
  let served = 0;

  const serve = async (sock: Socket, request: HandoffRequest): Promise<HandoffReply> => {
    if (request.netnsInode !== undefined && request.netnsInode !== ownInode) {
      return { ok: false, declined: 'caller is in another network namespace than this calico-node' };
    }
    sock.write(JSON.stringify({ accepted: true }) + '\n');
    try {
      const pre = await preflight(request.env ?? {}, async () => request.stdin ?? '');
      if (pre.kind !== 'request') return { ok: true };
      const result = await invokeHandler(handlers, pre.request);
      served++;
      return result ? { ok: true, result } : { ok: true };
    } catch (err) {
      const e = asCniError(err);
      return { ok: false, error: { code: e.code, msg: e.message, ...(e.details ? { details: e.details } : {}) } };
    }
  };

  const server: Server = createServer((sock) => {
    let handled = false;
    const reader = new JsonLineReader((value) => {
      if (handled) return;
      handled = true;
      // A caller that gave up (closed) before we read its request must not have work done on its behalf.
      if (sock.destroyed || !sock.writable) return;
      const t0 = performance.now();
      void serve(sock, value as HandoffRequest).then((reply) => {
        if (!('declined' in reply)) {
          const cmd = (value as HandoffRequest).env?.CNI_COMMAND;
          const ms = (performance.now() - t0).toFixed(1);
          log(
            `${cmd} ${(value as HandoffRequest).env?.CNI_CONTAINERID ?? ''}: ${reply.ok ? 'ok' : JSON.stringify(reply)} (${ms} ms)`,
          );
        }
        if (!sock.destroyed) sock.end(JSON.stringify(reply) + '\n');
      });
    });
    sock.on('data', (chunk) => {
      try {
        reader.push(chunk);
      } catch (err) {
        sock.end(
          JSON.stringify({ ok: false, error: { code: 6, msg: `bad hand-off request: ${(err as Error).message}` } }) +
            '\n',
        );
      }
    });
    sock.on('error', () => sock.destroy());
  });

  mkdirSync(path.dirname(socketPath), { recursive: true });
  rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o600);
  log(`listening on ${socketPath}`);

  return {
    socketPath,
    get served() {
      return served;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          rmSync(socketPath, { force: true });
          resolve();
        });
      }),
  };
}
