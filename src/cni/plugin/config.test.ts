import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mtuSetting, parseCalicoConfig, requireNodenameFile, resolveMtu, resolveNodename } from './config.js';
import type { NetConf } from '../skel/types.js';

const base: NetConf = { cniVersion: '1.0.0', name: 'net', type: 'calico', ipam: { type: 'calico-ipam' } };

test("defaults are Calico's", () => {
  const c = parseCalicoConfig(base, {});
  assert.equal(c.mtu, 0);
  assert.equal(c.numQueues, 1);
  assert.equal(c.nodenameFile, '/var/lib/calico/nodename');
  assert.equal(c.mtuFile, '/var/lib/calico/mtu');
  assert.equal(c.endpointStatusDir, '/var/run/calico/endpoint-status');
  assert.equal(c.policySetupTimeoutSeconds, 0);
  assert.equal(c.ipAddrsNoIpam, false);
  assert.equal(c.floatingIps, false);
});

test('bad values are refused naming the field', () => {
  assert.throws(() => parseCalicoConfig({ ...base, mtu: 'big' }, {}), /mtu: must be an integer/);
  assert.throws(() => parseCalicoConfig({ ...base, mtu: -1 }, {}), /mtu: must be between/);
  assert.throws(
    () => parseCalicoConfig({ ...base, policy_setup_timeout_seconds: -2 }, {}),
    /policy_setup_timeout_seconds: must not be negative/,
  );
  assert.throws(() => parseCalicoConfig({ ...base, device_type: 'macvlan' }, {}), /device_type: unsupported/);
  // netkit is accepted, as Calico, and falls back to a veth pair.
  assert.equal(parseCalicoConfig({ ...base, device_type: 'netkit' }, {}).deviceType, 'veth');
  assert.throws(() => parseCalicoConfig({ ...base, ipam: {} }, {}), /ipam.type: required/);
  assert.throws(
    () => parseCalicoConfig({ ...base, feature_control: { floating_ips: 'yes' } }, {}),
    /feature_control.floating_ips: must be true or false/,
  );
  assert.throws(() => parseCalicoConfig({ ...base, kubernetes: 3 }, {}), /kubernetes: must be an object/);
});

test('node name precedence: netconf, then file, then hostname field, then OS hostname', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tc-conf-'));
  try {
    const file = path.join(dir, 'nodename');
    assert.throws(
      () => requireNodenameFile(parseCalicoConfig({ ...base, nodename_file: file }, {})),
      /check that the calico\/node container is running/,
    );
    requireNodenameFile(parseCalicoConfig({ ...base, nodename_file: file, nodename_file_optional: true }, {}));
    writeFileSync(file, 'from-file\n');
    assert.equal(
      resolveNodename(parseCalicoConfig({ ...base, nodename: 'explicit', nodename_file: file }, {})),
      'explicit',
    );
    assert.equal(resolveNodename(parseCalicoConfig({ ...base, nodename_file: file }, {})), 'from-file');
    assert.equal(resolveNodename(parseCalicoConfig(base, { CALICO_NODENAME_FILE: file })), 'from-file');
    const missing = path.join(dir, 'none');
    assert.equal(
      resolveNodename(parseCalicoConfig({ ...base, nodename_file: missing, hostname: 'legacy' }, {})),
      'legacy',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('MTU: config, else the MTU file, else 1500; require_mtu_file makes a missing file an error', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tc-conf-'));
  try {
    const file = path.join(dir, 'mtu');
    const env = { CALICO_MTU_FILE: file };
    assert.equal(resolveMtu(parseCalicoConfig({ ...base, mtu: 1410 }, env)), 1410);
    assert.equal(resolveMtu(parseCalicoConfig(base, env)), 1500);
    assert.equal(mtuSetting(parseCalicoConfig(base, env)), undefined, 'nothing set: the result names no MTU');
    assert.throws(() => resolveMtu(parseCalicoConfig({ ...base, require_mtu_file: true }, env)), /required/);
    writeFileSync(file, '1440\n');
    assert.equal(resolveMtu(parseCalicoConfig(base, env)), 1440);
    writeFileSync(file, 'x');
    assert.throws(() => resolveMtu(parseCalicoConfig(base, env)), /not a positive integer/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
