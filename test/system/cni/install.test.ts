// calico-node install-cni: the plugin copied (as calico and calico-ipam) into CNI_BIN_DIR still finds its packages
// and serves a real ADD/DEL in-process from there; the conflist equals the shared template rendered with the same
// settings; the kubeconfig is written 0600; --dry-run writes nothing; re-running replaces files atomically; etcd TLS
// files are copied into calico-tls and named in the conflist; a VXLAN-only cluster's conflist chains bandwidth and
// works; with SLEEP=true it keeps running and re-writes what a changed secret, token or template changes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { installCniMain } from '../../../src/cni/install/index.js';
import {
  CALICO_CONFLIST_TEMPLATE,
  CALICO_VXLAN_CONFLIST_TEMPLATE,
  renderCniTemplate,
  templateValues,
} from '../../../src/cni/install/template.js';
import { SqliteDatastore } from '../../../src/datastore/sqlite.js';
import { putNode, putPool } from '../../support/ipam.js';
import { CniWorld, inNs, runConflist } from './world.js';

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
    TLS_ASSETS_DIR: path.join(w.dir, 'no-secrets'),
    SLEEP: 'false',
  };
});
after(async () => {
  await w?.destroy();
});

async function install(args: string[] = [], extra: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const code = await installCniMain(args, {
    env: { ...env, ...extra },
    out: (t) => (out += t),
    err: (t) => (err += t),
  });
  return { code, out, err };
}

/** The installed conflist's calico plugin, pointed at this world's files (no Kubernetes API here). */
function installedCalico(netDir: string): Record<string, unknown> {
  const conf = JSON.parse(readFileSync(path.join(netDir, '10-calico.conflist'), 'utf8'));
  return { ...conf.plugins[0], kubernetes: {}, ipam_lock_file: path.join(w.dir, 'ipam.lock') };
}

const waitFor = async (what: string, ok: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

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

test('etcd TLS files from TLS_ASSETS_DIR go to <net dir>/calico-tls (modes kept) and their paths into the conflist', async () => {
  const secrets = path.join(w.dir, 'secrets');
  mkdirSync(secrets, { recursive: true });
  writeFileSync(path.join(secrets, 'etcd-ca'), 'CA\n');
  writeFileSync(path.join(secrets, 'etcd-cert'), 'CERT\n');
  writeFileSync(path.join(secrets, 'etcd-key'), 'KEY\n');
  chmodSync(path.join(secrets, 'etcd-key'), 0o600);
  chmodSync(path.join(secrets, 'etcd-ca'), 0o644);
  const netDir = path.join(w.dir, 'tls-net.d');
  const tls = path.join(netDir, 'calico-tls');
  mkdirSync(tls, { recursive: true });
  writeFileSync(path.join(tls, 'stale'), 'from an older secret');
  const dry = await install(['--dry-run'], { TLS_ASSETS_DIR: secrets, CNI_NET_DIR: netDir });
  assert.match(dry.out, new RegExp(`would copy ${secrets}/etcd-key -> ${tls}/etcd-key`));
  assert.equal(existsSync(path.join(tls, 'etcd-key')), false, 'dry run copies nothing');

  const r = await install([], { TLS_ASSETS_DIR: secrets, CNI_NET_DIR: netDir, DATASTORE_TYPE: 'etcdv3' });
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(readdirSync(tls).sort(), ['etcd-ca', 'etcd-cert', 'etcd-key'], 'stale file gone, nothing else');
  assert.equal(readFileSync(path.join(tls, 'etcd-cert'), 'utf8'), 'CERT\n');
  assert.equal(statSync(path.join(tls, 'etcd-key')).mode & 0o777, 0o600);
  assert.equal(statSync(path.join(tls, 'etcd-ca')).mode & 0o777, 0o644);
  const calico = JSON.parse(readFileSync(path.join(netDir, '10-calico.conflist'), 'utf8')).plugins[0];
  assert.equal(calico.etcd_ca_cert_file, path.join(tls, 'etcd-ca'));
  assert.equal(calico.etcd_cert_file, path.join(tls, 'etcd-cert'));
  assert.equal(calico.etcd_key_file, path.join(tls, 'etcd-key'));

  // A file missing from the secret: its path comes from CNI_CONF_ETCD_KEY instead (or stays empty).
  rmSync(path.join(secrets, 'etcd-key'));
  const partial = await install([], {
    TLS_ASSETS_DIR: secrets,
    CNI_NET_DIR: netDir,
    CNI_CONF_ETCD_KEY: '/etc/ssl/calico/key.pem',
  });
  assert.equal(partial.code, 0, partial.err);
  assert.match(partial.err, /no etcd-key in the TLS assets directory/);
  assert.deepEqual(readdirSync(tls).sort(), ['etcd-ca', 'etcd-cert']);
  const again = JSON.parse(readFileSync(path.join(netDir, '10-calico.conflist'), 'utf8')).plugins[0];
  assert.equal(again.etcd_key_file, '/etc/ssl/calico/key.pem');
  assert.equal(again.etcd_cert_file, path.join(tls, 'etcd-cert'));
});

test("a VXLAN-only cluster (CALICO_NETWORKING_BACKEND=vxlan) gets calico-vxlan.yaml's conflist, and it works", async () => {
  const netDir = path.join(w.dir, 'vxlan-net.d');
  const r = await install([], { CNI_NET_DIR: netDir, CALICO_NETWORKING_BACKEND: 'vxlan' });
  assert.equal(r.code, 0, r.err);
  const text = readFileSync(path.join(netDir, '10-calico.conflist'), 'utf8');
  const expected = renderCniTemplate(
    CALICO_VXLAN_CONFLIST_TEMPLATE,
    templateValues({
      nodeName: 'tc-node-1',
      datastoreType: 'sqlite',
      sqlitePath: w.sqlitePath,
      nodenameFile: w.nodenameFile,
      mtu: 1420,
      kubeconfigPath: path.join(netDir, 'calico-kubeconfig'),
      kubernetesServiceHost: '10.96.0.1',
      kubernetesServicePort: '443',
      serviceAccountToken: 'tc-sa-token',
    }),
  );
  assert.equal(text, expected);
  // Run the installed list as a runtime does: calico, portmap, bandwidth; the pod gets its rate limit.
  const conflist = JSON.parse(text);
  conflist.plugins[0] = installedCalico(netDir);
  const pod = w.addPod();
  const call = { containerId: 'vxlaninst01', netns: pod.netns, ifName: 'eth0' };
  const rc = { bandwidth: { ingressRate: 8_000_000, ingressBurst: 80_000 } };
  try {
    const add = await runConflist(w, conflist, 'ADD', call, rc);
    assert.deepEqual(
      add.failures.map((f) => f.stdout + f.stderr),
      [],
    );
    assert.match(inNs(w.nodeNs, ['tc', 'qdisc', 'show', 'dev', add.result.interfaces[0].name]), /tbf/);
    const del = await runConflist(w, conflist, 'DEL', call, rc, add.result);
    assert.deepEqual(
      del.failures.map((f) => f.stdout + f.stderr),
      [],
    );
    assert.deepEqual(w.hostVeths(), []);
  } finally {
    w.removePod(pod.name);
  }
});

test('SLEEP=true keeps running and re-writes the TLS files, kubeconfig and conflist when their inputs change', async () => {
  const secrets = path.join(w.dir, 'sleep-secrets');
  mkdirSync(secrets, { recursive: true });
  writeFileSync(path.join(secrets, 'etcd-cert'), 'CERT-1\n');
  const sa = path.join(w.dir, 'sleep-sa');
  mkdirSync(sa, { recursive: true });
  writeFileSync(path.join(sa, 'token'), 'token-1\n');
  const netDir = path.join(w.dir, 'sleep-net.d');
  const templateFile = path.join(w.dir, 'sleep-template.json');
  writeFileSync(templateFile, CALICO_CONFLIST_TEMPLATE);
  const ctl = new AbortController();
  let err = '';
  const running = installCniMain([], {
    env: {
      ...env,
      CNI_NET_DIR: netDir,
      TLS_ASSETS_DIR: secrets,
      CALICO_SERVICEACCOUNT_DIR: sa,
      CNI_NETWORK_CONFIG_FILE: templateFile,
      SLEEP: 'true',
      CALICO_INSTALL_CNI_RECHECK_MS: '100',
    },
    out: () => {},
    err: (t) => (err += t),
    signal: ctl.signal,
  });
  let exited = false;
  void running.then(() => (exited = true));
  try {
    const conf = path.join(netDir, '10-calico.conflist');
    const kubeconfig = path.join(netDir, 'calico-kubeconfig');
    const cert = path.join(netDir, 'calico-tls', 'etcd-cert');
    await waitFor('first install', () => existsSync(conf));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(exited, false, `install-cni must keep running with SLEEP=true: ${err}`);
    assert.equal(readFileSync(cert, 'utf8'), 'CERT-1\n');
    assert.match(readFileSync(kubeconfig, 'utf8'), /token: token-1/);

    // Another writer's kubeconfig (calico-node renews the CNI token into it) is left alone while the inputs stay.
    writeFileSync(kubeconfig, '# written by calico-node token renewal\n', { mode: 0o600 });
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(readFileSync(kubeconfig, 'utf8'), '# written by calico-node token renewal\n');

    // A renewed secret and token are installed again; a conflist someone deleted comes back.
    writeFileSync(path.join(secrets, 'etcd-cert'), 'CERT-2\n');
    writeFileSync(path.join(sa, 'token'), 'token-2\n');
    rmSync(conf);
    await waitFor('renewed cert', () => existsSync(cert) && readFileSync(cert, 'utf8') === 'CERT-2\n');
    await waitFor('renewed token', () => /token: token-2/.test(readFileSync(kubeconfig, 'utf8')));
    await waitFor('conflist re-written', () => existsSync(conf));
    assert.equal(JSON.parse(readFileSync(conf, 'utf8')).plugins[0].etcd_cert_file, cert);
    assert.match(err, /updated .*calico-tls\/etcd-cert/);

    // A template that no longer renders is reported and the installed conflist kept; a fixed one is installed.
    const good = readFileSync(conf, 'utf8');
    writeFileSync(templateFile, '{"type": "calico", "mtu": __CNI_MTU__,}');
    await waitFor('the broken template reported', () => /re-check failed.*valid JSON/.test(err));
    assert.equal(readFileSync(conf, 'utf8'), good);
    writeFileSync(templateFile, CALICO_CONFLIST_TEMPLATE.replace('"__LOG_LEVEL__"', '"debug"'));
    await waitFor('the new template installed', () => /"log_level": "debug"/.test(readFileSync(conf, 'utf8')));
  } finally {
    ctl.abort();
  }
  assert.equal(await running, 0);
  assert.equal(exited, true);
});

test("CNI_NODE_PATH names node on the installed plugins' first line (no /usr/bin/env); a relative one is refused", async () => {
  const binDir = path.join(w.dir, 'direct-bin');
  const r = await install([], { CNI_BIN_DIR: binDir, CNI_NODE_PATH: process.execPath });
  assert.equal(r.code, 0, r.err);
  for (const name of ['calico', 'calico-ipam']) {
    const first = readFileSync(path.join(binDir, name), 'utf8').split('\n')[0];
    assert.equal(first, `#!${process.execPath}`, name);
  }
  const version = await w.run({ command: 'VERSION', config: {} }, path.join(binDir, 'calico'));
  assert.equal(version.code, 0, version.stderr);
  assert.ok(version.json.supportedVersions.includes('1.0.0'));
  const bad = await install([], { CNI_BIN_DIR: path.join(w.dir, 'bad-bin'), CNI_NODE_PATH: 'node' });
  assert.equal(bad.code, 1);
  assert.match(bad.err, /CNI_NODE_PATH: must be an absolute path/);
  assert.equal(existsSync(path.join(w.dir, 'bad-bin')), false, 'nothing written');
});
