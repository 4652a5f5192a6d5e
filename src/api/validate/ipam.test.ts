import { describe, test } from 'node:test';
import { expectProblem, expectValid, resource } from '../testing/expect.js';

const pool = (spec: Record<string, unknown>) => resource('IPPool', { cidr: '10.244.0.0/16', ...spec }, { name: 'p1' });

describe('IPPool validation', () => {
  test('a plain pool is valid', () => expectValid(pool({})));
  test('an IPv6 pool with VXLAN is valid', () => expectValid(pool({ cidr: 'fd00:1::/48', vxlanMode: 'Always' })));
  test('cidr is required', () => expectProblem(resource('IPPool', {}, { name: 'p1' }), 'spec.cidr', /required/));
  test('cidr must parse', () => expectProblem(pool({ cidr: '10.0.0.0/33' }), 'spec.cidr', /invalid CIDR/));
  test('cidr must be strictly masked', () =>
    expectProblem(pool({ cidr: '10.244.1.0/16' }), 'spec.cidr', /not strictly masked/));
  test('IPv4 blockSize above 32', () =>
    expectProblem(pool({ blockSize: 33 }), 'spec.blockSize', /^must be 20\.\.32 for an IPv4 pool, got 33$/));
  test('IPv4 blockSize below 20', () => expectProblem(pool({ blockSize: 19 }), 'spec.blockSize', /20\.\.32/));
  test('IPv6 blockSize range is 116..128', () =>
    expectProblem(pool({ cidr: 'fd00::/48', blockSize: 64 }), 'spec.blockSize', /116\.\.128 for an IPv6 pool/));
  test('pool smaller than the default block is refused', () =>
    expectProblem(pool({ cidr: '10.0.0.0/28' }), 'spec.cidr', /smaller than its block size \/26/));
  test('pool smaller than a block is allowed when disabled', () =>
    expectValid(pool({ cidr: '10.0.0.0/28', disabled: true })));
  test('IPv4 link-local overlap', () => expectProblem(pool({ cidr: '169.254.0.0/20' }), 'spec.cidr', /link-local/));
  test('a pool containing link-local overlaps too', () =>
    expectProblem(pool({ cidr: '128.0.0.0/1' }), 'spec.cidr', /169\.254\.0\.0\/16/));
  test('IPv6 link-local overlap', () => expectProblem(pool({ cidr: 'fe80::/64' }), 'spec.cidr', /fe80::\/10/));
  test('ipipMode value', () =>
    expectProblem(pool({ ipipMode: 'Sometimes' }), 'spec.ipipMode', /Never, Always, CrossSubnet/));
  test('vxlanMode value', () => expectProblem(pool({ vxlanMode: 'always' }), 'spec.vxlanMode', /one of/));
  test('IPIP and VXLAN not both on', () =>
    expectProblem(pool({ ipipMode: 'Always', vxlanMode: 'CrossSubnet' }), 'spec.vxlanMode', /cannot both be enabled/));
  test('IPIP on an IPv6 pool', () =>
    expectProblem(pool({ cidr: 'fd00::/48', ipipMode: 'Always' }), 'spec.ipipMode', /not supported on an IPv6/));
  test('allowedUses values', () =>
    expectProblem(pool({ allowedUses: ['Workload', 'Pods'] }), 'spec.allowedUses[1]', /one of/));
  test('allowedUses LoadBalancer is exclusive', () =>
    expectProblem(pool({ allowedUses: ['LoadBalancer', 'Workload'] }), 'spec.allowedUses', /cannot be combined/));
  test('LoadBalancer pool without encapsulation', () =>
    expectProblem(pool({ allowedUses: ['LoadBalancer'], vxlanMode: 'Always' }), 'spec.allowedUses', /IPIP or VXLAN/));
  test('LoadBalancer pool needs nodeSelector all()', () =>
    expectProblem(
      pool({ allowedUses: ['LoadBalancer'], nodeSelector: 'zone == "a"' }),
      'spec.nodeSelector',
      /all\(\)/,
    ));
  test('Tunnel pool cannot have a namespaceSelector', () =>
    expectProblem(
      pool({ allowedUses: ['Tunnel'], namespaceSelector: 'a == "b"' }),
      'spec.namespaceSelector',
      /Tunnel/,
    ));
  test('a namespaced pool without explicit allowedUses is valid', () =>
    expectValid(pool({ namespaceSelector: 'team == "a"' })));
  test('assignmentMode value', () =>
    expectProblem(pool({ assignmentMode: 'Auto' }), 'spec.assignmentMode', /Automatic, Manual/));
  test('nodeSelector syntax', () =>
    expectProblem(pool({ nodeSelector: 'zone = "a"' }), 'spec.nodeSelector', /invalid selector: .* at position \d+/));
  test('namespaceSelector syntax', () =>
    expectProblem(pool({ namespaceSelector: 'has(' }), 'spec.namespaceSelector', /invalid selector/));
  test('nodeSelector may not use global()', () =>
    expectProblem(pool({ nodeSelector: 'global()' }), 'spec.nodeSelector', /global\(\)/));
  test('natOutgoing must be a boolean', () =>
    expectProblem(pool({ natOutgoing: 'yes' }), 'spec.natOutgoing', /true or false/));
  test('deprecated v1 fields are known and kept', () =>
    expectValid(pool({ ipip: { enabled: true, mode: 'always' }, 'nat-outgoing': true })));
});

describe('other IPAM kinds', () => {
  test('IPReservation reservedCIDRs must be CIDRs or IPs', () =>
    expectProblem(
      resource('IPReservation', { reservedCIDRs: ['10.0.0.0/24', '10.0.0.300'] }),
      'spec.reservedCIDRs[1]',
      /invalid CIDR/,
    ));
  test('IPAMConfiguration must be named default', () =>
    expectProblem(
      resource('IPAMConfiguration', { strictAffinity: true }, { name: 'mine' }),
      'metadata.name',
      /named "default"/,
    ));
  test('IPAMConfiguration maxBlocksPerHost is not negative', () =>
    expectProblem(
      resource('IPAMConfiguration', { maxBlocksPerHost: -1 }, { name: 'default' }),
      'spec.maxBlocksPerHost',
      /0\.\.1000000/,
    ));
  test('IPAMConfiguration ipCooldownSeconds at most 1200', () =>
    expectProblem(
      resource('IPAMConfiguration', { ipCooldownSeconds: 1201 }, { name: 'default' }),
      'spec.ipCooldownSeconds',
      /0\.\.1200/,
    ));
  test('BlockAffinity deleted cannot be true', () =>
    expectProblem(
      resource('BlockAffinity', { state: 'confirmed', node: 'n1', cidr: '10.0.0.0/26', deleted: 'true' }),
      'spec.deleted',
      /cannot be set to true/,
    ));
  test('BlockAffinity state values', () =>
    expectProblem(
      resource('BlockAffinity', { state: 'done', node: 'n1', cidr: '10.0.0.0/26' }),
      'spec.state',
      /confirmed, pending, pendingDeletion/,
    ));
});
