// The resident `ip -batch` session (src/cni/plugin/ip-session.ts), exercised inside a test namespace: per-line
// failures, iproute2's stale name -> index cache after a link is re-created elsewhere, and iproute2 exiting on a bad
// argument while another group is in flight.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './world.js';

const ns = `tcis${process.pid % 10000}`;

before(() => {
  execFileSync('ip', ['netns', 'add', ns]);
});
after(() => {
  spawnSync('ip', ['netns', 'del', ns]);
});

test('ip session: per-line failures, stale cached indexes, iproute2 exiting mid-flight', () => {
  const r = spawnSync(
    'nsenter',
    [
      `--net=/var/run/netns/${ns}`,
      process.execPath,
      '--import',
      'tsx',
      path.join(ROOT, 'test/system/cni/ip-session-main.ts'),
    ],
    { encoding: 'utf8', cwd: ROOT, timeout: 30_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.first, []);
  assert.deepEqual(out.recreated, [], 'a re-created link is found again (fresh process after "No such device")');
  assert.equal(out.upAfter, true);
  assert.equal(out.partial.length, 1);
  assert.equal(out.partial[0].command, 'link set dev tcs-missing up');
  assert.match(out.partial[0].message, /tcs-missing/);
  assert.match(out.route, /^10\.99\.0\.1 dev tcs0 scope link/);
  assert.match(String(JSON.stringify(out.bad)), /netns|ended before answering/);
  assert.deepEqual(out.good, [], 'the other group is answered and done');
  assert.match(out.route2, /^10\.99\.0\.2 dev tcs0 scope link/);
});
