import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bgpConfigFrom,
  blockFromRecord,
  durationSeconds,
  filterFromResource,
  nodeFromResource,
  peerFromResource,
  poolFromResource,
} from './state.js';

const res = (kind: string, name: string, spec: Record<string, unknown>, labels?: Record<string, string>) => ({
  apiVersion: 'projectcalico.org/v3',
  kind,
  metadata: { name, labels },
  spec,
});

test('blocks: affinity host and the node holding each allocated address (Calico block JSON)', () => {
  const b = blockFromRecord({
    cidr: '10.65.4.0/26',
    affinity: 'host:node1',
    allocations: [0, null, 1, ...new Array(61).fill(null)],
    attributes: [
      { handle_id: 'vxlan-tunnel-addr-node1', secondary: { node: 'node1', type: 'vxlanTunnelAddress' } },
      { handle_id: 'k8s-pod-network.abc', secondary: { node: 'node2', pod: 'p', namespace: 'default' } },
    ],
  });
  assert.deepEqual(b, {
    cidr: '10.65.4.0/26',
    affinityHost: 'node1',
    allocations: [
      { ip: '10.65.4.0', node: 'node1' },
      { ip: '10.65.4.2', node: 'node2' },
    ],
  });
  assert.equal(blockFromRecord({ cidr: '10.65.5.0/26', affinity: null, allocations: [] }).affinityHost, undefined);
});

test('BGPConfiguration: defaults, default + node.<name> merge', () => {
  assert.deepEqual(bgpConfigFrom(), {
    nodeToNodeMeshEnabled: true,
    asNumber: 64512,
    listenPort: undefined,
    logSeverityScreen: 'Info',
    nodeMeshMaxRestartTime: undefined,
    nodeMeshPassword: undefined,
    ignoredInterfaces: [],
    bindNodeIP: false,
    serviceCidrs: [],
    prefixCommunities: [],
  });
  const merged = bgpConfigFrom(
    res('BGPConfiguration', 'default', { nodeToNodeMeshEnabled: false, asNumber: 65001, logSeverityScreen: 'Debug' }),
    res('BGPConfiguration', 'node.a', { logSeverityScreen: 'Warning', listenPort: 1790 }),
  );
  assert.equal(merged.nodeToNodeMeshEnabled, false);
  assert.equal(merged.asNumber, 65001);
  assert.equal(merged.logSeverityScreen, 'Warning');
  assert.equal(merged.listenPort, 1790);
});

test('Nodes, pools and peers decode; bad input names the object, field and reason', () => {
  const n = nodeFromResource(
    res('Node', 'a', { bgp: { ipv4Address: '10.0.0.1/24', asNumber: '65010' }, ipv4VXLANTunnelAddr: '10.65.0.1' }),
  );
  assert.equal(n.asNumber, 65010);
  assert.equal(n.vxlanTunnelAddr, '10.65.0.1');
  assert.throws(() => nodeFromResource(res('Node', 'a', { bgp: { asNumber: 'x' } })), /invalid AS number "x"/);
  assert.equal(poolFromResource(res('IPPool', 'p', { cidr: '10.65.0.1/16' })).cidr, '10.65.0.0/16');
  assert.throws(() => poolFromResource(res('IPPool', 'p', {})), /IPPool p: spec.cidr is required/);
  assert.throws(
    () => peerFromResource(res('BGPPeer', 'x', { peerSelector: 'all()', peerIP: '10.0.0.9' })),
    /BGPPeer x: spec.peerSelector cannot be combined with spec.peerIP/,
  );
  assert.throws(
    () => peerFromResource(res('BGPPeer', 'y', {})),
    /BGPPeer y: spec.peerIP or spec.peerSelector is required/,
  );
  assert.equal(
    peerFromResource(res('BGPPeer', 'k', { peerIP: '10.0.0.9', keepOriginalNextHop: true })).nextHopMode,
    'Keep',
  );
});

test('Go durations', () => {
  assert.equal(durationSeconds('90s', 'f'), 90);
  assert.equal(durationSeconds('1m30s', 'f'), 90);
  assert.equal(durationSeconds('2h', 'f'), 7200);
  assert.throws(() => durationSeconds('10', 'spec.keepaliveTime'), /spec.keepaliveTime: "10" is not a duration/);
});

test('service ranges and prefix communities (names resolved, literals kept); bad ones named', () => {
  const cfg = bgpConfigFrom(
    res('BGPConfiguration', 'default', {
      serviceClusterIPs: [{ cidr: '10.96.0.0/12' }],
      serviceExternalIPs: [{ cidr: '192.0.2.0/24' }],
      communities: [{ name: 'gold', value: '65000:100' }],
      prefixAdvertisements: [{ cidr: '10.65.0.0/16', communities: ['gold', '65000:1:2'] }],
    }),
  );
  assert.deepEqual(cfg.serviceCidrs, ['10.96.0.0/12', '192.0.2.0/24']);
  assert.deepEqual(cfg.prefixCommunities, [{ cidr: '10.65.0.0/16', communities: ['65000:100', '65000:1:2'] }]);
  assert.throws(
    () =>
      bgpConfigFrom(
        res('BGPConfiguration', 'default', { prefixAdvertisements: [{ cidr: '10.0.0.0/8', communities: ['silver'] }] }),
      ),
    /prefixAdvertisements\[0\].communities: "silver" is neither a defined community name nor aa:nn/,
  );
  assert.throws(
    () => bgpConfigFrom(res('BGPConfiguration', 'default', { serviceClusterIPs: [{ cidr: 'nope' }] })),
    /BGPConfiguration.spec.serviceClusterIPs\[0\].cidr: "nope" is not a CIDR/,
  );
});

test('BGPFilter rules decode; bad rules name the filter, the rule and the reason', () => {
  const f = filterFromResource(
    res('BGPFilter', 'f', {
      exportV4: [
        { action: 'Reject', matchOperator: 'In', cidr: '10.0.0.0/8', prefixLength: { min: 24 }, source: 'RemotePeers' },
      ],
      importV6: [{ action: 'Accept', interface: '*.calico' }],
    }),
  );
  assert.deepEqual(f.exportV4, [
    {
      action: 'Reject',
      matchOperator: 'In',
      cidr: '10.0.0.0/8',
      prefixLength: { min: 24, max: undefined },
      source: 'RemotePeers',
    },
  ]);
  assert.deepEqual(f.importV6, [{ action: 'Accept', interface: '*.calico' }]);
  const bad =
    (spec: Record<string, unknown>): (() => unknown) =>
    () =>
      filterFromResource(res('BGPFilter', 'b', spec));
  assert.throws(
    bad({ importV4: [{ action: 'Drop' }] }),
    /BGPFilter b: spec.importV4\[0\].action must be Accept or Reject/,
  );
  assert.throws(
    bad({ importV4: [{ action: 'Accept', cidr: '10.0.0.0/8' }] }),
    /matchOperator must be Equal, NotEqual, In or NotIn/,
  );
  assert.throws(
    bad({ exportV6: [{ action: 'Accept', matchOperator: 'In', cidr: '10.0.0.0/8' }] }),
    /spec.exportV6\[0\].cidr: "10.0.0.0\/8" is not an IPv6 CIDR/,
  );
  assert.throws(
    bad({ exportV4: [{ action: 'Accept', prefixLength: { max: 33 } }] }),
    /prefixLength.max must be from 0 to 32/,
  );
});
