// The lab's life cycle: bad input to `apply` changes nothing, and a crash in the middle of `up` (calico-lab, the
// agents and BIRD all SIGKILLed) is fully cleaned up by `down`: no namespace, mount or process is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { TestLab, CALICO_LAB } from './lab-harness.js';
import { loadState } from '../../../src/lab/state.js';

const netnsWithPrefix = (prefix: string) =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(prefix));
const mountsWithPrefix = (prefix: string) =>
  readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.includes(`/netns/${prefix}`));
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('bad input to apply gives a clear error and changes nothing', async () => {
  const lab = new TestLab('tqe-');
  try {
    lab.up(['--nodes', '1']);
    const cases: [string, string, RegExp][] = [
      ['unknown kind', 'apiVersion: v1\nkind: Frobnicator\nmetadata: { name: f }\n', /Frobnicator/],
      [
        'invalid policy',
        'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: { name: bad }\nspec: { selector: "a ==", ingress: [{ action: Allow }] }\n',
        /selector/,
      ],
      [
        'pod in a missing namespace',
        'apiVersion: v1\nkind: Pod\nmetadata: { name: p, namespace: nowhere }\nspec: { containers: [{ name: c, image: i }] }\n',
        /namespace "nowhere" does not exist/,
      ],
      [
        'annotation naming a missing pool',
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: default\n  annotations: { cni.projectcalico.org/ipv4pools: \'["no-such-pool"]\' }\nspec: { containers: [{ name: c, image: i }] }\n',
        /IP pool "no-such-pool" does not exist/,
      ],
    ];
    for (const [what, yaml, message] of cases) {
      // A valid namespace in front of the bad document: it must not be created either.
      const r = lab.run(
        ['apply', '-f', '-', '--lab-dir', lab.labDir],
        `apiVersion: v1\nkind: Namespace\nmetadata: { name: should-not-exist }\n---\n${yaml}`,
      );
      assert.notEqual(r.code, 0, `${what}: apply must fail`);
      assert.match(r.stderr + r.stdout, message, `${what}: error must say what is wrong`);
    }
    const namespaces = lab.mustRun(['kubectl', 'get', 'namespaces', '-o', 'name']);
    assert.doesNotMatch(namespaces, /should-not-exist/);
    assert.equal(lab.pods().length, 0);
  } finally {
    lab.down();
  }
  assert.deepEqual(netnsWithPrefix('tqe-'), []);
});

test('down after SIGKILL of calico-lab, the agents and BIRD in the middle of up leaves nothing behind', async () => {
  const prefix = 'tqk-';
  const lab = new TestLab(prefix);
  assert.deepEqual(netnsWithPrefix(prefix), [], 'no namespace of ours before the test');
  const up = spawn(CALICO_LAB, ['up', '--lab-dir', lab.labDir, '--prefix', prefix, '--nodes', '2'], {
    stdio: 'ignore',
  });
  // Wait until calico-node runs on the first node (and so BIRD), then kill everything at once.
  const deadline = Date.now() + 60_000;
  while (!(loadState(lab.labDir)?.processes ?? []).some((p) => p.role.startsWith('calico-node'))) {
    if (Date.now() > deadline) throw new Error('calico-node never started');
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1500));
  up.kill('SIGKILL');
  const state = loadState(lab.labDir)!;
  const pids = state.processes.map((p) => p.pid);
  const birds = birdPids();
  for (const pid of [...pids, ...birds.filter((b) => netnsOfPid(b).startsWith(prefix))]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  assert.ok(netnsWithPrefix(prefix).length > 0, 'the crash left namespaces for down to clean');

  lab.down();
  assert.deepEqual(netnsWithPrefix(prefix), [], 'no namespace left');
  assert.deepEqual(mountsWithPrefix(prefix), [], 'no /run/netns mount left');
  assert.deepEqual(pids.filter(alive), [], 'no recorded process left');
  const strayBirds = birdPids().filter((pid) => netnsOfPid(pid).startsWith(prefix));
  assert.deepEqual(strayBirds, [], 'no BIRD of the lab left');
});

/** Name of the named network namespace a process is in ('' when none of /run/netns matches). */
function netnsOfPid(pid: number): string {
  try {
    const out = execFileSync('ip', ['netns', 'identify', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.trim();
  } catch {
    return '';
  }
}

function birdPids(): number[] {
  try {
    return execFileSync('pgrep', ['-x', 'bird'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}
