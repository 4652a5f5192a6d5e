import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertResult, renderedFor } from './result.js';

const full = {
  cniVersion: '1.1.0',
  interfaces: [
    { name: 'cali1' },
    { name: 'eth0', mac: '02:00:00:00:00:01', mtu: 1400, sandbox: '/ns', socketPath: '/s' },
  ],
  ips: [
    { address: '10.0.0.5/32', interface: 1, gateway: '169.254.1.1' },
    { address: '10.0.0.6/32', interface: 1 },
    { address: 'fd00::5/128', interface: 1 },
  ],
  routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1', mtu: 1300, table: 100, scope: 0 }, { dst: '::/0' }],
  dns: { nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] },
};

test('1.1.0 keeps interface mtu/socketPath and route mtu/table/scope', () => {
  const r = convertResult(full, '1.1.0') as any;
  assert.equal(r.interfaces[1].socketPath, '/s');
  assert.deepEqual(r.routes[0], { dst: '0.0.0.0/0', gw: '169.254.1.1', mtu: 1300, table: 100, scope: 0 });
  assert.equal('version' in r.ips[0], false);
});

test('0.4.0 adds ips[].version and drops fields 0.4.0 does not have', () => {
  const r = convertResult(full, '0.4.0') as any;
  assert.deepEqual(r.interfaces[1], { name: 'eth0', mac: '02:00:00:00:00:01', sandbox: '/ns' });
  assert.deepEqual(r.ips[0], { version: '4', interface: 1, address: '10.0.0.5/32', gateway: '169.254.1.1' });
  assert.equal(r.ips[2].version, '6');
  assert.deepEqual(r.routes[0], { dst: '0.0.0.0/0', gw: '169.254.1.1' });
  assert.deepEqual(r.dns, { nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] });
});

test('0.2.0 keeps the first address of each family with that family routes', () => {
  const r = convertResult(full, '0.2.0') as any;
  assert.deepEqual(r, {
    cniVersion: '0.2.0',
    ip4: { ip: '10.0.0.5/32', gateway: '169.254.1.1', routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }] },
    ip6: { ip: 'fd00::5/128', routes: [{ dst: '::/0' }] },
    dns: { nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] },
  });
});

test('conversions are stable: a result already in a shape converts to the same shape', () => {
  for (const v of ['0.2.0', '0.3.1', '0.4.0', '1.0.0']) {
    const once = convertResult(full, v);
    assert.deepEqual(convertResult(once, v), once, v);
  }
});

test('a result without addresses cannot be expressed in 0.2.0', () => {
  assert.throws(() => convertResult({ interfaces: [{ name: 'x' }] }, '0.2.0'), {
    code: 999,
    message: 'cannot convert: no valid IP addresses',
  });
});

test('a result rendered for a version elsewhere (the agent) passes through for that version only', () => {
  const agentResult = convertResult(
    { ips: [{ address: '10.0.0.5/32', interface: 1 }], interfaces: [{ name: 'cali1' }, { name: 'eth0' }] },
    '1.0.0',
  );
  const marked = renderedFor({ ...agentResult }, '1.0.0');
  assert.equal(convertResult(marked, '1.0.0'), marked, 'same object, not converted again');
  assert.deepEqual(convertResult(marked, '1.0.0'), agentResult, 'and what converting again would give');
  const older = convertResult(marked, '0.4.0');
  assert.equal(older.cniVersion, '0.4.0');
  assert.deepEqual((older.ips as { version: string }[])[0]!.version, '4');
});

// Debian's ptp (containernetworking-plugins 1.1.1+ds1-3+b5) with host-local (ipam.routes 0.0.0.0/0, 10.178.0.0/16 via 10.177.0.1, ::/0) printed this for
// cniVersion 0.2.0 on the test machine: each family's routes inside its ip4/ip6 object, a gw only where one was set.
const debianPtp020 = {
  cniVersion: '0.2.0',
  ip4: {
    ip: '10.177.0.2/24',
    gateway: '10.177.0.1',
    routes: [{ dst: '0.0.0.0/0' }, { dst: '10.178.0.0/16', gw: '10.177.0.1' }],
  },
  ip6: { ip: 'fd77::2/64', gateway: 'fd77::1', routes: [{ dst: '::/0' }] },
  dns: {},
};

test("0.2.0 output has the shape of Debian's ptp + host-local output, read back losslessly", () => {
  assert.deepEqual(convertResult(debianPtp020, '0.2.0'), debianPtp020);
  const modern = convertResult(debianPtp020, '1.0.0') as any;
  assert.deepEqual(modern.routes, [{ dst: '0.0.0.0/0' }, { dst: '10.178.0.0/16', gw: '10.177.0.1' }, { dst: '::/0' }]);
});

test("calico's result with calico-ipam routes (one <ip>/<block prefix> per address) in 0.2.0 and 1.0.0", () => {
  const calico = {
    interfaces: [{ name: 'cali1a2b3c4d5e6' }, { name: 'eth0', mac: '2a:11:22:33:44:55', sandbox: '/ns' }],
    ips: [
      { address: '10.244.7.5/32', interface: 1 },
      { address: 'fd00:7::5/128', interface: 1 },
    ],
    routes: [{ dst: '10.244.7.5/26' }, { dst: 'fd00:7::5/122' }],
    dns: {},
  };
  assert.deepEqual(convertResult(calico, '0.2.0'), {
    cniVersion: '0.2.0',
    ip4: { ip: '10.244.7.5/32', routes: [{ dst: '10.244.7.5/26' }] },
    ip6: { ip: 'fd00:7::5/128', routes: [{ dst: 'fd00:7::5/122' }] },
    dns: {},
  });
  assert.deepEqual((convertResult(calico, '1.0.0') as any).routes, calico.routes);
  assert.equal('routes' in convertResult({ ...calico, routes: [] }, '1.0.0'), false, 'no routes: key omitted');
});
