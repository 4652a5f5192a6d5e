import { describe, test } from 'node:test';
import { expectProblem, expectValid, resource } from '../testing/expect.js';

const felix = (spec: Record<string, unknown>, name = 'default') => resource('FelixConfiguration', spec, { name });
const node = (spec: Record<string, unknown>) => resource('Node', spec, { name: 'node-1' });

describe('FelixConfiguration', () => {
  test('fields of the reference table are known', () =>
    expectValid(
      felix(
        {
          ipv6Support: false,
          routeRefreshInterval: '90s',
          iptablesRefreshInterval: '1m30s',
          iptablesBackend: 'NFT',
          nftablesMode: 'Enabled',
          interfacePrefix: 'cali',
          defaultEndpointToHostAction: 'ACCEPT',
          iptablesMarkMask: 0xffff0000,
          logSeverityScreen: 'Debug',
          vxlanVNI: 4096,
          failsafeInboundHostPorts: [
            { protocol: 'TCP', port: 22 },
            { protocol: 'UDP', port: 68, net: '0.0.0.0/0' },
          ],
          kubeNodePortRanges: ['30000:32767'],
          routeTableRanges: [{ min: 1, max: 250 }],
          healthEnabled: true,
          prometheusMetricsPort: 9091,
        },
        'node.node-1',
      ),
    ));
  test('fields of unimplemented features are known and kept', () =>
    expectValid(
      felix({
        bpfEnabled: true,
        bpfConntrackTimeouts: { tcpEstablished: '1h', tcpFinsSeen: 'Auto' },
        wireguardEnabled: true,
        wireguardKeepAlive: '25s',
      }),
    ));
  test('logSeverityScreen values', () =>
    expectProblem(felix({ logSeverityScreen: 'Loud' }), 'spec.logSeverityScreen', /Trace, Debug, Info/));
  test('durations are Go durations', () =>
    expectProblem(felix({ routeRefreshInterval: '90' }), 'spec.routeRefreshInterval', /duration/));
  test('enums such as iptablesBackend', () =>
    expectProblem(felix({ iptablesBackend: 'iptables' }), 'spec.iptablesBackend', /Auto, Legacy, NFT/));
  test('ports such as vxlanPort', () => expectProblem(felix({ vxlanPort: 70000 }), 'spec.vxlanPort', /1\.\.65535/));
  test('failsafe protocol is TCP, UDP or SCTP', () =>
    expectProblem(
      felix({ failsafeOutboundHostPorts: [{ protocol: 'ICMP', port: 1 }] }),
      'spec.failsafeOutboundHostPorts[0].protocol',
      /TCP, UDP, SCTP/,
    ));
  test('node port ranges are numeric', () =>
    expectProblem(felix({ kubeNodePortRanges: ['http'] }), 'spec.kubeNodePortRanges[0]', /named ports/));
  test('natOutgoingAddress is IPv4', () =>
    expectProblem(felix({ natOutgoingAddress: 'fd00::1' }), 'spec.natOutgoingAddress', /IPv4/));
  test('externalNodesList is IPv4', () =>
    expectProblem(felix({ externalNodesList: ['fd00::/64'] }), 'spec.externalNodesList[0]', /IPv6/));
  test('route table range order', () =>
    expectProblem(felix({ routeTableRanges: [{ min: 10, max: 5 }] }), 'spec.routeTableRanges[0]', /must not exceed/));
  test('regular expressions compile', () =>
    expectProblem(felix({ mtuIfacePattern: '^(eth' }), 'spec.mtuIfacePattern', /regular expression/));
  test('felix field names are case-sensitive', () =>
    expectProblem(felix({ IPv6Support: true }), 'spec.IPv6Support', /unknown field/));
  test('keyValueList syntax', () =>
    expectProblem(felix({ featureDetectOverride: 'SNATFullyRandom' }), 'spec.featureDetectOverride', /key=value/));
});

describe('Node', () => {
  test('a BGP node is valid', () =>
    expectValid(
      node({
        bgp: { ipv4Address: '192.0.2.5/24', asNumber: 64512, ipv4IPIPTunnelAddr: '10.244.0.1' },
        ipv4VXLANTunnelAddr: '10.244.0.0',
        vxlanTunnelMACAddr: '66:1f:2a:3b:4c:5d',
        orchRefs: [{ orchestrator: 'k8s', nodeName: 'node-1' }],
      }),
    ));
  test('bgp must not be empty', () => expectProblem(node({ bgp: {} }), 'spec.bgp', /must not be empty/));
  test('ipv4Address is an IPv4 CIDR', () =>
    expectProblem(node({ bgp: { ipv4Address: 'fd00::5/64' } }), 'spec.bgp.ipv4Address', /IPv4 CIDR/));
  test('routeReflectorClusterID is IPv4-formatted', () =>
    expectProblem(
      node({ bgp: { ipv4Address: '192.0.2.5/24', routeReflectorClusterID: 'rr1' } }),
      'spec.bgp.routeReflectorClusterID',
      /IPv4/,
    ));
  test('address type values', () =>
    expectProblem(
      node({ addresses: [{ address: '192.0.2.5', type: 'Public' }] }),
      'spec.addresses[0].type',
      /CalicoNodeIP/,
    ));
  test('node AS number may be dotted', () =>
    expectValid(node({ bgp: { ipv4Address: '192.0.2.5/24', asNumber: '64512.1' } })));
});

describe('KubeControllersConfiguration and ClusterInformation', () => {
  test('a full configuration is valid', () =>
    expectValid(
      resource(
        'KubeControllersConfiguration',
        {
          logSeverityScreen: 'Info',
          healthChecks: 'Enabled',
          etcdV3CompactionPeriod: '10m',
          controllers: {
            node: {
              reconcilerPeriod: '5m',
              syncLabels: 'Enabled',
              hostEndpoint: { autoCreate: 'Disabled' },
              leakGracePeriod: '15m',
            },
            policy: { reconcilerPeriod: '5m' },
            loadBalancer: { assignIPs: 'AllServices' },
          },
        },
        { name: 'default' },
      ),
    ));
  test('controller periods are durations', () =>
    expectProblem(
      resource(
        'KubeControllersConfiguration',
        { controllers: { namespace: { reconcilerPeriod: 'often' } } },
        { name: 'default' },
      ),
      'spec.controllers.namespace.reconcilerPeriod',
      /duration/,
    ));
  test('autoCreate values', () =>
    expectProblem(
      resource(
        'KubeControllersConfiguration',
        { controllers: { node: { hostEndpoint: { autoCreate: 'Yes' } } } },
        { name: 'default' },
      ),
      'spec.controllers.node.hostEndpoint.autoCreate',
      /Enabled, Disabled/,
    ));
  test('datastoreReady is a boolean', () =>
    expectProblem(
      resource('ClusterInformation', { datastoreReady: 'true' }, { name: 'default' }),
      'spec.datastoreReady',
      /true or false/,
    ));
});
