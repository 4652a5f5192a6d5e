import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autodetectAddress, parseAutodetectMethod, type HostInterface } from './autodetect.js';

const ifaces: HostInterface[] = [
  { name: 'lo', addresses: [{ ip: '127.0.0.1', prefix: 8, family: 4, scope: 'host' }] },
  { name: 'docker0', addresses: [{ ip: '172.17.0.1', prefix: 16, family: 4 }] },
  { name: 'cali1234', addresses: [{ ip: '10.0.9.9', prefix: 32, family: 4 }] },
  {
    name: 'eth0',
    addresses: [
      { ip: '10.0.0.5', prefix: 24, family: 4 },
      { ip: 'fe80::1', prefix: 64, family: 6, scope: 'link' },
      { ip: 'fd00::5', prefix: 64, family: 6 },
    ],
  },
  { name: 'ens5', addresses: [{ ip: '192.0.2.5', prefix: 24, family: 4 }] },
];

const detect = (m: string, family: 4 | 6 = 4, extra = {}): string | undefined =>
  autodetectAddress(parseAutodetectMethod(m, 'IP_AUTODETECTION_METHOD'), family, { interfaces: ifaces, ...extra });

test('first-found skips Calico’s excluded interfaces and link-local addresses', () => {
  assert.equal(detect('first-found'), '10.0.0.5/24');
  assert.equal(detect(''), '10.0.0.5/24');
  assert.equal(detect('first-found', 6), 'fd00::5/64');
});

test('interface, skip-interface, cidr, can-reach and kubernetes-internal-ip', () => {
  assert.equal(detect('interface=ens.*'), '192.0.2.5/24');
  assert.equal(detect('interface=nope,ens5'), '192.0.2.5/24');
  assert.equal(detect('skip-interface=eth.*'), '192.0.2.5/24');
  assert.equal(detect('cidr=192.0.2.0/24'), '192.0.2.5/24');
  assert.equal(detect('can-reach=8.8.8.8', 4, { canReachSource: '10.0.0.5' }), '10.0.0.5/24');
  assert.equal(detect('kubernetes-internal-ip', 4, { internalIPs: ['fd00::5', '192.0.2.5'] }), '192.0.2.5/24');
  assert.equal(detect('interface=wlan.*'), undefined);
});

test('bad methods name the variable and the reason', () => {
  assert.throws(
    () => parseAutodetectMethod('bogus=1', 'IP_AUTODETECTION_METHOD'),
    /IP_AUTODETECTION_METHOD: unknown autodetection method "bogus"/,
  );
  assert.throws(
    () => parseAutodetectMethod('cidr=10.0.0.0/33', 'IP6_AUTODETECTION_METHOD'),
    /IP6_AUTODETECTION_METHOD: "10.0.0.0\/33" is not a CIDR/,
  );
  assert.throws(() => parseAutodetectMethod('interface=(', 'IP_AUTODETECTION_METHOD'), /bad regular expression/);
});
