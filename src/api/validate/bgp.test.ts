import { describe, test } from 'node:test';
import { expectProblem, expectValid, resource } from '../testing/expect.js';

const peer = (spec: Record<string, unknown>) => resource('BGPPeer', spec, { name: 'peer1' });
const bgpConfig = (spec: Record<string, unknown>) => resource('BGPConfiguration', spec, { name: 'default' });

describe('BGPPeer', () => {
  test('a global peer by IP is valid', () => expectValid(peer({ peerIP: '192.0.2.1', asNumber: 64513 })));
  test('a peer with port and dotted AS is valid', () =>
    expectValid(peer({ peerIP: '[fd00::1]:1179', asNumber: '1.10' })));
  test('a selector peer is valid', () =>
    expectValid(peer({ nodeSelector: 'rack == "a"', peerSelector: 'route-reflector == "true"' })));
  test('peerIP or peerSelector is required', () =>
    expectProblem(peer({ asNumber: 64512 }), 'spec.peerIP', /one of peerIP or peerSelector/));
  test('peerIP and peerSelector exclude each other', () =>
    expectProblem(
      peer({ peerIP: '192.0.2.1', peerSelector: 'all()' }),
      'spec.peerIP',
      /must be empty when peerSelector/,
    ));
  test('node and nodeSelector exclude each other', () =>
    expectProblem(
      peer({ node: 'n1', nodeSelector: 'all()', peerIP: '192.0.2.1', asNumber: 1 }),
      'spec.node',
      /must be empty when nodeSelector/,
    ));
  test('asNumber not with peerSelector', () =>
    expectProblem(
      peer({ peerSelector: 'all()', asNumber: 64512 }),
      'spec.asNumber',
      /must be empty when peerSelector/,
    ));
  test('global() is refused outside rule namespaceSelectors', () =>
    expectProblem(
      peer({ peerSelector: 'global()' }),
      'spec.peerSelector',
      /only be used in a rule's namespaceSelector/,
    ));
  test('peerIP format', () => expectProblem(peer({ peerIP: '192.0.2.1:0' }), 'spec.peerIP', /IPv4:port/));
  test('AS number plain range', () =>
    expectProblem(peer({ peerIP: '192.0.2.1', asNumber: 4294967296 }), 'spec.asNumber', /AS number/));
  test('dotted AS halves are 16-bit', () =>
    expectProblem(peer({ peerIP: '192.0.2.1', asNumber: '65536.1' }), 'spec.asNumber', /dotted/));
  test('AS number text must be numeric', () =>
    expectProblem(peer({ peerIP: '192.0.2.1', localASNumber: 'AS65000' }), 'spec.localASNumber', /AS number/));
  test('reachableBy needs the peer family', () =>
    expectProblem(
      peer({ peerIP: '192.0.2.1', asNumber: 1, reachableBy: 'fd00::1' }),
      'spec.reachableBy',
      /families differ/,
    ));
  test('keepOriginalNextHop with nextHopMode', () =>
    expectProblem(
      peer({ peerIP: '192.0.2.1', asNumber: 1, keepOriginalNextHop: true, nextHopMode: 'Self' }),
      'spec.keepOriginalNextHop',
      /nextHopMode/,
    ));
  test('durations', () =>
    expectProblem(
      peer({ peerIP: '192.0.2.1', asNumber: 1, keepaliveTime: '30 seconds' }),
      'spec.keepaliveTime',
      /duration/,
    ));
  test('password needs a secret key reference with name and key', () =>
    expectProblem(
      peer({ peerIP: '192.0.2.1', asNumber: 1, password: { secretKeyRef: { name: 's' } } }),
      'spec.password.secretKeyRef.key',
      /required/,
    ));
  test('sourceAddress values', () =>
    expectProblem(
      peer({ peerIP: '192.0.2.1', asNumber: 1, sourceAddress: 'Node' }),
      'spec.sourceAddress',
      /UseNodeIP, None/,
    ));
});

describe('BGPConfiguration', () => {
  test('typical default configuration is valid', () =>
    expectValid(
      bgpConfig({
        logSeverityScreen: 'Info',
        nodeToNodeMeshEnabled: false,
        asNumber: 63400,
        serviceClusterIPs: [{ cidr: '10.96.0.0/12' }],
      }),
    ));
  test('logSeverityScreen values', () =>
    expectProblem(bgpConfig({ logSeverityScreen: 'Verbose' }), 'spec.logSeverityScreen', /Debug, Info/));
  test('listenPort range', () => expectProblem(bgpConfig({ listenPort: 0 }), 'spec.listenPort', /1\.\.65535/));
  test('bindMode values', () => expectProblem(bgpConfig({ bindMode: 'All' }), 'spec.bindMode', /None, NodeIP/));
  test('service CIDRs', () =>
    expectProblem(
      bgpConfig({ serviceExternalIPs: [{ cidr: 'x' }] }),
      'spec.serviceExternalIPs[0].cidr',
      /invalid CIDR/,
    ));
  test('community value format', () =>
    expectProblem(
      bgpConfig({
        communities: [{ name: 'c', value: '65536:1' }],
        prefixAdvertisements: [{ cidr: '10.0.0.0/8', communities: ['c'] }],
      }),
      'spec.communities[0].value',
      /aa:nn/,
    ));
  test('communities must be used', () =>
    expectProblem(bgpConfig({ communities: [{ name: 'c', value: '100:1' }] }), 'spec.communities', /not used/));
  test('advertised communities are literal or defined', () =>
    expectProblem(
      bgpConfig({ prefixAdvertisements: [{ cidr: '10.0.0.0/8', communities: ['nope'] }] }),
      'spec.prefixAdvertisements[0].communities[0]',
      /neither/,
    ));
  test('ignoredInterfaces patterns', () =>
    expectProblem(bgpConfig({ ignoredInterfaces: ['*'] }), 'spec.ignoredInterfaces[0]', /interface pattern/));
  test('nodeMeshMaxRestartTime is a duration', () =>
    expectProblem(bgpConfig({ nodeMeshMaxRestartTime: '2 minutes' }), 'spec.nodeMeshMaxRestartTime', /duration/));
});

describe('BGPFilter', () => {
  const filter = (spec: Record<string, unknown>) => resource('BGPFilter', spec, { name: 'f1' });
  test('a filter is valid', () =>
    expectValid(
      filter({
        exportV4: [{ action: 'Accept', matchOperator: 'In', cidr: '10.0.0.0/8', prefixLength: { min: 16, max: 24 } }],
      }),
    ));
  test('action is required', () =>
    expectProblem(
      filter({ importV4: [{ cidr: '10.0.0.0/8', matchOperator: 'In' }] }),
      'spec.importV4[0].action',
      /required/,
    ));
  test('cidr and matchOperator together', () =>
    expectProblem(
      filter({ exportV6: [{ action: 'Reject', cidr: 'fd00::/8' }] }),
      'spec.exportV6[0].matchOperator',
      /together/,
    ));
  test('cidr family follows the list', () =>
    expectProblem(
      filter({ exportV6: [{ action: 'Reject', cidr: '10.0.0.0/8', matchOperator: 'In' }] }),
      'spec.exportV6[0].cidr',
      /IPv6/,
    ));
  test('prefixLength range for IPv4', () =>
    expectProblem(
      filter({ exportV4: [{ action: 'Accept', cidr: '10.0.0.0/8', matchOperator: 'In', prefixLength: { max: 33 } }] }),
      'spec.exportV4[0].prefixLength.max',
      /0\.\.32/,
    ));
});
