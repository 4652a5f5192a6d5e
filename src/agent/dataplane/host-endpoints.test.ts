import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LocalHostEndpoint } from '../calc/model.js';
import { interfaceExcludeMatcher, resolveHostEndpoints, type HostInterface } from './host-endpoints.js';

const none = { tiers: [], profileIds: [] };
const hep = (name: string, interfaceName: string, ips: string[] = []): LocalHostEndpoint => ({
  kind: 'host',
  id: `hep/${name}`,
  name,
  interfaceName,
  ipv4Nets: ips.filter((i) => !i.includes(':')).map((i) => `${i}/32`),
  ipv6Nets: ips.filter((i) => i.includes(':')).map((i) => `${i}/128`),
  ingress: none,
  egress: none,
  staged: { ingress: [], egress: [] },
  forward: { ingress: none, egress: none },
  preDnat: { ingress: none },
  untracked: { ingress: none, egress: none },
});
const settings = { interfacePrefixes: ['cali'], interfaceExclude: ['kube-ipvs0', '/^veth/'] };
const ifaces: HostInterface[] = [
  { name: 'lo', addresses: ['127.0.0.1', '::1'] },
  { name: 'eth0', addresses: ['192.0.2.10', '2001:db8::10'] },
  { name: 'eth1', addresses: ['198.51.100.7'] },
  { name: 'veth9', addresses: ['203.0.113.1'] },
  { name: 'cali12345678901', addresses: ['169.254.1.1'] },
];
const names = (r: ReturnType<typeof resolveHostEndpoints>): Record<string, string> =>
  Object.fromEntries([...r.byInterface].map(([i, ep]) => [i, `${ep.name}@${ep.interfaceName}`]));

describe('host endpoint resolution (Felix endpoint manager)', () => {
  test('an endpoint with only expectedIPs governs each interface carrying one of them', () => {
    const r = resolveHostEndpoints([hep('by-ip', '', ['198.51.100.7', '2001:db8::10'])], ifaces, settings);
    assert.deepEqual(names(r), { eth0: 'by-ip@', eth1: 'by-ip@' });
  });

  test('without the interface list, or with no interface holding the addresses, it governs nothing', () => {
    assert.deepEqual(names(resolveHostEndpoints([hep('by-ip', '', ['192.0.2.10'])], undefined, settings)), {});
    assert.deepEqual(names(resolveHostEndpoints([hep('by-ip', '', ['192.0.2.99'])], ifaces, settings)), {});
  });

  test('among endpoints matching one interface, by name or by address, the alphabetically earliest wins', () => {
    const named = hep('b-named', 'eth0');
    const early = hep('a-by-ip', '', ['192.0.2.10']);
    const late = hep('c-by-ip', '', ['192.0.2.10', '198.51.100.7']);
    assert.deepEqual(names(resolveHostEndpoints([named, early, late], ifaces, settings)), {
      eth0: 'a-by-ip@',
      eth1: 'c-by-ip@',
    });
    assert.deepEqual(names(resolveHostEndpoints([named, late], ifaces, settings)), {
      eth0: 'b-named@eth0',
      eth1: 'c-by-ip@',
    });
    assert.deepEqual(names(resolveHostEndpoints([hep('z', 'eth1'), hep('y', 'eth1')], undefined, settings)), {
      eth1: 'y@eth1',
    });
  });

  test('excluded interfaces (names and /regex/) and workload interfaces are never host endpoints', () => {
    const r = resolveHostEndpoints(
      [
        hep('ipvs', 'kube-ipvs0'),
        hep('veth-by-ip', '', ['203.0.113.1']),
        hep('veth-named', 'veth9'),
        hep('workload', '', ['169.254.1.1']),
      ],
      ifaces,
      settings,
    );
    assert.deepEqual(names(r), {});
  });

  test('a named endpoint is programmed while its interface is absent; the earliest `*` endpoint is the default', () => {
    const r = resolveHostEndpoints([hep('later', 'eth7'), hep('star-b', '*'), hep('star-a', '*')], ifaces, settings);
    assert.deepEqual(names(r), { eth7: 'later@eth7' });
    assert.equal(r.all?.name, 'star-a');
  });

  test('interfaceExclude matcher: exact names and unanchored regular expressions, as Go regexp matches', () => {
    const m = interfaceExcludeMatcher(['kube-ipvs0', '/^veth/', '/dummy/']);
    assert.deepEqual(['kube-ipvs0', 'kube-ipvs1', 'veth1', 'xveth', 'mydummy0', 'eth0'].filter(m), [
      'kube-ipvs0',
      'veth1',
      'mydummy0',
    ]);
  });
});
