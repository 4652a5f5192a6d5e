import { describe, test } from 'node:test';
import { expectProblem, expectValid, resource } from '../testing/expect.js';

const hep = (spec: Record<string, unknown>) => resource('HostEndpoint', spec, { name: 'node1-eth0' });
const wepSpec = {
  orchestrator: 'k8s',
  node: 'node-1',
  pod: 'web-0',
  endpoint: 'eth0',
  containerID: 'abc123',
  ipNetworks: ['10.244.7.5/32'],
  interfaceName: 'cali1a2b3c4d5e6',
  profiles: ['kns.prod', 'ksa.prod.default'],
};
const wep = (spec: Record<string, unknown>, name = 'node--1-k8s-web--0-eth0') =>
  resource('WorkloadEndpoint', { ...wepSpec, ...spec }, { name, namespace: 'prod' });

describe('HostEndpoint', () => {
  test('interface endpoint is valid', () =>
    expectValid(hep({ node: 'node1', interfaceName: 'eth0', expectedIPs: ['192.0.2.10'] })));
  test('all-interfaces endpoint is valid', () => expectValid(hep({ node: 'node1', interfaceName: '*' })));
  test('node is required', () => expectProblem(hep({ interfaceName: 'eth0' }), 'spec.node', /required/));
  test('interfaceName or expectedIPs is required', () =>
    expectProblem(hep({ node: 'node1' }), 'spec.interfaceName', /interfaceName or expectedIPs/));
  test('expectedIPs are IPs', () =>
    expectProblem(hep({ node: 'node1', expectedIPs: ['10.0.0.0/24'] }), 'spec.expectedIPs[0]', /invalid IP/));
  test('interface names', () =>
    expectProblem(hep({ node: 'node1', interfaceName: 'an-interface-name-too-long' }), 'spec.interfaceName', /1-15/));
  test('named ports need a port-capable protocol', () =>
    expectProblem(
      hep({ node: 'node1', interfaceName: 'eth0', ports: [{ name: 'ping', protocol: 'ICMP', port: 1 }] }),
      'spec.ports[0].protocol',
      /does not support ports/,
    ));
  test('named port port range', () =>
    expectProblem(
      hep({ node: 'node1', interfaceName: 'eth0', ports: [{ name: 'web', protocol: 'TCP', port: 0 }] }),
      'spec.ports[0].port',
      /1\.\.65535/,
    ));
});

describe('WorkloadEndpoint', () => {
  test('a Kubernetes endpoint is valid', () => expectValid(wep({})));
  test('name must match the identifiers', () =>
    expectProblem(wep({}, 'node-1-k8s-web-0-eth0'), 'metadata.name', /node--1-k8s-web--0-eth0/));
  test('identifier parts cannot end in -', () =>
    expectProblem(wep({ pod: 'web-' }, 'node--1-k8s-web---eth0'), 'spec.pod', /begin or end/));
  test('ipNetworks are single addresses', () =>
    expectProblem(wep({ ipNetworks: ['10.244.7.0/24'] }), 'spec.ipNetworks[0]', /multiple addresses/));
  test('NAT internal IP lies in ipNetworks', () =>
    expectProblem(
      wep({ ipNATs: [{ internalIP: '10.244.7.6', externalIP: '192.0.2.1' }] }),
      'spec.ipNATs[0].internalIP',
      /not one of the endpoint ipNetworks/,
    ));
  test('ports without name need a hostPort', () =>
    expectProblem(wep({ ports: [{ protocol: 'TCP', port: 80 }] }), 'spec.ports[0].name', /required when no hostPort/));
  test('mac format', () => expectProblem(wep({ mac: '2a:11:22:33:44' }), 'spec.mac', /MAC/));
  test('gateway family', () => expectProblem(wep({ ipv4Gateway: 'fd00::1' }), 'spec.ipv4Gateway', /IPv4/));
  test('qosControls are known', () =>
    expectValid(wep({ qosControls: { ingressBandwidth: 1000000, egressMaxConnections: 10 } })));
  test('unknown spec field', () => expectProblem(wep({ hostname: 'x' }), 'spec.hostname', /unknown field/));
});

describe('Profile and network sets', () => {
  test('a kns profile is valid', () =>
    expectValid(
      resource(
        'Profile',
        {
          ingress: [{ action: 'Allow' }],
          egress: [{ action: 'Allow' }],
          labelsToApply: { 'pcns.projectcalico.org/name': 'prod' },
        },
        { name: 'kns.prod' },
      ),
    ));
  test('profile rules are validated', () =>
    expectProblem(
      resource(
        'Profile',
        { egress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: ['2:1'] } }] },
        { name: 'p' },
      ),
      'spec.egress[0].destination.ports[0]',
      /reversed/,
    ));
  test('labelsToApply keys', () =>
    expectProblem(
      resource('Profile', { labelsToApply: { 'a b': 'c' } }, { name: 'p' }),
      'spec.labelsToApply["a b"]',
      /invalid key/,
    ));
  test('network set nets are CIDRs, mixed families allowed', () =>
    expectValid(resource('GlobalNetworkSet', { nets: ['10.0.0.0/8', 'fd00::/8', '192.0.2.1'] }, { name: 's' })));
  test('network set nets must parse', () =>
    expectProblem(
      resource('NetworkSet', { nets: ['300.0.0.0/8'] }, { name: 's', namespace: 'a' }),
      'spec.nets[0]',
      /invalid CIDR/,
    ));
});
