import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chooseStreamImpl, openUnixStream, type StreamImpl } from './unix-stream.js';

let dir: string;
let echo: Server;
let echoPath: string;
const open = new Set<Socket>();

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tc-unix-stream-'));
  echoPath = path.join(dir, 'echo.sock');
  // Echoes what it reads, and closes its side once it has read a line ending in "bye".
  echo = createServer((s) => {
    open.add(s);
    let seen = '';
    s.on('data', (d) => {
      seen += d;
      s.write(d);
      if (seen.endsWith('bye\n')) s.end();
    });
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((r) => echo.listen(echoPath, () => r()));
});
after(async () => {
  for (const s of open) s.destroy();
  await new Promise<void>((r) => echo.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

test('this Node offers the stream bindings; CALICO_CNI_SOCKET_IMPL=net chooses node:net', () => {
  assert.equal(chooseStreamImpl({}), 'binding');
  assert.equal(chooseStreamImpl({ CALICO_CNI_SOCKET_IMPL: 'net' }), 'net');
});

/** Writes `text` after connecting and collects everything until the peer closes. */
function roundTrip(impl: StreamImpl, socketPath: string, text: string) {
  return new Promise<{ events: string[]; received: string; error?: Error }>((resolve) => {
    const events: string[] = [];
    const chunks: Buffer[] = [];
    const s = openUnixStream(
      socketPath,
      {
        connect: () => {
          events.push('connect');
          s.write(text);
        },
        data: (c) => chunks.push(c),
        end: () => {
          events.push('end');
          resolve({ events, received: Buffer.concat(chunks).toString() });
        },
        error: (error) => {
          events.push('error');
          resolve({ events, received: Buffer.concat(chunks).toString(), error });
        },
      },
      impl,
    );
  });
}

for (const impl of ['binding', 'net'] as const) {
  describe(`unix stream via ${impl}`, () => {
    test('a 2 MB request (more than one socket buffer) arrives whole, and EOF is seen', async () => {
      const big = 'é'.repeat(1 << 20) + 'bye\n';
      const r = await roundTrip(impl, echoPath, big);
      assert.equal(r.error, undefined);
      assert.deepEqual(r.events, ['connect', 'end']);
      assert.equal(r.received, big);
    });

    test('no socket file: an error naming ENOENT and the path, no connect', async () => {
      const absent = path.join(dir, 'absent.sock');
      const r = await roundTrip(impl, absent, 'x');
      assert.deepEqual(r.events, ['error']);
      assert.match(r.error!.message, /ENOENT/);
      assert.match(r.error!.message, /absent\.sock/);
    });

    test('closing before the connection completes delivers no event', async () => {
      const events: string[] = [];
      const s = openUnixStream(
        echoPath,
        {
          connect: () => events.push('connect'),
          data: () => events.push('data'),
          end: () => events.push('end'),
          error: () => events.push('error'),
        },
        impl,
      );
      s.close();
      s.close();
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(events, []);
    });
  });
}
