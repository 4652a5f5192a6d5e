// calico-node install-cni: the plugin copied (as calico and calico-ipam) into CNI_BIN_DIR still finds its packages
// and serves a real ADD/DEL in-process from there; the conflist equals the shared template rendered with the same
// settings; the kubeconfig is written 0600; --dry-run writes nothing; re-running replaces files atomically.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { installCniMain } from '../../../src/cni/install/index.js';
import { CALICO_CONFLIST_TEMPLATE, renderCniTemplate, templateValues } from '../../../src/cni/install/template.js';
import { SqliteDatastore } from '../../../src/datastore/sqlite.js';
import { putNode, putPool } from '../../support/ipam.js';
import { CniWorld } from './world.js';

let w: CniWorld;
let env: Record<string, string>;

before(async () => {
  w = await CniWorld.create('in');
  const ds = await SqliteDatastore.open(w.sqlitePath, { timeoutMs: 5000 });
  await putPool(ds, 'tc-v4', '10.130.0.0/16', { blockSize: 26 });
  await putNode(ds, 'tc-node-1');
  await ds.close();
  const sa = path.join(w.dir, 'sa');
  mkdirSync(sa);
  writeFileSync(path.join(sa, 'token'), 'tc-sa-token\n');
  writeFileSync(path.join(sa, 'ca.crt'), '-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n');
  env = {
    CNI_BIN_DIR: path.join(w.dir, 'opt-cni-bin'),
    CNI_NET_DIR: path.join(w.dir, 'etc-cni-net.d'),
    CALICO_CNI_PLUGIN_SOURCE: path.join(w.binDir, 'calico'),
    KUBERNETES_NODE_NAME: 'tc-node-1',
    DATASTORE_TYPE: 'sqlite',
    SQLITE_PATH: w.sqlitePath,
    CALICO_NODENAME_FILE: w.nodenameFile,
    CNI_MTU: '1420',
    KUBERNETES_SERVICE_HOST: '10.96.0.1',
    KUBERNETES_SERVICE_PORT: '443',
    CALICO_SERVICEACCOUNT_DIR: sa,
  };
});
after(async () => {
  await w?.destroy();
});

async function install(args: string[] = []) {
  let out = '';
  let err = '';
  const code = await installCniMain(args, { env, out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

test('--dry-run prints the conflist and kubeconfig and writes nothing', async () => {
  const r = await install(['--dry-run']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /would install .* -> .*opt-cni-bin\/calico-ipam/);
  assert.match(r.out, /"type": "calico"/);
  assert.match(r.out, /token: tc-sa-token/);
  assert.equal(existsSync(env.CNI_BIN_DIR!), false);
  assert.equal(existsSync(env.CNI_NET_DIR!), false);
});

test('install writes the plugins, the conflist from the template and a 0600 kubeconfig; re-install is atomic', async () => {
  const r = await install();
  assert.equal(r.code, 0, r.err);
  for (const name of ['calico', 'calico-ipam']) {
    const st = statSync(path.join(env.CNI_BIN_DIR!, name));
    assert.equal(st.mode & 0o777, 0o755, name);
  }
  const kubeconfigPath = path.join(env.CNI_NET_DIR!, 'calico-kubeconfig');
  assert.equal(statSync(kubeconfigPath).mode & 0o777, 0o600);
  const kc = readFileSync(kubeconfigPath, 'utf8');
  assert.match(kc, /server: https:\/\/10\.96\.0\.1:443/);
  assert.match(kc, /certificate-authority-data: "/);
  assert.match(kc, /current-context: calico-context/);
  const conflist = readFileSync(path.join(env.CNI_NET_DIR!, '10-calico.conflist'), 'utf8');
  const expected = renderCniTemplate(
    CALICO_CONFLIST_TEMPLATE,
    templateValues({
      nodeName: 'tc-node-1',
      datastoreType: 'sqlite',
      sqlitePath: w.sqlitePath,
      nodenameFile: w.nodenameFile,
      mtu: 1420,
      kubeconfigPath,
      kubernetesServiceHost: '10.96.0.1',
      kubernetesServicePort: '443',
      serviceAccountToken: 'tc-sa-token',
    }),
  );
  assert.equal(conflist, expected);
  const again = await install();
  assert.equal(again.code, 0, again.err);
  assert.deepEqual(
    readdirSync(env.CNI_NET_DIR!).filter((f) => f.includes('.tmp')),
    [],
    'no temporary files left',
  );
});

test('the installed plugin serves ADD and DEL in-process from CNI_BIN_DIR (finds its packages)', async () => {
  const installed = path.join(env.CNI_BIN_DIR!, 'calico');
  const version = await w.run({ command: 'VERSION', config: {} }, installed);
  assert.equal(version.code, 0, version.stderr);
  const plugin = JSON.parse(readFileSync(path.join(env.CNI_NET_DIR!, '10-calico.conflist'), 'utf8')).plugins[0];
  // No Kubernetes API in this test: drop the kubeconfig (the pod is addressed as a plain CNI workload).
  const config = {
    ...plugin,
    name: 'k8s-pod-network',
    cniVersion: '1.0.0',
    kubernetes: {},
    agent_socket: w.socketPath,
  };
  const pod = w.addPod();
  const call = { containerId: 'installed0123', netns: pod.netns, ifName: 'eth0' };
  const add = await w.run({ ...call, command: 'ADD', config, env: { CNI_PATH: env.CNI_BIN_DIR! } }, installed);
  assert.equal(add.code, 0, `${add.stdout} ${add.stderr}`);
  assert.match(add.json.ips[0].address, /^10\.130\./);
  assert.equal(add.json.interfaces[1].mtu, 1420);
  const del = await w.run({ ...call, command: 'DEL', config, env: { CNI_PATH: env.CNI_BIN_DIR! } }, installed);
  assert.equal(del.code, 0, `${del.stdout} ${del.stderr}`);
  assert.deepEqual(w.hostVeths(), []);
  w.removePod(pod.name);
});
