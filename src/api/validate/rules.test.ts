import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectProblem, expectValid, problemsOf, resource } from '../testing/expect.js';

const gnpWith = (rule: Record<string, unknown>, dir: 'ingress' | 'egress' = 'ingress') =>
  resource('GlobalNetworkPolicy', { [dir]: [rule] }, { name: 'p1' });
const npWith = (rule: Record<string, unknown>, dir: 'ingress' | 'egress' = 'ingress') =>
  resource('NetworkPolicy', { [dir]: [rule] }, { name: 'p1', namespace: 'prod' });

describe('rule actions and protocols', () => {
  test('a typical allow rule is valid', () =>
    expectValid(
      npWith({
        action: 'Allow',
        protocol: 'TCP',
        source: { selector: 'app == "web"' },
        destination: { ports: [80, '8000:8080', 'http'] },
      }),
    ));
  test('every action is known', () => {
    for (const action of ['Allow', 'Deny', 'Log', 'Pass']) expectValid(npWith({ action }));
  });
  test('action is required', () => expectProblem(npWith({ protocol: 'TCP' }), 'spec.ingress[0].action', /required/));
  test('unknown action', () =>
    expectProblem(npWith({ action: 'Drop' }), 'spec.ingress[0].action', /Allow, Deny, Log, Pass/));
  test('protocol names are case-insensitive, numbers 1..255', () => {
    expectValid(npWith({ action: 'Allow', protocol: 'udp' }));
    expectValid(npWith({ action: 'Allow', protocol: 47 }));
  });
  test('protocol number 0 is invalid', () =>
    expectProblem(npWith({ action: 'Allow', protocol: 0 }), 'spec.ingress[0].protocol', /1\.\.255/));
  test('unknown protocol name', () =>
    expectProblem(npWith({ action: 'Allow', protocol: 'QUIC' }), 'spec.ingress[0].protocol', /TCP, UDP/));
  test('notProtocol is checked too', () =>
    expectProblem(npWith({ action: 'Allow', notProtocol: 256 }), 'spec.ingress[0].notProtocol', /1\.\.255/));
  test('ipVersion must be 4 or 6', () =>
    expectProblem(npWith({ action: 'Allow', ipVersion: 5 }), 'spec.ingress[0].ipVersion', /4 or 6/));
});

describe('ports', () => {
  test('port 0 is invalid', () =>
    expectProblem(
      npWith({ action: 'Allow', protocol: 'TCP', destination: { ports: [0] } }),
      'spec.ingress[0].destination.ports[0]',
      /1\.\.65535/,
    ));
  test('port above 65535 is invalid', () =>
    expectProblem(
      npWith({ action: 'Allow', protocol: 'TCP', destination: { ports: [70000] } }),
      'spec.ingress[0].destination.ports[0]',
      /1\.\.65535/,
    ));
  test('reversed port range', () =>
    expectProblem(
      npWith({ action: 'Allow', protocol: 'TCP', destination: { ports: ['90:80'] } }),
      'spec.ingress[0].destination.ports[0]',
      /reversed/,
    ));
  test('range starting at 0', () =>
    expectProblem(
      npWith({ action: 'Allow', protocol: 'UDP', source: { ports: ['0:10'] } }),
      'spec.ingress[0].source.ports[0]',
      /within 1\.\.65535/,
    ));
  test('invalid named port', () =>
    expectProblem(
      npWith({ action: 'Allow', protocol: 'TCP', destination: { ports: ['Web_Port'] } }),
      'spec.ingress[0].destination.ports[0]',
      /invalid port name/,
    ));
  test('named ports need no protocol', () =>
    expectValid(npWith({ action: 'Allow', destination: { ports: ['http', 'metrics'] } })));
  test('numeric ports need a protocol', () =>
    expectProblem(
      npWith({ action: 'Allow', destination: { ports: ['http', 443] } }),
      'spec.ingress[0].destination.ports[1]',
      /must set protocol to TCP, UDP or SCTP/,
    ));
  test('numeric notPorts need a protocol', () =>
    expectProblem(
      npWith({ action: 'Allow', source: { notPorts: ['1:1024'] } }),
      'spec.ingress[0].source.notPorts[0]',
      /must set protocol/,
    ));
  test('ports only with TCP, UDP or SCTP', () =>
    expectProblem(
      npWith({ action: 'Allow', protocol: 'UDPLite', destination: { ports: [53] } }),
      'spec.ingress[0].destination.ports',
      /protocol UDPLite has no ports/,
    ));
  test('SCTP by number supports ports', () =>
    expectValid(npWith({ action: 'Allow', protocol: 132, destination: { ports: [9000] } })));
});

describe('ICMP', () => {
  test('ICMP type and code in range are valid', () =>
    expectValid(npWith({ action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 } })));
  test('ICMP type above 254', () =>
    expectProblem(
      npWith({ action: 'Allow', protocol: 'ICMP', icmp: { type: 255 } }),
      'spec.ingress[0].icmp.type',
      /0\.\.254/,
    ));
  test('ICMP code above 255', () =>
    expectProblem(
      npWith({ action: 'Allow', protocol: 'ICMP', icmp: { type: 3, code: 256 } }),
      'spec.ingress[0].icmp.code',
      /0\.\.255/,
    ));
  test('ICMP code needs a type', () =>
    expectProblem(
      npWith({ action: 'Allow', protocol: 'ICMP', icmp: { code: 1 } }),
      'spec.ingress[0].icmp.code',
      /requires an icmp type/,
    ));
  test('icmp needs protocol ICMP or ICMPv6', () =>
    expectProblem(
      npWith({ action: 'Allow', protocol: 'TCP', icmp: { type: 8 } }),
      'spec.ingress[0].icmp',
      /ICMP or ICMPv6/,
    ));
  test('notICMP needs protocol ICMP or ICMPv6', () =>
    expectProblem(npWith({ action: 'Allow', notICMP: { type: 8 } }), 'spec.ingress[0].notICMP', /ICMP or ICMPv6/));
  test('ICMP with ports', () =>
    expectProblem(
      npWith({ action: 'Allow', protocol: 'ICMP', destination: { ports: [80] } }),
      'spec.ingress[0].destination.ports',
      /has no ports/,
    ));
  test('ICMP with ipVersion 6', () =>
    expectProblem(
      npWith({ action: 'Allow', protocol: 'ICMP', ipVersion: 6 }),
      'spec.ingress[0].protocol',
      /ICMP does not match ipVersion 6/,
    ));
  test('ICMPv6 with ipVersion 4', () =>
    expectProblem(
      npWith({ action: 'Allow', protocol: 'ICMPv6', ipVersion: 4 }),
      'spec.ingress[0].protocol',
      /ICMPv6 does not match ipVersion 4/,
    ));
});

describe('nets and IP families', () => {
  test('nets of one family are valid', () =>
    expectValid(
      npWith({ action: 'Allow', source: { nets: ['10.0.0.0/8'] }, destination: { notNets: ['10.1.0.0/16'] } }),
    ));
  test('a net must be a CIDR', () =>
    expectProblem(
      npWith({ action: 'Allow', source: { nets: ['10.0.0.0/40'] } }),
      'spec.ingress[0].source.nets[0]',
      /invalid CIDR/,
    ));
  test('a net must be strictly masked', () =>
    expectProblem(
      npWith({ action: 'Allow', source: { nets: ['10.0.0.1/8'] } }),
      'spec.ingress[0].source.nets[0]',
      /host bits/,
    ));
  test('one rule may not mix IPv4 and IPv6 nets', () =>
    expectProblem(
      npWith({ action: 'Allow', source: { nets: ['10.0.0.0/8'] }, destination: { nets: ['fd00::/64'] } }),
      'spec.ingress[0].destination.nets',
      /both IPv4 and IPv6/,
    ));
  test('nets must match ipVersion', () =>
    expectProblem(
      npWith({ action: 'Allow', ipVersion: 6, source: { nets: ['10.0.0.0/8'] } }),
      'spec.ingress[0].source.nets',
      /ipVersion 6 doesn't match/,
    ));
  test('catch-all notNets matches nothing', () =>
    expectProblem(
      npWith({ action: 'Allow', source: { notNets: ['0.0.0.0/0'] } }),
      'spec.ingress[0].source.notNets[0]',
      /catch-all/,
    ));
});

describe('selectors in rules', () => {
  test('selector syntax', () =>
    expectProblem(
      npWith({ action: 'Allow', source: { selector: 'app == web' } }),
      'spec.ingress[0].source.selector',
      /invalid selector/,
    ));
  test('global() in a rule namespaceSelector is allowed', () =>
    expectValid(gnpWith({ action: 'Allow', source: { namespaceSelector: 'global()' } })));
  test('global() only inside namespaceSelector', () =>
    expectProblem(
      gnpWith({ action: 'Allow', source: { selector: 'global()' } }),
      'spec.ingress[0].source.selector',
      /only be used in a rule's namespaceSelector/,
    ));
  test('global() not in notSelector', () =>
    expectProblem(
      gnpWith({ action: 'Allow', destination: { notSelector: '!global()' } }, 'egress'),
      'spec.egress[0].destination.notSelector',
      /namespaceSelector/,
    ));
  test('global() cannot be combined in a namespaceSelector', () =>
    expectProblem(
      gnpWith({ action: 'Allow', source: { namespaceSelector: 'global() && a == "b"' } }),
      'spec.ingress[0].source.namespaceSelector',
      /cannot be combined/,
    ));
  test('serviceAccounts selector syntax', () =>
    expectProblem(
      npWith({ action: 'Allow', source: { serviceAccounts: { selector: '!!' } } }),
      'spec.ingress[0].source.serviceAccounts.selector',
      /invalid selector/,
    ));
});

describe('services and HTTP', () => {
  test('services in egress destination are valid', () =>
    expectValid(
      npWith({ action: 'Allow', destination: { services: { name: 'kubernetes', namespace: 'default' } } }, 'egress'),
    ));
  test('services need a name', () =>
    expectProblem(
      npWith({ action: 'Allow', destination: { services: { namespace: 'x' } } }, 'egress'),
      'spec.egress[0].destination.services.name',
      /service name/,
    ));
  test('services not in an ingress destination', () =>
    expectProblem(
      npWith({ action: 'Allow', destination: { services: { name: 's' } } }),
      'spec.ingress[0].destination.services',
      /not allowed in ingress rule destination/,
    ));
  test('services not with selectors', () =>
    expectProblem(
      npWith({ action: 'Allow', destination: { services: { name: 's' }, selector: 'a == "b"' } }, 'egress'),
      'spec.egress[0].destination.services',
      /selector/,
    ));
  test('services need a namespace in a GlobalNetworkPolicy', () =>
    expectProblem(
      gnpWith({ action: 'Allow', destination: { services: { name: 's' } } }, 'egress'),
      'spec.egress[0].destination.services.namespace',
      /namespace/,
    ));
  test('http matches only in ingress rules', () =>
    expectProblem(
      npWith({ action: 'Allow', http: { methods: ['GET'] } }, 'egress'),
      'spec.egress[0].http',
      /not allowed in egress/,
    ));
  test('http path exact or prefix', () =>
    expectProblem(
      npWith({ action: 'Allow', http: { paths: [{ exact: '/a', prefix: '/b' }] } }),
      'spec.ingress[0].http.paths[0]',
      /only one/,
    ));
  test('unknown field inside an entity rule is refused with its path', () =>
    expectProblem(
      npWith({ action: 'Allow', source: { podSelector: 'x' } }),
      'spec.ingress[0].source.podSelector',
      /unknown field/,
    ));
});

describe('one problem per mistake', () => {
  test('a bad ipVersion is reported once', () => {
    const ps = problemsOf(npWith({ action: 'Allow', ipVersion: 7 }));
    assert.deepEqual(
      ps.map((p) => p.path),
      ['spec.ingress[0].ipVersion'],
    );
  });
});
