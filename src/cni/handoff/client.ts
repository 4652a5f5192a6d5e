// The plugin side of the hand-off: sends the validated request to the resident calico-node over its unix socket
// and relays the answer. When no agent answers (no socket, refused, declined, or no acknowledgement within a short
// bound) the same handlers run in-process; once the agent has accepted, a hung agent fails with code 11 after a bound.
import { statSync } from 'node:fs';
import { CniError, type CniRequest, type PluginHandlers } from '../skel/types.js';
import { JsonLineReader, agentSocketPath, type HandoffReply, type HandoffRequest } from './protocol.js';
import { markPhase } from '../timing.js';
import { renderedFor } from '../skel/result.js';
import { chooseStreamImpl, openUnixStream, type StreamImpl, type UnixStream } from './unix-stream.js';

export interface HandoffTimeouts {
  /** Connect + acknowledgement; beyond it the plugin runs in-process. */
  acceptMs: number;
  /** Accepted request to reply; beyond it the plugin fails (code 11) — never hangs the runtime. */
  replyMs: number;
}

export function handoffTimeouts(env: Record<string, string | undefined>): HandoffTimeouts {
  const num = (v: string | undefined, dflt: number) => (v && Number.isFinite(Number(v)) ? Number(v) : dflt);
  return {
    acceptMs: num(env.CALICO_AGENT_ACCEPT_TIMEOUT_MS, 1000),
    replyMs: num(env.CALICO_AGENT_REPLY_TIMEOUT_MS, 120_000),
  };
}

type Outcome = { kind: 'unavailable'; why: string } | { kind: 'reply'; reply: HandoffReply };

function ownNetnsInode(): number | undefined {
  try {
    return statSync('/proc/self/ns/net').ino;
  } catch {
    return undefined;
  }
}

/** One request over the socket. Resolves `unavailable` when falling back is safe (the agent never started work). */
export function sendToAgent(
  socketPath: string,
  request: HandoffRequest,
  t: HandoffTimeouts,
  impl: StreamImpl = chooseStreamImpl(request.env),
): Promise<Outcome> {
  return new Promise((resolve) => {
    let accepted = false;
    let done = false;
    markPhase('connecting');
    const finish = (o: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(o);
    };
    let timer = setTimeout(() => finish({ kind: 'unavailable', why: `no answer within ${t.acceptMs} ms` }), t.acceptMs);
    const reader = new JsonLineReader((msg) => {
      const m = msg as { accepted?: boolean } & HandoffReply;
      if (m.accepted) {
        accepted = true;
        clearTimeout(timer);
        timer = setTimeout(
          () =>
            finish({
              kind: 'reply',
              reply: {
                ok: false,
                error: {
                  code: 11,
                  msg: `calico-node agent at ${socketPath} accepted the request but did not answer within ${t.replyMs} ms`,
                },
              },
            }),
          t.replyMs,
        );
        return;
      }
      if ('declined' in m) finish({ kind: 'unavailable', why: m.declined });
      else {
        markPhase('reply');
        finish({ kind: 'reply', reply: m });
      }
    });
    const sock: UnixStream = openUnixStream(
      socketPath,
      {
        connect: () => {
          sock.write(JSON.stringify(request) + '\n');
          markPhase('sent');
        },
        data: (chunk) => {
          try {
            reader.push(chunk);
          } catch (err) {
            finish({
              kind: 'reply',
              reply: {
                ok: false,
                error: { code: 999, msg: `bad answer from calico-node agent: ${(err as Error).message}` },
              },
            });
          }
        },
        error: (err) => {
          if (!accepted) finish({ kind: 'unavailable', why: err.message });
          else
            finish({
              kind: 'reply',
              reply: { ok: false, error: { code: 11, msg: `calico-node agent connection failed: ${err.message}` } },
            });
        },
        end: () => {
          if (!accepted) finish({ kind: 'unavailable', why: 'agent closed the connection' });
          else
            finish({
              kind: 'reply',
              reply: {
                ok: false,
                error: { code: 11, msg: 'calico-node agent closed the connection before answering' },
              },
            });
        },
      },
      impl,
    );
  });
}

/**
 * Handlers that try the agent first and fall back to `local`. Set CALICO_CNI_HANDOFF=never to always run
 * in-process, =required to fail instead of falling back (tests of each path use these).
 */
export function handoffHandlers(local: PluginHandlers): PluginHandlers {
  const via = async (req: CniRequest, fallback: () => Promise<Record<string, unknown> | void>) => {
    const mode = req.env.CALICO_CNI_HANDOFF ?? 'auto';
    if (mode === 'never') return fallback();
    const socketPath = agentSocketPath(req.config, req.env);
    const outcome = await sendToAgent(
      socketPath,
      { env: req.env, stdin: req.stdin, netnsInode: ownNetnsInode() },
      handoffTimeouts(req.env),
    );
    if (outcome.kind === 'unavailable') {
      if (mode === 'required') {
        throw new CniError(50, `calico-node agent at ${socketPath} unavailable: ${outcome.why}`);
      }
      return fallback();
    }
    const reply = outcome.reply;
    // The agent's result went through the same conversion there: it carries the version it was rendered for.
    if (reply.ok && typeof reply.result?.cniVersion === 'string')
      return renderedFor(reply.result, reply.result.cniVersion);
    if (reply.ok) return reply.result;
    if ('declined' in reply) return fallback();
    throw new CniError(reply.error.code, reply.error.msg, reply.error.details);
  };
  return {
    add: async (req) => (await via(req, () => local.add(req))) as Record<string, unknown>,
    del: async (req) => {
      await via(req, () => local.del(req));
    },
    check: async (req) => {
      await via(req, async () => local.check?.(req));
    },
    gc: async (req) => {
      await via(req, async () => local.gc?.(req));
    },
    status: async (req) => {
      await via(req, async () => local.status?.(req));
    },
  };
}
