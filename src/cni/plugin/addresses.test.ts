import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANNOTATION, type PodInfo } from '../k8s/pod.js';
import { parseCalicoConfig } from './config.js';
import { addressAnnotation, floatingIpNats, ipamConfigFor, lookupFromPodInfo, podMac } from './addresses.js';

const info = (annotations: Record<string, string>, namespaceAnnotations: Record<string, string> = {}): PodInfo => ({
  labels: {},
  annotations,
  namespaceAnnotations,
  namespaceLabels: { team: 'blue' },
  serviceAccountName: 'default',
  ports: [],
});
const conf = (extra: Record<string, unknown> = {}) =>
  parseCalicoConfig({ cniVersion: '1.0.0', name: 'n', type: 'calico', ipam: { type: 'calico-ipam' }, ...extra }, {});

test('pool annotations: the pod wins over its namespace; written as ipam.ipv4_pools / ipv6_pools', () => {
  const c = ipamConfigFor(
    conf(),
    info(
      { [ANNOTATION.ipv4pools]: '["pod-pool"]' },
      { [ANNOTATION.ipv4pools]: '["ns-pool"]', [ANNOTATION.ipv6pools]: '["ns6"]' },
    ),
  );
  assert.deepEqual(c.ipam, { type: 'calico-ipam', ipv4_pools: ['pod-pool'], ipv6_pools: ['ns6'] });
});

test('ipFamilies sets assign_ipv4 / assign_ipv6; an unknown family is refused', () => {
  const c = ipamConfigFor(conf(), info({ [ANNOTATION.ipFamilies]: '["IPv6"]' }));
  assert.equal(c.ipam?.assign_ipv4, 'false');
  assert.equal(c.ipam?.assign_ipv6, 'true');
  assert.throws(() => ipamConfigFor(conf(), info({ [ANNOTATION.ipFamilies]: '["IPv5"]' })), /unknown family "IPv5"/);
});

test('annotations are left alone for another IPAM plugin', () => {
  const c = ipamConfigFor(conf({ ipam: { type: 'host-local' } }), info({ [ANNOTATION.ipv4pools]: '["p"]' }));
  assert.deepEqual(c.ipam, { type: 'host-local' });
});

test('address annotations: at most one per family, real addresses, not empty', () => {
  assert.deepEqual(addressAnnotation(info({ [ANNOTATION.ipAddrs]: '["10.0.0.1","fd00::1"]' }), ANNOTATION.ipAddrs), [
    '10.0.0.1',
    'fd00::1',
  ]);
  assert.throws(
    () => addressAnnotation(info({ [ANNOTATION.ipAddrs]: '["10.0.0.1","10.0.0.2"]' }), ANNOTATION.ipAddrs),
    /more than one IPv4/,
  );
  assert.throws(
    () => addressAnnotation(info({ [ANNOTATION.ipAddrs]: '["10.0.0.300"]' }), ANNOTATION.ipAddrs),
    /not an IP address/,
  );
  assert.throws(() => addressAnnotation(info({ [ANNOTATION.ipAddrs]: '[]' }), ANNOTATION.ipAddrs), /the list is empty/);
  assert.equal(addressAnnotation(info({}), ANNOTATION.ipAddrs), undefined);
});

test('floating IPs pair with the pod address of their family; MAC from hwAddr or random', () => {
  const i = info({ [ANNOTATION.floatingIPs]: '["1.2.3.4"]' });
  assert.throws(() => floatingIpNats(conf(), i, ['10.0.0.5/32']), /requested feature is not enabled: floating_ips$/);
  assert.deepEqual(
    floatingIpNats(conf({ feature_control: { floating_ips: true } }), i, ['fd00::5/128', '10.0.0.5/32']),
    [{ internalIP: '10.0.0.5', externalIP: '1.2.3.4' }],
  );
  assert.throws(
    () => floatingIpNats(conf({ feature_control: { floating_ips: true } }), i, ['fd00::5/128']),
    /no address of its family/,
  );
  assert.equal(podMac(info({ [ANNOTATION.hwAddr]: '02:AA:bb:cc:dd:ee' })), '02:aa:bb:cc:dd:ee');
  assert.match(podMac(undefined), /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  assert.equal(parseInt(podMac(undefined).slice(0, 2), 16) & 0x03, 0x02, 'unicast, locally administered');
});

test('calico-ipam in the same ADD is answered from the pod and namespace the ADD read', async () => {
  const lookup = lookupFromPodInfo(info({ [ANNOTATION.ipAddrs]: '["10.0.0.9"]' }, { [ANNOTATION.ipv4pools]: '["p"]' }));
  assert.deepEqual(await lookup.pod('ns', 'pod'), { annotations: { [ANNOTATION.ipAddrs]: '["10.0.0.9"]' } });
  assert.deepEqual(await lookup.namespace('ns'), {
    labels: { team: 'blue' },
    annotations: { [ANNOTATION.ipv4pools]: '["p"]' },
  });
});
