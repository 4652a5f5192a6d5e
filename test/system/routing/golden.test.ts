// The rendered artefacts are accepted by the real tools: every golden BIRD config passes `bird -p`, the NAT
// ruleset loads with `nft` in a scratch namespace; a bad config never replaces the running one; IPIP is checked
// against the kernel's capabilities.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, mkdtempSync, rmSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sh, shOk } from '../../support/routing-world.js';
import { BirdDaemon } from '../../../src/routing/bird.js';
import { birdCommand } from '../../../src/routing/bird-socket.js';

const testdata = path.resolve(import.meta.dirname, '../../../src/routing/render/testdata');
const NS = 'tr-golden';

describe('golden artefacts against the real tools', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tr-golden-'));
  before(() => {
    shOk('ip', ['netns', 'del', NS]);
    sh('ip', ['netns', 'add', NS]);
  });
  after(() => {
    shOk('ip', ['netns', 'del', NS]);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const f of readdirSync(testdata).filter((x) => x.endsWith('.bird.cfg'))) {
    test(`bird -p accepts ${f}`, () => {
      const r = shOk('bird', ['-p', '-c', path.join(testdata, f)]);
      assert.equal(r.code, 0, r.out);
    });
  }

  test('nft loads the NAT ruleset twice (atomic replace) in a scratch namespace', () => {
    const script = readFileSync(path.join(testdata, 'nat.nft'), 'utf8');
    sh('ip', ['netns', 'exec', NS, 'nft', '-f', '-'], script);
    sh('ip', ['netns', 'exec', NS, 'nft', '-f', '-'], script);
    const tables = sh('ip', ['netns', 'exec', NS, 'nft', 'list', 'tables']);
    assert.equal(tables.trim(), 'table ip calico\ntable ip6 calico');
  });

  test('an invalid config is refused by bird -p and the running config stays; unchanged text is not reloaded', async () => {
    const bird = new BirdDaemon({
      configDir: path.join(dir, 'cfg'),
      socketPath: path.join(dir, 'bird.ctl'),
      netns: NS,
    });
    try {
      const good = 'router id 192.0.2.1;\nprotocol device {}\n';
      assert.equal(await bird.apply(good), true);
      await bird.waitReady();
      await assert.rejects(bird.apply('router id nonsense;\n'), /rejected by bird -p: .*bird\.cfg\.new/);
      assert.equal(readFileSync(bird.configFile, 'utf8'), good);
      assert.equal(await bird.apply(good), false);
      const pid = bird.pid;
      process.kill(pid!, 'SIGKILL');
      for (let i = 0; i < 100 && (bird.pid === pid || bird.pid === undefined); i++)
        await new Promise((r) => setTimeout(r, 50));
      await bird.waitReady();
      assert.equal(bird.restarts, 1, 'the supervisor restarted BIRD');
      const status = await birdCommand(path.join(dir, 'bird.ctl'), 'show status');
      assert.ok(status.some((l) => /Router ID is 192\.0\.2\.1/.test(l.text)));
    } finally {
      await bird.stop();
    }
  });

  test('a BIRD left on the socket by an earlier calico-node is ended before ours starts', async () => {
    const cfgDir = path.join(dir, 'orphan');
    const socket = path.join(dir, 'orphan.ctl');
    const text = 'router id 192.0.2.2;\nprotocol device {}\n';
    mkdirSync(cfgDir, { recursive: true });
    writeFileSync(path.join(cfgDir, 'bird.cfg'), text);
    const orphan = spawn('ip', ['netns', 'exec', NS, 'bird', '-f', '-c', path.join(cfgDir, 'bird.cfg'), '-s', socket], {
      stdio: 'ignore',
    });
    const orphanExit = new Promise((r) => orphan.once('exit', r));
    const bird = new BirdDaemon({ configDir: cfgDir, socketPath: socket, netns: NS });
    try {
      for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await bird.apply(text), false, 'same text on disk: nothing to reload');
      await orphanExit;
      assert.notEqual(bird.pid, orphan.pid);
      await bird.waitReady();
    } finally {
      if (orphan.exitCode === null) orphan.kill('SIGKILL');
      await bird.stop();
    }
  });

  const ipip = shOk('ip', ['-n', NS, 'link', 'show', 'tunl0']).code === 0;
  test(
    'IPIP: tunl0 exists in the namespace',
    { skip: ipip ? false : 'this kernel has no ipip device (CONFIG_NET_IPIP not built in): IPIP mode cannot run here' },
    () => {
      assert.match(sh('ip', ['-n', NS, '-d', 'link', 'show', 'tunl0']), /ipip/);
    },
  );
});
