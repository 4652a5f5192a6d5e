import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDatastore } from '../../datastore/memory.js';
import { handleKey } from '../../datastore/keys.js';
import { configuredIpamRoutes, firstAddRoutes, repeatedAddRoutes } from './result-routes.js';

const calicoIpamResult = {
  ips: [{ address: '10.244.7.5/26' }, { address: 'fd00:7::5/122' }],
  routes: [{ dst: '10.244.7.5/26' }, { dst: 'fd00:7::5/122' }],
};

test("a first ADD's result routes are the IPAM result's; none when an annotation chose the addresses", () => {
  assert.deepEqual(firstAddRoutes('ipam', [calicoIpamResult]), calicoIpamResult.routes);
  assert.deepEqual(firstAddRoutes('ipam', [{ ips: [{ address: '10.1.0.2/24' }] }]), [], 'an IPAM result without');
  assert.deepEqual(firstAddRoutes('ipAddrs', [calicoIpamResult]), []);
  assert.deepEqual(firstAddRoutes('ipAddrsNoIpam', []), []);
});

test("another IPAM plugin's routes are its ipam.routes, with Go's address text; unusable entries left out", () => {
  const config = {
    cniVersion: '1.0.0',
    name: 'n',
    type: 'calico',
    ipam: {
      type: 'host-local',
      routes: [
        { dst: '0.0.0.0/0' },
        { dst: '10.200.1.5/16', gw: '10.124.0.1' },
        { dst: 'FD00:0::/64', gw: 'FE80::1' },
        { dst: '10.1.2.3' },
        { gw: '10.0.0.1' },
        { dst: 'nonsense/8' },
      ],
    },
  };
  assert.deepEqual(configuredIpamRoutes(config), [
    { dst: '0.0.0.0/0' },
    { dst: '10.200.1.5/16', gw: '10.124.0.1' },
    { dst: 'fd00::/64', gw: 'fe80::1' },
  ]);
  assert.deepEqual(configuredIpamRoutes({ cniVersion: '1.0.0', name: 'n', type: 'calico' }), []);
});

test('a repeated ADD rebuilds the routes: calico-ipam from its handle, others from config, annotations none', async () => {
  const ds = new MemoryDatastore();
  try {
    await ds.put(handleKey('net.c1'), JSON.stringify({ block: { '10.244.7.0/26': 1, 'fd00:7::/122': 1 } }));
    const base = {
      ipamType: 'calico-ipam',
      config: { cniVersion: '1.0.0', name: 'net', type: 'calico', ipam: { type: 'calico-ipam' } },
      ds,
      handleId: 'net.c1',
      addresses: ['10.244.7.5/32', 'fd00:7::5/128'],
    };
    assert.deepEqual(await repeatedAddRoutes({ ...base, source: 'ipam' }), calicoIpamResult.routes);
    assert.deepEqual(await repeatedAddRoutes({ ...base, source: 'ipAddrs' }), []);
    assert.deepEqual(await repeatedAddRoutes({ ...base, source: 'ipAddrsNoIpam' }), []);
    const hostLocal = {
      ...base,
      ipamType: 'host-local',
      config: { ...base.config, ipam: { type: 'host-local', routes: [{ dst: '10.200.0.0/16' }] } },
    };
    assert.deepEqual(await repeatedAddRoutes({ ...hostLocal, source: 'ipam' }), [{ dst: '10.200.0.0/16' }]);
  } finally {
    await ds.close();
  }
});
