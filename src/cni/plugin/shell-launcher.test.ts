import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NOT_STARTED, ShellLauncher, shQuote } from './shell-launcher.js';

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

// Waiting chains: each test's chain writes its PID to a file first, so the test can tell it was started before its
// input and that it is gone afterwards.
const scratch = () => mkdtempSync(path.join(tmpdir(), 'tu-launcher-'));
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function pidFrom(file: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    try {
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid > 0) return pid;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${file} never written`);
}
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 10));
  return !alive(pid);
}
/** A chain that records its PID, then reads lines up to `end` and echoes them; exit 21 on end of input first. */
const echoChain = (pidFile: string) => (names: string[]) => `sh -c ${names[0]} sh ${shQuote(pidFile)}`;
const ECHO_SCRIPT =
  'echo $$ > "$1"; read -r first || exit 21; echo "first=$first"; ' +
  'while IFS= read -r l && [ "$l" != end ]; do printf "got %s\\n" "$l"; done; exit 3';

test('a chain starts before its input; feed gets its exit code and output', async () => {
  const dir = scratch();
  const l = new ShellLauncher(5_000);
  try {
    const chain = l.startChain(echoChain(path.join(dir, 'pid')), [ECHO_SCRIPT]);
    assert.ok(chain, 'bash is on PATH here');
    const pid = await pidFrom(path.join(dir, 'pid'));
    assert.ok(alive(pid), 'the chain waits for its input');
    const r = await chain.feed('one\ntwo\\n\nthree\nend\n');
    assert.deepEqual(
      r,
      { code: 3, output: 'first=one\ngot two\\n\ngot three' },
      'output as written, trailing newline cut',
    );
    assert.ok(await gone(pid));
    assert.equal(await chain.feed('again\n'), NOT_STARTED, 'a chain is fed once');
  } finally {
    l.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('input sent in two parts: the first before the chain is known started, the rest with feed', async () => {
  const l = new ShellLauncher(5_000);
  try {
    const chain = l.startChain(() => `sh -c 'read -r a; read -r b; echo "$a+$b"'`)!;
    assert.equal(chain.send('first\n'), true, 'queued until the start is confirmed');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await chain.feed('second\n'), { code: 0, output: 'first+second' });
    assert.equal(chain.send('late\n'), false, 'nothing more after feed');
  } finally {
    l.close();
  }
});

test('chains fed out of order each get their own input; their pipes are reused', async () => {
  const dir = scratch();
  const l = new ShellLauncher(5_000);
  try {
    for (let round = 0; round < 3; round++) {
      const chains = [0, 1, 2].map((i) => l.startChain(echoChain(path.join(dir, `pid${round}-${i}`)), [ECHO_SCRIPT])!);
      const results = await Promise.all([2, 0, 1].map((i) => chains[i]!.feed(`c${i}\nend\n`)));
      assert.deepEqual(
        results.map((r) => (r === NOT_STARTED ? r : r.output)),
        ['first=c2', 'first=c0', 'first=c1'],
      );
    }
    // 300 chains, more than the launcher has descriptors for, 30 at a time: released pipes are reused.
    for (let batch = 0; batch < 10; batch++) {
      for (let i = 0; i < 30; i++) l.startChain(() => 'read -r x', [])!.release();
      await l.run('true');
    }
    assert.deepEqual(await l.run('echo still here'), { code: 0, output: 'still here\n' });
  } finally {
    l.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a released chain reads end of input and exits; so does a waiting chain when its launcher goes', async () => {
  const dir = scratch();
  const l = new ShellLauncher(5_000);
  try {
    const released = l.startChain(echoChain(path.join(dir, 'a')), [ECHO_SCRIPT])!;
    const orphaned = l.startChain(echoChain(path.join(dir, 'b')), [ECHO_SCRIPT])!;
    const [a, b] = [await pidFrom(path.join(dir, 'a')), await pidFrom(path.join(dir, 'b'))];
    released.release();
    assert.ok(await gone(a), 'released chain exited');
    assert.equal(await released.feed('late\n'), NOT_STARTED);
    assert.ok(alive(b), 'the other chain still waits');
    l.close(); // as when the agent exits or is killed: the launcher reads end of input
    assert.ok(await gone(b), 'the chain left waiting exited with its launcher');
    assert.equal(await orphaned.feed('x\n'), NOT_STARTED);
  } finally {
    l.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a chain that fails before reading its input is reported, not fed', async () => {
  const l = new ShellLauncher(5_000);
  try {
    const chain = l.startChain(() => 'tu-no-such-command', [])!;
    await new Promise((r) => setTimeout(r, 300)); // its report arrives meanwhile
    assert.equal(await chain.feed('x\n'), NOT_STARTED);
    const racing = l.startChain(() => 'tu-no-such-command', [])!;
    const r = await racing.feed('x\n'); // fed at once: either gone already or its exit code
    assert.ok(r === NOT_STARTED || r.code === 127, JSON.stringify(r));
  } finally {
    l.close();
  }
});

test('a fed chain that hangs fails after the timeout and is killed; the launcher serves on', async () => {
  const dir = scratch();
  const l = new ShellLauncher(300);
  try {
    const chain = l.startChain(
      (names) => `sh -c ${names[0]} sh ${shQuote(path.join(dir, 'pid'))}`,
      ['echo $$ > "$1"; read -r x; exec sleep 30'],
    )!;
    const pid = await pidFrom(path.join(dir, 'pid'));
    await assert.rejects(chain.feed('go\n'), /ran longer than 300 ms and was killed/);
    assert.ok(await gone(pid));
    assert.deepEqual(await l.run('echo after'), { code: 0, output: 'after\n' });
  } finally {
    l.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without bash the launcher runs jobs only', async () => {
  const l = new ShellLauncher(5_000, { shell: 'sh' });
  try {
    assert.equal(
      l.startChain(() => 'read -r x'),
      undefined,
    );
    assert.deepEqual(await l.run('echo plain'), { code: 0, output: 'plain\n' });
  } finally {
    l.close();
  }
});
