import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { ReconcileQueue } from './queue.js';

const log = pino({ level: 'silent' });

describe('ReconcileQueue', () => {
  test('keys added while waiting are reconciled once', async () => {
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new ReconcileQueue(
      't',
      async (k) => {
        seen.push(k);
        if (k === 'a') await gate;
      },
      log,
    );
    q.add('a');
    q.add('b');
    q.add('b');
    q.add('c');
    q.add('b');
    release();
    await q.idle();
    assert.deepEqual(seen, ['a', 'b', 'c']);
    q.stop();
  });

  test('a failing key is retried until it succeeds', async () => {
    let attempts = 0;
    const results: boolean[] = [];
    const q = new ReconcileQueue(
      't',
      async () => {
        attempts++;
        if (attempts < 3) throw new Error('conflict');
      },
      log,
      (ok) => results.push(ok),
    );
    q.add('x');
    const deadline = Date.now() + 3000;
    while (attempts < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await q.idle();
    assert.equal(attempts, 3);
    assert.deepEqual(results, [false, false, true]);
    q.stop();
  });

  test('nothing runs after stop', async () => {
    let runs = 0;
    const q = new ReconcileQueue('t', async () => void runs++, log);
    q.addAfter('later', 30);
    q.stop();
    q.add('now');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(runs, 0);
  });
});
