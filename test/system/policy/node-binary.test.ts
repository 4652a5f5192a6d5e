// `calico-node run` as a process inside a node namespace: the agent programs `table inet calico`, the
// `-felix-live` / `-felix-ready` probes answer through its health endpoint, SIGTERM stops it and the table stays.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const NS = 'tp-bin-n';
const UL = 'tp-bin-ul';
const ip = (...args: string[]): void => {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
};
const cleanup = (): void => {
  for (const ns of [NS, UL]) {
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? [];
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    spawnSync('ip', ['netns', 'del', ns]);
  }
};

function probe(arg: string, env: Record<string, string>): { code: number; out: string } {
  const r = spawnSync(
    'ip',
    ['netns', 'exec', NS, process.execPath, '--import', 'tsx', path.resolve('src/bin/calico-node.ts'), arg],
    { encoding: 'utf8', env: { ...process.env, ...env } },
  );
  return { code: r.status ?? 1, out: (r.stdout + r.stderr).trim() };
}

describe('calico-node run with the agent', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tp-bin-'));
  before(() => {
    cleanup();
    ip('netns', 'add', UL);
    ip('netns', 'add', NS);
    ip('-n', NS, 'link', 'set', 'lo', 'up');
    ip('-n', NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'tpbinul', 'netns', UL);
    ip('-n', UL, 'link', 'set', 'tpbinul', 'up');
    ip('-n', NS, 'addr', 'add', '172.31.3.11/24', 'dev', 'eth0');
    ip('-n', NS, 'link', 'set', 'eth0', 'up');
  });
  after(() => {
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('programs the table, answers the probes, and keeps the table after SIGTERM', async () => {
    const env = {
      DATASTORE_TYPE: 'sqlite',
      SQLITE_PATH: path.join(dir, 'calico.db'),
      NODENAME: 'tp-bin',
      CALICO_NODENAME_FILE: path.join(dir, 'nodename'),
      CALICO_MTU_FILE: path.join(dir, 'mtu'),
      CALICO_NETWORKING_BACKEND: 'none',
      CALICO_IPV4POOL_CIDR: '10.72.0.0/16',
      CALICO_ENDPOINT_STATUS_DIR: path.join(dir, 'endpoint-status'),
      FELIX_DEFAULTENDPOINTTOHOSTACTION: 'Accept',
      FELIX_HEALTHENABLED: 'true', // as calico.yaml sets it (Felix's default is off)
    };
    const before = probe('-felix-live', env);
    assert.equal(before.code, 1);
    assert.match(before.out, /not live: health endpoint localhost:9099/);

    const child = spawn(
      'ip',
      ['netns', 'exec', NS, process.execPath, '--import', 'tsx', path.resolve('src/bin/calico-node.ts'), 'run'],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const deadline = Date.now() + 20000;
      let ready = probe('-felix-ready', env);
      while (ready.code !== 0) {
        if (Date.now() > deadline) throw new Error(`never ready: ${ready.out}; calico-node said: ${stderr}`);
        await new Promise((r) => setTimeout(r, 200));
        ready = probe('-felix-ready', env);
      }
      assert.match(ready.out, /is ready: in sync/);
      assert.equal(probe('-felix-live', env).code, 0);
      const table = spawnSync('ip', ['netns', 'exec', NS, 'nft', 'list', 'chain', 'inet', 'calico', 'filter-FORWARD'], {
        encoding: 'utf8',
      });
      assert.equal(table.status, 0, table.stderr);
      assert.match(table.stdout, /hook forward/);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, stderr);
      const still = spawnSync('ip', ['netns', 'exec', NS, 'nft', 'list', 'table', 'inet', 'calico'], {
        encoding: 'utf8',
      });
      assert.equal(still.status, 0, 'the table stays programmed after the agent exits');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
