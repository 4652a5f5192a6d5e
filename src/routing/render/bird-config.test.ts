import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { renderBirdConfig, routerIdFromName } from './bird-config.js';
import { sessionsFor, splitPeerIP } from './peers.js';
import { matchLabels } from './label-match.js';
import { meshState, routeReflectorState, externalPeerState } from './testdata/fixtures.js';

const golden = (name: string, text: string): void => {
  const path = new URL(`./testdata/${name}`, import.meta.url).pathname;
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, text);
  assert.equal(text, readFileSync(path, 'utf8'), `${name} differs from the golden file (UPDATE_GOLDEN=1 to accept)`);
};

describe('BIRD 2 config rendering', () => {
  test('full mesh (golden)', () => golden('mesh-node1.bird.cfg', renderBirdConfig(meshState, 'node1')));
  test('route reflector and its client (golden)', () => {
    golden('rr-node1.bird.cfg', renderBirdConfig(routeReflectorState, 'node1'));
    golden('rr-node2.bird.cfg', renderBirdConfig(routeReflectorState, 'node2'));
  });
  test('external peers (golden)', () =>
    golden(
      'external-node1.bird.cfg',
      renderBirdConfig(externalPeerState, 'node1', {
        passwords: { 'bgp-secrets/tor': 's3cret', 'bgp-secrets/mesh': 'm3sh' },
      }),
    ));

  test('mesh: every other node once, named Mesh_ with . and : as _, one side passive', () => {
    const s1 = sessionsFor(meshState, 'node1');
    assert.deepEqual(
      s1.map((s) => s.name),
      ['Mesh_172_31_255_12', 'Mesh_172_31_255_13', 'Mesh_fd00_255__12'],
    );
    const s2 = sessionsFor(meshState, 'node2');
    const a = s1.find((s) => s.peerIP === '172.31.255.12')!;
    const b = s2.find((s) => s.peerIP === '172.31.255.11')!;
    assert.notEqual(a.passive, b.passive);
    assert.equal(s1[1].peerAS, 64513, 'AS from the Node wins over BGPConfiguration');
  });

  test('exports whole own blocks, rejects /32s inside them, and drops disableBGPExport pools', () => {
    const cfg = renderBirdConfig(meshState, 'node1');
    assert.match(
      cfg,
      /if \( net = 10\.65\.1\.0\/26 \) then \{ accept; \}\n {2}if \( net ~ 10\.65\.1\.0\/26 && source != RTS_BGP \) then \{ reject; \}/,
    );
    assert.match(cfg, /if \( net ~ 10\.66\.0\.0\/16 \) then \{ reject; \}/);
    const exportFn = /function calico_export_to_bgp_peers_v4[^]*?\n\}/.exec(cfg)![0];
    assert.doesNotMatch(exportFn, /10\.66\.0\.0\/16 \) then \{ accept; \}/);
    assert.doesNotMatch(cfg, /10\.65\.2\.0\/26/, "another node's block is not ours to announce");
  });

  test('mesh off: route reflector marks clients, clients peer only with the reflector', () => {
    const rr = sessionsFor(routeReflectorState, 'node1');
    assert.deepEqual(
      rr.map((s) => [s.name, s.routeReflectorClient]),
      [
        ['Node_172_31_255_12', '224.0.0.1'],
        ['Node_172_31_255_13', '224.0.0.1'],
      ],
    );
    const client = sessionsFor(routeReflectorState, 'node3');
    assert.deepEqual(
      client.map((s) => s.name),
      ['Node_172_31_255_11'],
    );
  });

  test('external peer outside the subnet is multihop with recursive next hops; ttl security and port', () => {
    const cfg = renderBirdConfig(externalPeerState, 'node1', {
      passwords: { 'bgp-secrets/tor': 's3cret', 'bgp-secrets/mesh': 'm3sh' },
    });
    assert.match(cfg, /protocol bgp Global_172_31_254_1 from bgp_template \{[^}]*multihop;[^}]*password "s3cret";/s);
    assert.match(
      cfg,
      /protocol bgp Node_172_31_255_250_port_1790 [^]*?neighbor 172\.31\.255\.250 port 1790 as 65001;\n {2}ttl security on;\n {2}multihop 1;/,
    );
    const node2 = renderBirdConfig(externalPeerState, 'node2', {
      passwords: { 'bgp-secrets/tor': 's3cret', 'bgp-secrets/mesh': 'm3sh' },
    });
    assert.doesNotMatch(node2, /Node_172_31_255_250/, 'node-specific peer only on its node');
  });

  test('bad input names the field and the reason', () => {
    assert.throws(
      () => renderBirdConfig(externalPeerState, 'node1', { passwords: { 'bgp-secrets/mesh': 'm' } }),
      /Global_172_31_254_1: BGP password secret "bgp-secrets\/tor" could not be read/,
    );
    assert.throws(
      () => splitPeerIP('10.0.0.300', 'BGPPeer x'),
      /BGPPeer x: spec.peerIP "10.0.0.300" is not an IP address/,
    );
    assert.throws(
      () => renderBirdConfig({ ...meshState, bgp: { ...meshState.bgp, nodeMeshMaxRestartTime: 'soon' } }, 'node1'),
      /nodeMeshMaxRestartTime: "soon" is not a duration/,
    );
    assert.throws(() => renderBirdConfig(meshState, 'node9'), /node "node9" has no Node resource/);
  });

  test('no peers renders the comment; router id from a name hash when asked', () => {
    const lone = { ...meshState, nodes: [meshState.nodes[0]] };
    assert.match(renderBirdConfig(lone, 'node1'), /# No BGP peers configured for this node\./);
    assert.match(
      renderBirdConfig(lone, 'node1', { routerId: 'hash' }),
      new RegExp(`router id ${routerIdFromName('node1').replace(/\./g, '\\.')};`),
    );
  });
});

describe('selector subset for peering', () => {
  test('matches the forms peering uses', () => {
    const l = { rr: 'true', zone: 'a' };
    assert.equal(matchLabels('all()', l), true);
    assert.equal(matchLabels("rr == 'true' && zone in {'a','b'}", l), true);
    assert.equal(matchLabels("has(rr) && !has(x) && zone != 'a'", l), false);
    assert.equal(matchLabels("zone not in {'b'} || rr == 'no'", l), true);
    assert.throws(() => matchLabels('rr ==', l), /selector "rr =="/);
  });
});
