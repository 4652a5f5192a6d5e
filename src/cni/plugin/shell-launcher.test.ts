import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShellLauncher, shQuote } from './shell-launcher.js';

test('scripts run in order with their exit code and combined output', async () => {
  const l = new ShellLauncher(5_000);
  try {
    const [a, b] = await Promise.all([l.run('echo one; echo two >&2'), l.run(`echo ${shQuote("it's")}; exit 3`)]);
    assert.deepEqual(a, { code: 0, output: 'one\ntwo\n' });
    assert.deepEqual(b, { code: 3, output: "it's\n" });
  } finally {
    l.close();
  }
});

test('a hung script fails after the timeout; the scripts queued behind it still run', async () => {
  const l = new ShellLauncher(300);
  try {
    const started = Date.now();
    const hung = l.run('sleep 30');
    const next = l.run('echo after');
    await assert.rejects(hung, /ran longer than 300 ms/);
    assert.deepEqual(await next, { code: 0, output: 'after\n' });
    assert.ok(Date.now() - started < 5_000);
    assert.deepEqual(await l.run('echo again'), { code: 0, output: 'again\n' });
  } finally {
    l.close();
  }
});
