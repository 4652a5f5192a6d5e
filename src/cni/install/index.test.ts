import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { installCniMain } from './index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tw-install-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const run = async (env: Record<string, string>, args: string[] = []) => {
  let out = '';
  let err = '';
  const code = await installCniMain(args, {
    env: { CNI_BIN_DIR: path.join(dir, 'bin'), CNI_NET_DIR: path.join(dir, 'net'), SLEEP: 'false', ...env },
    argv1: path.join(dir, 'src', 'calico-node'),
    out: (t) => (out += t),
    err: (t) => (err += t),
  });
  return { code, out, err };
};

test('a bad setting exits 1 with one line naming it once, and writes nothing', async () => {
  const r = await run({ CNI_MTU: 'abc' });
  assert.equal(r.code, 1);
  assert.equal(r.err, 'install-cni: CNI_MTU: must be a non-negative integer, got "abc"\n');
  assert.equal(existsSync(path.join(dir, 'net')), false);
});

test('an unknown argument exits 2; --dry-run prints the conflist and writes nothing', async () => {
  assert.equal((await run({}, ['--bogus'])).code, 2);
  const r = await run({ KUBERNETES_NODE_NAME: 'node-a', CNI_MTU: '1440' }, ['--dry-run']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /# would write .*10-calico\.conflist\n/);
  const conflist = JSON.parse(r.out.slice(r.out.indexOf('{')));
  assert.equal(conflist.plugins[0].nodename, 'node-a');
  assert.equal(conflist.plugins[0].mtu, 1440);
  assert.equal(existsSync(path.join(dir, 'net')) && readdirSync(path.join(dir, 'net')).length > 0, false);
});
