// A real container runtime calls the plugin: podman 4 (runc, CNI backend) runs inside the node namespace with its
// configuration and storage in a temporary directory, on a network whose conflist uses our calico plugin with
// calico-ipam. Two containers reach each other by IP; `podman rm` makes podman call DEL and everything is released.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SqliteDatastore } from '../../../src/datastore/sqlite.js';
import { handleKey, resourcePrefix } from '../../../src/datastore/keys.js';
import { putNode, putPool } from '../../support/ipam.js';
import { CniWorld } from './world.js';

let w: CniWorld;
let ds: SqliteDatastore;
let confFile: string;
let storageFile: string;
const sandboxes: string[] = [];
const containers: string[] = [];

function podman(args: string[], timeoutMs = 120_000): { status: number; stdout: string; stderr: string; cmd: string } {
  const argv = [`--net=/var/run/netns/${w.nodeNs}`, 'podman', ...args];
  const r = spawnSync('nsenter', argv, {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: {
      ...process.env,
      CONTAINERS_CONF: confFile,
      CONTAINERS_STORAGE_CONF: storageFile,
      CALICO_CNI_HANDOFF: 'never',
    },
  });
  return {
    status: r.status ?? 1,
    stdout: r.stdout ?? '',
    stderr: (r.stderr ?? '') + (r.error ? String(r.error) : ''),
    cmd: `CONTAINERS_CONF=${confFile} CONTAINERS_STORAGE_CONF=${storageFile} nsenter ${argv.join(' ')}`,
  };
}

function mustPodman(args: string[]): string {
  const r = podman(args);
  assert.equal(r.status, 0, `podman failed.\ncommand: ${r.cmd}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  w = await CniWorld.create('pm');
  ds = await SqliteDatastore.open(w.sqlitePath, { timeoutMs: 5000 });
  await putPool(ds, 'tc-v4', '10.127.0.0/16', { blockSize: 26 });
  await putNode(ds, 'tc-node-1');

  const base = path.join(w.dir, 'podman');
  const netDir = path.join(base, 'net.d');
  for (const d of ['net.d', 'tmp', 'graph', 'run', 'rootfs/bin']) mkdirSync(path.join(base, d), { recursive: true });
  confFile = path.join(base, 'containers.conf');
  storageFile = path.join(base, 'storage.conf');
  writeFileSync(
    confFile,
    [
      '[containers]',
      'netns = "private"',
      'default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      'runtime = "runc"',
      `tmp_dir = "${path.join(base, 'tmp')}"`,
      '[network]',
      'network_backend = "cni"',
      `network_config_dir = "${netDir}"`,
      `cni_plugin_dirs = ["${w.binDir}", "/usr/lib/cni"]`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    storageFile,
    [
      '[storage]',
      'driver = "overlay"',
      `graphroot = "${path.join(base, 'graph')}"`,
      `runroot = "${path.join(base, 'run')}"`,
      '',
    ].join('\n'),
  );
  const plugin = w.netconf({ ipam: { type: 'calico-ipam' } });
  delete plugin.name;
  delete plugin.cniVersion;
  writeFileSync(
    path.join(netDir, 'tc-net.conflist'),
    JSON.stringify({ cniVersion: '1.0.0', name: 'tc-net', plugins: [plugin] }, null, 2),
  );
  // A busybox image made here from Debian's busybox-static.
  const rootfs = path.join(base, 'rootfs');
  copyFileSync('/bin/busybox', path.join(rootfs, 'bin/busybox'));
  chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
  const applets = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', path.join(rootfs, 'bin', a));
  const tar = spawnSync(
    'sh',
    ['-c', `tar -C '${rootfs}' -c . | nsenter --net=/var/run/netns/${w.nodeNs} podman import - localhost/tcbb:test`],
    {
      encoding: 'utf8',
      env: { ...process.env, CONTAINERS_CONF: confFile, CONTAINERS_STORAGE_CONF: storageFile },
    },
  );
  assert.equal(tar.status, 0, `podman import failed: ${tar.stderr}`);
});

after(async () => {
  if (w) {
    for (const c of containers) podman(['rm', '-f', '-t', '0', c], 60_000);
    podman(['rmi', '-f', 'localhost/tcbb:test'], 60_000);
    // Storage is in the temp dir; unmount any overlay layers podman left before removing it.
    spawnSync('sh', ['-c', `grep -o ' ${w.dir}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
    for (const s of sandboxes) if (existsSync(s)) spawnSync('ip', ['netns', 'del', path.basename(s)]);
  }
  await ds?.close();
  await w?.destroy();
});

async function wepFor(containerIdPrefix: string): Promise<any | undefined> {
  const items = (await ds.list(resourcePrefix('WorkloadEndpoint'))).items.map((kv) => JSON.parse(kv.value));
  return items.find((x) => String(x.spec.containerID).startsWith(containerIdPrefix));
}

test('podman run: containers get calico networking, reach each other, and podman rm releases everything', async () => {
  const names = [`tcpm-a-${process.pid}`, `tcpm-b-${process.pid}`];
  const ids: string[] = [];
  for (const name of names) {
    containers.push(name);
    const id = mustPodman([
      'run',
      '-d',
      '--name',
      name,
      '--network',
      'tc-net',
      '--cap-add',
      'NET_RAW',
      'localhost/tcbb:test',
      'sleep',
      '600',
    ]).trim();
    ids.push(id);
    const sandbox = mustPodman(['inspect', '-f', '{{.NetworkSettings.SandboxKey}}', name]).trim();
    if (sandbox) sandboxes.push(sandbox);
  }
  const weps = [await wepFor(ids[0]!), await wepFor(ids[1]!)];
  for (const [i, wep] of weps.entries()) {
    assert.ok(wep, `a WorkloadEndpoint for container ${names[i]}`);
    assert.equal(wep.spec.orchestrator, 'cni');
    assert.match(wep.spec.ipNetworks[0], /^10\.127\.\d+\.\d+\/32$/);
  }
  const ipB = weps[1].spec.ipNetworks[0].split('/')[0];
  const ping = podman(['exec', names[0]!, 'ping', '-c1', '-W3', ipB]);
  assert.equal(ping.status, 0, `container A -> B (${ipB}): ${ping.stdout}${ping.stderr}`);
  assert.equal(w.hostVeths().length, 2);

  for (const [i, name] of names.entries()) {
    mustPodman(['rm', '-f', '-t', '0', name]);
    assert.equal(await wepFor(ids[i]!), undefined, `endpoint of ${name} deleted`);
    assert.equal(await ds.get(handleKey(`tc-net.${ids[i]}`)), undefined, `addresses of ${name} released`);
  }
  assert.deepEqual(w.hostVeths(), []);
  assert.deepEqual(w.hostRoutes(), []);
});
