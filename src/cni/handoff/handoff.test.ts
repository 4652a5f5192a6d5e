import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCniServer, type CniServer } from '../server.js';
import { runPlugin } from '../skel/dispatch.js';
import { CniError, type CniRequest, type PluginHandlers } from '../skel/types.js';
import { handoffHandlers } from './client.js';
import type { StreamImpl } from './unix-stream.js';

let dir: string;
let server: CniServer;
const agentCalls: CniRequest[] = [];
const localCalls: CniRequest[] = [];
const RESULT = { ips: [{ address: '10.0.0.9/32' }], dns: {} };

const agentHandlers: PluginHandlers = {
  add: async (req) => {
    agentCalls.push(req);
    if (req.containerId === 'fail') throw new CniError(11, 'agent says no', 'busy');
    return { ...RESULT, interfaces: [{ name: 'from-agent' }] };
  },
  del: async (req) => {
    agentCalls.push(req);
  },
};
const localHandlers: PluginHandlers = {
  add: async (req) => {
    localCalls.push(req);
    return { ...RESULT, interfaces: [{ name: 'in-process' }] };
  },
  del: async (req) => {
    localCalls.push(req);
  },
};

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tc-handoff-'));
  server = await startCniServer({ socketPath: path.join(dir, 'agent.sock'), handlers: agentHandlers, log: () => {} });
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call(env: Record<string, string>, conf: Record<string, unknown>, impl: StreamImpl) {
  let stdout = '';
  const code = await runPlugin(
    handoffHandlers(localHandlers),
    {
      env: {
        CNI_COMMAND: 'ADD',
        CNI_CONTAINERID: 'c1',
        CNI_NETNS: '/var/run/netns/tc-none',
        CNI_IFNAME: 'eth0',
        CNI_PATH: '/x',
        CALICO_CNI_SOCKET_IMPL: impl,
        ...env,
      },
      readStdin: async () => JSON.stringify(conf),
      stdout: (t) => (stdout += t),
      stderr: () => {},
    },
    { about: 'x' },
  );
  return { code, json: stdout ? JSON.parse(stdout) : undefined };
}

test('the socket is root-only', () => {
  assert.equal(statSync(server.socketPath).mode & 0o777, 0o600);
});

// Every hand-off case through both socket clients: Node's stream bindings and the node:net fallback.
for (const impl of ['binding', 'net'] as const) {
  describe(`socket client: ${impl}`, () => {
    test('with an agent listening, the request is served by the agent', async () => {
      const before = agentCalls.length;
      const r = await call({}, { cniVersion: '1.0.0', name: 'n', agent_socket: server.socketPath }, impl);
      assert.equal(r.code, 0);
      assert.equal(r.json.interfaces[0].name, 'from-agent');
      assert.equal(agentCalls.length, before + 1);
      assert.equal(agentCalls.at(-1)!.containerId, 'c1');
    });

    test('the agent re-validates the request as skel would', async () => {
      const before = agentCalls.length;
      // CNI_IFNAME invalid: the client's own skel refuses first; send a raw request to the agent to check its side.
      const { sendToAgent } = await import('./client.js');
      const out = await sendToAgent(
        server.socketPath,
        {
          env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/x', CNI_IFNAME: 'a/b', CNI_PATH: '/x' },
          stdin: '{"name":"n"}',
        },
        { acceptMs: 1000, replyMs: 5000 },
        impl,
      );
      assert.equal(out.kind, 'reply');
      assert.deepEqual((out as any).reply.error.code, 4);
      assert.equal(agentCalls.length, before, 'handler not called');
    });

    test('a caller from another network namespace is declined (it then runs in-process)', async () => {
      const { sendToAgent } = await import('./client.js');
      const before = agentCalls.length;
      const out = await sendToAgent(
        server.socketPath,
        { env: { CNI_COMMAND: 'ADD' }, stdin: '{}', netnsInode: 1 },
        { acceptMs: 1000, replyMs: 5000 },
        impl,
      );
      assert.equal(out.kind, 'unavailable');
      assert.match((out as { why: string }).why, /another network namespace/);
      assert.equal(agentCalls.length, before);
    });

    test('agent errors come back with their code', async () => {
      const r = await call(
        { CNI_CONTAINERID: 'fail' },
        { cniVersion: '1.0.0', name: 'n', agent_socket: server.socketPath },
        impl,
      );
      assert.equal(r.code, 1);
      assert.deepEqual(r.json, { cniVersion: '1.0.0', code: 11, msg: 'agent says no', details: 'busy' });
    });

    test('with no agent, the same request runs in-process', async () => {
      const before = localCalls.length;
      const r = await call({}, { cniVersion: '1.0.0', name: 'n', agent_socket: path.join(dir, 'absent.sock') }, impl);
      assert.equal(r.code, 0);
      assert.equal(r.json.interfaces[0].name, 'in-process');
      assert.equal(localCalls.length, before + 1);
    });

    test('CALICO_CNI_HANDOFF=required fails clearly instead of falling back', async () => {
      const r = await call(
        { CALICO_CNI_HANDOFF: 'required' },
        { cniVersion: '1.0.0', name: 'n', agent_socket: path.join(dir, 'absent.sock') },
        impl,
      );
      assert.equal(r.code, 1);
      assert.equal(r.json.code, 50);
      assert.match(r.json.msg, /absent\.sock unavailable/);
    });

    test('a hung agent that never accepts: fallback within the accept bound', async () => {
      const hung: Server = createServer(() => {}); // accepts connections, never answers
      const sock = path.join(dir, `hung-${impl}.sock`);
      await new Promise<void>((r) => hung.listen(sock, () => r()));
      try {
        const t0 = Date.now();
        const r = await call(
          { CALICO_AGENT_ACCEPT_TIMEOUT_MS: '200' },
          { cniVersion: '1.0.0', name: 'n', agent_socket: sock },
          impl,
        );
        assert.equal(r.code, 0);
        assert.equal(r.json.interfaces[0].name, 'in-process');
        assert.ok(Date.now() - t0 < 2000);
      } finally {
        hung.close();
      }
    });

    test('a hung agent after accepting: code 11 within the reply bound, no fallback', async () => {
      const hung: Server = createServer((s) => s.write('{"accepted":true}\n'));
      const sock = path.join(dir, `hung2-${impl}.sock`);
      await new Promise<void>((r) => hung.listen(sock, () => r()));
      try {
        const before = localCalls.length;
        const r = await call(
          { CALICO_AGENT_REPLY_TIMEOUT_MS: '300' },
          { cniVersion: '1.0.0', name: 'n', agent_socket: sock },
          impl,
        );
        assert.equal(r.code, 1);
        assert.equal(r.json.code, 11);
        assert.match(r.json.msg, /did not answer within 300 ms/);
        assert.equal(localCalls.length, before);
      } finally {
        hung.close();
      }
    });
  });
}
