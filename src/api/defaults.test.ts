import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyCreateDefaults } from './defaults.js';
import type { ObjectMeta, Resource } from './resource.js';

const res = (kind: string, spec: Record<string, unknown>, metadata: ObjectMeta = { name: 'x' }): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind,
  metadata,
  spec,
});

describe('applyCreateDefaults', () => {
  test('IPv4 pool defaults', () => {
    assert.deepEqual(applyCreateDefaults(res('IPPool', { cidr: '10.244.0.0/16' })).spec, {
      cidr: '10.244.0.0/16',
      blockSize: 26,
      ipipMode: 'Never',
      vxlanMode: 'Never',
      nodeSelector: 'all()',
      allowedUses: ['Workload', 'Tunnel'],
      assignmentMode: 'Automatic',
    });
  });
  test('IPv6 pool gets blockSize 122 and a canonical CIDR', () => {
    const spec = applyCreateDefaults(res('IPPool', { cidr: 'fd00:0:0::/48' })).spec;
    assert.equal(spec.blockSize, 122);
    assert.equal(spec.cidr, 'fd00::/48');
  });
  test('values the user wrote are kept', () => {
    const spec = applyCreateDefaults(
      res('IPPool', { cidr: '10.0.0.0/8', blockSize: 24, vxlanMode: 'Always', nodeSelector: 'a == "b"' }),
    ).spec;
    assert.deepEqual([spec.blockSize, spec.vxlanMode, spec.nodeSelector], [24, 'Always', 'a == "b"']);
  });
  test('deprecated v1 pool fields become ipipMode and natOutgoing', () => {
    const spec = applyCreateDefaults(
      res('IPPool', { cidr: '10.0.0.0/8', ipip: { enabled: true, mode: 'cross-subnet' }, 'nat-outgoing': true }),
    ).spec;
    assert.equal(spec.ipipMode, 'CrossSubnet');
    assert.equal(spec.natOutgoing, true);
    assert.equal(spec.ipip, undefined);
    assert.equal(spec['nat-outgoing'], undefined);
  });
  test('the input is not modified', () => {
    const input = res('IPPool', { cidr: '10.0.0.0/8' });
    applyCreateDefaults(input);
    assert.deepEqual(input.spec, { cidr: '10.0.0.0/8' });
  });
  test('policy without rules gets types [Ingress] and the default tier', () => {
    const out = applyCreateDefaults(res('NetworkPolicy', { selector: 'all()' }, { name: 'p', namespace: 'a' }));
    assert.deepEqual(out.spec, { selector: 'all()', tier: 'default', types: ['Ingress'] });
    assert.deepEqual(out.metadata.labels, { 'projectcalico.org/tier': 'default' });
  });
  test('egress-only policy gets types [Egress]', () => {
    assert.deepEqual(applyCreateDefaults(res('GlobalNetworkPolicy', { egress: [{ action: 'Allow' }] })).spec.types, [
      'Egress',
    ]);
  });
  test('policy with both directions gets [Ingress, Egress]', () => {
    const spec = { ingress: [{ action: 'Allow' }], egress: [{ action: 'Allow' }], tier: 'security' };
    const out = applyCreateDefaults(res('GlobalNetworkPolicy', spec));
    assert.deepEqual(out.spec.types, ['Ingress', 'Egress']);
    assert.equal(out.metadata.labels?.['projectcalico.org/tier'], 'security');
  });
  test('explicit types are kept', () => {
    assert.deepEqual(applyCreateDefaults(res('NetworkPolicy', { types: ['Egress'] })).spec.types, ['Egress']);
  });
  test('FelixConfiguration and BGPConfiguration keep exactly what was written', () => {
    for (const kind of ['FelixConfiguration', 'BGPConfiguration']) {
      const input = res(kind, { logSeverityScreen: 'Debug' }, { name: 'default' });
      assert.deepEqual(applyCreateDefaults(input), input);
    }
  });
});
