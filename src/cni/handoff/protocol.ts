// The CNI hand-off wire format between the plugin process and calico-node's agent socket: newline-delimited JSON.
// plugin -> agent: one HandoffRequest (the raw environment and stdin, re-validated by the agent exactly as skel
// would); agent -> plugin: an Accepted line at once, then one HandoffReply when the handler is done.
export interface HandoffRequest {
  env: Record<string, string | undefined>;
  stdin: string;
  /** Inode of the caller's network namespace: the agent serves only callers in its own namespace. */
  netnsInode?: number;
}

export interface HandoffAccepted {
  accepted: true;
}

export type HandoffReply =
  | { ok: true; result?: Record<string, unknown> }
  | { ok: false; error: { code: number; msg: string; details?: string } }
  /** The agent will not serve this caller (e.g. another network namespace): the plugin runs in-process. */
  | { ok: false; declined: string };

export const DEFAULT_AGENT_SOCKET = '/var/run/calico/cni-server.sock';

/** Where the plugin looks for the agent: netconf `agent_socket`, then env CALICO_AGENT_SOCKET, then the default. */
export function agentSocketPath(config: Record<string, unknown>, env: Record<string, string | undefined>): string {
  const fromConf = config.agent_socket;
  if (typeof fromConf === 'string' && fromConf !== '') return fromConf;
  return env.CALICO_AGENT_SOCKET || DEFAULT_AGENT_SOCKET;
}

/** Splits a byte stream into JSON lines. */
export class JsonLineReader {
  private buf = '';
  constructor(private readonly onLine: (value: unknown) => void) {}
  push(chunk: Buffer | string): void {
    this.buf += chunk.toString();
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.trim() !== '') this.onLine(JSON.parse(line));
    }
  }
}
