import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpAddrJson } from './interface-monitor.js';

test('`ip -j addr show` output becomes interfaces with their addresses, sorted by name', () => {
  const json = JSON.stringify([
    {
      ifindex: 2,
      ifname: 'eth0',
      flags: ['BROADCAST', 'UP'],
      addr_info: [
        { family: 'inet6', local: 'fe80::1', prefixlen: 64 },
        { family: 'inet', local: '192.0.2.10', prefixlen: 24 },
      ],
    },
    { ifindex: 1, ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
    { ifindex: 3, ifname: 'dummy0' },
    { ifindex: 4 },
  ]);
  assert.deepEqual(parseIpAddrJson(json), [
    { name: 'dummy0', addresses: [] },
    { name: 'eth0', addresses: ['192.0.2.10', 'fe80::1'] },
    { name: 'lo', addresses: ['127.0.0.1'] },
  ]);
});
