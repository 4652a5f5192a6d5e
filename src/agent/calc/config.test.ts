// Felix configuration precedence (env > FelixConfiguration node.<name> > default > built-in), per field, with
// unparsable winning values replaced by the built-in default and reported.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateMarks, parseDurationSeconds, resolveFelixConfig } from './config.js';
import { CalcGraph } from './graph.js';
import { felixConfig, put } from './testing/fixtures.js';

describe('Felix configuration', () => {
  test('built-in defaults are Felix defaults', () => {
    const { config, problems } = resolveFelixConfig({});
    assert.deepEqual(problems, []);
    assert.equal(config.defaultEndpointToHostAction, 'Drop');
    assert.equal(config.chainInsertMode, 'insert');
    assert.equal(config.logPrefix, 'calico-packet');
    assert.equal(config.iptablesMarkMask, 0xffff0000);
    assert.deepEqual(
      config.failsafeInboundHostPorts.map((p) => `${p.protocol}:${p.port}`),
      ['tcp:22', 'udp:68', 'tcp:179', 'tcp:2379', 'tcp:2380', 'tcp:5473', 'tcp:6443', 'tcp:6666', 'tcp:6667'],
    );
    assert.deepEqual(
      config.failsafeOutboundHostPorts.map((p) => `${p.protocol}:${p.port}`),
      ['udp:53', 'udp:67', 'tcp:179', 'tcp:2379', 'tcp:2380', 'tcp:5473', 'tcp:6443', 'tcp:6666', 'tcp:6667'],
    );
    assert.deepEqual(config.marks, {
      accept: 0x10000,
      pass: 0x20000,
      drop: 0x40000,
      scratch0: 0x80000,
      scratch1: 0x100000,
      endpoint: 0xffe00000,
      all: 0xffff0000,
    });
    assert.equal(config.floatingIPs, 'Disabled');
    assert.equal(config.nftablesRefreshInterval, 90);
  });

  test('env beats node.<name> beats default, field by field', () => {
    const { config } = resolveFelixConfig({
      env: { FELIX_DEFAULTENDPOINTTOHOSTACTION: 'ACCEPT', felix_LogPrefix: 'env-prefix', PATH: '/bin' },
      nodeSpec: { logPrefix: 'node-prefix', chainInsertMode: 'Append', defaultEndpointToHostAction: 'Return' },
      defaultSpec: { logPrefix: 'default-prefix', chainInsertMode: 'Insert', vxlanPort: 4790, healthEnabled: true },
    });
    assert.equal(config.defaultEndpointToHostAction, 'Accept');
    assert.equal(config.logPrefix, 'env-prefix');
    assert.equal(config.chainInsertMode, 'append');
    assert.equal(config.vxlanPort, 4790);
    assert.equal(config.healthEnabled, true);
    assert.deepEqual(config.sources, {
      defaultEndpointToHostAction: 'environment',
      logPrefix: 'environment',
      chainInsertMode: 'FelixConfiguration node',
      vxlanPort: 'FelixConfiguration default',
      healthEnabled: 'FelixConfiguration default',
    });
  });

  test('the config file sits between the environment and the datastore', () => {
    const { config } = resolveFelixConfig({
      env: { FELIX_LOGPREFIX: 'env' },
      file: { LogPrefix: 'file', ChainInsertMode: 'append', VXLANPort: '4800' },
      nodeSpec: { chainInsertMode: 'insert', vxlanPort: 4790 },
    });
    assert.equal(config.logPrefix, 'env');
    assert.equal(config.chainInsertMode, 'append');
    assert.equal(config.vxlanPort, 4800);
    assert.equal(config.sources.chainInsertMode, 'config file');
  });

  test('an unparsable winning value takes the built-in default (not a lower source) and is reported', () => {
    const { config, problems } = resolveFelixConfig({
      env: { FELIX_VXLANPORT: 'seventy' },
      defaultSpec: { vxlanPort: 4790, defaultEndpointToHostAction: 'Maybe' },
    });
    assert.equal(config.vxlanPort, 4789);
    assert.equal(config.defaultEndpointToHostAction, 'Drop');
    assert.deepEqual(problems, [
      'FelixConfiguration default: DefaultEndpointToHostAction = "Maybe": must be one of Drop, Return, Accept; using the default',
      'environment: VXLANPort = "seventy": must be an integer 1..65535; using the default',
    ]);
  });

  test('failsafe ports from env text and from the resource list; none clears', () => {
    const env = resolveFelixConfig({ env: { FELIX_FAILSAFEINBOUNDHOSTPORTS: 'tcp:22, udp:10.0.0.0/8:68, 443' } });
    assert.deepEqual(env.config.failsafeInboundHostPorts, [
      { protocol: 'tcp', port: 22 },
      { protocol: 'udp', port: 68, net: '10.0.0.0/8' },
      { protocol: 'tcp', port: 443 },
    ]);
    const res = resolveFelixConfig({ defaultSpec: { failsafeOutboundHostPorts: [{ protocol: 'UDP', port: 53 }] } });
    assert.deepEqual(res.config.failsafeOutboundHostPorts, [{ protocol: 'udp', port: 53 }]);
    assert.deepEqual(
      resolveFelixConfig({ env: { FELIX_FAILSAFEINBOUNDHOSTPORTS: 'none' } }).config.failsafeInboundHostPorts,
      [],
    );
    const bad = resolveFelixConfig({ env: { FELIX_FAILSAFEINBOUNDHOSTPORTS: 'icmp:1' } });
    assert.match(bad.problems[0]!, /FailsafeInboundHostPorts.*protocol "icmp" must be tcp, udp or sctp/);
  });

  test('mark bits come from the mask, lowest first; a mask with too few bits is refused', () => {
    assert.deepEqual(allocateMarks(0x1f00), {
      accept: 0x100,
      pass: 0x200,
      drop: 0x400,
      scratch0: 0x800,
      scratch1: 0x1000,
      endpoint: 0,
      all: 0x1f00,
    });
    const r = resolveFelixConfig({ defaultSpec: { iptablesMarkMask: 0xf0 } });
    assert.equal(r.config.iptablesMarkMask, 0xffff0000);
    assert.match(r.problems[0]!, /IptablesMarkMask.*at least 5 bits/);
  });

  test('none empties list and text fields', () => {
    const { config } = resolveFelixConfig({ env: { FELIX_INTERFACEEXCLUDE: 'none', FELIX_LOGPREFIX: 'None' } });
    assert.deepEqual(config.interfaceExclude, []);
    assert.equal(config.logPrefix, '');
    assert.deepEqual(resolveFelixConfig({ env: { FELIX_INTERFACEPREFIX: 'cali, tap' } }).config.interfacePrefixes, [
      'cali',
      'tap',
    ]);
  });

  test('interfaceExclude: names and /regex/ entries as Felix parses them; a bad entry names itself and the reason', () => {
    const ok = resolveFelixConfig({ defaultSpec: { interfaceExclude: 'kube-ipvs0, /^veth[0-9]+$/,eth1' } });
    assert.deepEqual(ok.config.interfaceExclude, ['kube-ipvs0', '/^veth[0-9]+$/', 'eth1']);
    assert.deepEqual(ok.problems, []);
    const badRegex = resolveFelixConfig({ nodeSpec: { interfaceExclude: '/^kube(/' } });
    assert.deepEqual(badRegex.config.interfaceExclude, ['kube-ipvs0'], 'the built-in default replaces it');
    assert.match(
      badRegex.problems[0]!,
      /FelixConfiguration node: InterfaceExclude = .*"\/\^kube\(\/" is not a valid regular expression/,
    );
    // Felix's plain-name pattern is 1-15 of [a-zA-Z0-9_-] (no dots); a regex element has no spaces.
    assert.match(resolveFelixConfig({ env: { FELIX_INTERFACEEXCLUDE: 'eth0.100' } }).problems[0]!, /eth0\.100/);
    const badName = resolveFelixConfig({ env: { FELIX_INTERFACEEXCLUDE: 'eth0,my "if"' } });
    assert.match(
      badName.problems[0]!,
      /environment: InterfaceExclude .*neither an interface name nor a \/regular expression\//,
    );
  });

  test('durations', () => {
    assert.equal(parseDurationSeconds('90s'), 90);
    assert.equal(parseDurationSeconds('1m30s'), 90);
    assert.equal(parseDurationSeconds('250ms'), 0.25);
    assert.equal(parseDurationSeconds(12), 12);
    assert.throws(() => parseDurationSeconds('ten'), /not a duration/);
  });

  test('the graph merges env, node.<name> and default; other nodes are ignored; deletion falls back', () => {
    const g = new CalcGraph({ nodeName: 'node1', env: { FELIX_CHAININSERTMODE: 'append' } });
    g.onUpdates([
      put(felixConfig('default', { defaultEndpointToHostAction: 'Accept', chainInsertMode: 'Insert', logPrefix: 'd' })),
      put(felixConfig('node.node1', { defaultEndpointToHostAction: 'Return' })),
      put(felixConfig('node.node2', { defaultEndpointToHostAction: 'Drop', logPrefix: 'other' })),
    ]);
    let c = g.snapshot().config;
    assert.equal(c.defaultEndpointToHostAction, 'Return');
    assert.equal(c.chainInsertMode, 'append');
    assert.equal(c.logPrefix, 'd');
    g.flush();
    g.onUpdate({ type: 'delete', kind: 'FelixConfiguration', name: 'node.node1' });
    c = g.snapshot().config;
    assert.equal(c.defaultEndpointToHostAction, 'Accept');
    assert.equal(g.flush().configChanged, true);
    g.onUpdate({ type: 'delete', kind: 'FelixConfiguration', name: 'node.node2' });
    assert.equal(g.flush().configChanged, false);
  });
});
