import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { planRoutes, type HostFacts } from './route-plan.js';
import { renderNatRuleset } from './nat-ruleset.js';
import type { RoutingState } from './state.js';

const host = (over: Partial<HostFacts> = {}): HostFacts => ({
  parentInterface: 'eth0',
  underlayMtu: 1500,
  ipipSupported: false,
  links: new Set(['eth0', 'cali1']),
  ...over,
});

const state = (
  vxlanMode: 'Always' | 'CrossSubnet' | 'Never',
  ipipMode: 'Never' | 'Always' = 'Never',
): RoutingState => ({
  nodes: [
    {
      name: 'a',
      labels: {},
      ipv4Address: '10.0.1.1/24',
      vxlanTunnelAddr: '10.65.1.1',
      vxlanTunnelMAC: '66:cc:00:00:00:01',
      ipipTunnelAddr: '10.65.1.1',
    },
    {
      name: 'b',
      labels: {},
      ipv4Address: '10.0.1.2/24',
      vxlanTunnelAddr: '10.65.2.1',
      vxlanTunnelMAC: '66:cc:00:00:00:02',
    },
    {
      name: 'c',
      labels: {},
      ipv4Address: '10.0.2.3/24',
      vxlanTunnelAddr: '10.65.3.1',
      vxlanTunnelMAC: '66:cc:00:00:00:03',
    },
  ],
  pools: [
    {
      name: 'p',
      cidr: '10.65.0.0/16',
      family: 4,
      vxlanMode,
      ipipMode,
      natOutgoing: true,
      disabled: false,
      disableBGPExport: false,
    },
  ],
  blocks: [
    { cidr: '10.65.1.0/26', affinityHost: 'a', allocations: [{ ip: '10.65.1.5', node: 'c' }] },
    {
      cidr: '10.65.2.0/26',
      affinityHost: 'b',
      allocations: [
        { ip: '10.65.2.9', node: 'c' },
        { ip: '10.65.2.10', node: 'a' },
      ],
    },
    { cidr: '10.65.3.0/26', affinityHost: 'c', allocations: [] },
  ],
  bgp: {
    nodeToNodeMeshEnabled: true,
    asNumber: 64512,
    logSeverityScreen: 'Info',
    ignoredInterfaces: [],
    bindNodeIP: false,
    serviceCidrs: [],
    prefixCommunities: [],
  },
  peers: [],
  workloads: [
    { name: 'w1', interfaceName: 'cali1', ipNetworks: ['10.65.1.2/32'] },
    { name: 'gone', interfaceName: 'cali9', ipNetworks: ['10.65.1.3/32'] },
  ],
});

const show = (p: ReturnType<typeof planRoutes>): string[] =>
  p.routes.map(
    (r) =>
      `${r.type === 'blackhole' ? 'blackhole ' : ''}${r.dst}${r.via ? ` via ${r.via}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${r.onlink ? ' onlink' : ''}`,
  );

describe('route plan', () => {
  test('VXLAN Always: workload, blackhole, remote blocks and borrowed /32s through the remote VTEPs', () => {
    const p = planRoutes(state('Always'), 'a', host());
    assert.deepEqual(show(p), [
      '10.65.1.2/32 dev cali1',
      'blackhole 10.65.1.0/26',
      '10.65.1.5/32 via 10.65.3.1 dev vxlan.calico onlink',
      '10.65.2.0/26 via 10.65.2.1 dev vxlan.calico onlink',
      '10.65.2.9/32 via 10.65.3.1 dev vxlan.calico onlink',
      '10.65.3.0/26 via 10.65.3.1 dev vxlan.calico onlink',
    ]);
    assert.deepEqual(p.vxlan, [
      {
        name: 'vxlan.calico',
        family: 4,
        vni: 4096,
        port: 4789,
        localIP: '10.0.1.1',
        parent: 'eth0',
        mac: '66:cc:00:00:00:01',
        address: '10.65.1.1',
        mtu: 1450,
      },
    ]);
    assert.deepEqual(
      p.fdb.map((f) => `${f.mac} ${f.dst}`),
      ['66:cc:00:00:00:02 10.0.1.2', '66:cc:00:00:00:03 10.0.2.3'],
    );
    assert.deepEqual(
      p.neighbors.map((n) => `${n.ip} ${n.mac}`),
      ['10.65.2.1 66:cc:00:00:00:02', '10.65.3.1 66:cc:00:00:00:03'],
    );
  });

  test('CrossSubnet: direct on the parent inside the subnet, VXLAN across', () => {
    const p = planRoutes(state('CrossSubnet'), 'a', host());
    assert.ok(show(p).includes('10.65.2.0/26 via 10.0.1.2 dev eth0'));
    assert.ok(show(p).includes('10.65.3.0/26 via 10.65.3.1 dev vxlan.calico onlink'));
  });

  test('no encapsulation: only local routes (BIRD learns the rest); with BIRD running, BIRD owns the blackholes', () => {
    assert.deepEqual(show(planRoutes(state('Never'), 'a', host())), [
      '10.65.1.2/32 dev cali1',
      'blackhole 10.65.1.0/26',
    ]);
    assert.deepEqual(show(planRoutes(state('Never'), 'a', host(), { birdOwnsNoEncapBlackholes: true })), [
      '10.65.1.2/32 dev cali1',
    ]);
    assert.ok(
      show(planRoutes(state('Always'), 'a', host(), { birdOwnsNoEncapBlackholes: true })).includes(
        'blackhole 10.65.1.0/26',
      ),
      "blocks of VXLAN pools stay the agent's",
    );
  });

  test('IPIP behind the capability check', () => {
    const without = planRoutes(state('Never', 'Always'), 'a', host());
    assert.equal(without.ipip, undefined);
    assert.match(without.notes.join(), /this kernel has no ipip device/);
    const withIpip = planRoutes(state('Never', 'Always'), 'a', host({ ipipSupported: true }));
    assert.deepEqual(withIpip.ipip, { name: 'tunl0', address: '10.65.1.1', mtu: 1480 });
    assert.ok(show(withIpip).includes('10.65.2.0/26 via 10.0.1.2 dev tunl0 onlink'));
  });

  test('a node without a VTEP yet gets no VXLAN device and says why', () => {
    const s = state('Always');
    s.nodes[0] = { ...s.nodes[0], vxlanTunnelAddr: undefined };
    const p = planRoutes(s, 'a', host());
    assert.deepEqual(p.vxlan, []);
    assert.match(p.notes.join(), /no VTEP address\/MAC yet/);
  });
});

test('NAT ruleset (golden)', () => {
  const text = renderNatRuleset({ pools: state('Always').pools, tunnelDevices: ['vxlan.calico'] });
  const path = new URL('./testdata/nat.nft', import.meta.url).pathname;
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, text);
  assert.equal(text, readFileSync(path, 'utf8'));
});
