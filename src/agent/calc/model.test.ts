// The model's helpers the renderer relies on: policy ids, named-port members, per-family rule rendering.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compiledRule,
  netsOfFamily,
  parseNamedPortMember,
  parsePolicyId,
  policyIdOf,
  ruleAppliesToFamily,
  type CompiledRule,
} from './model.js';

const rule = (over: Partial<CompiledRule>): CompiledRule => compiledRule({ action: 'allow', ...over });

describe('model helpers', () => {
  test('policy ids encode kind, tier, namespace and name and parse back', () => {
    const np = { kind: 'NetworkPolicy', tier: 'default', namespace: 'prod', name: 'knp.default.x' } as const;
    assert.equal(policyIdOf(np), 'np/default/prod/knp.default.x');
    assert.deepEqual(parsePolicyId(policyIdOf(np)), np);
    const g = { kind: 'StagedGlobalNetworkPolicy', tier: 'sec', name: 'sec.p' } as const;
    assert.equal(policyIdOf(g), 'sgnp/sec/sec.p');
    assert.deepEqual(parsePolicyId('sgnp/sec/sec.p'), g);
    assert.throws(() => parsePolicyId('xx/a/b'), /malformed policy id/);
  });

  test('named-port members of both families', () => {
    assert.deepEqual(parseNamedPortMember('10.0.0.1,tcp:8080'), { ip: '10.0.0.1', protocol: 'tcp', port: 8080 });
    assert.deepEqual(parseNamedPortMember('fd00::1,sctp:9'), { ip: 'fd00::1', protocol: 'sctp', port: 9 });
  });

  test('a rule renders for a family unless ipVersion or its positive nets exclude it', () => {
    assert.deepEqual(netsOfFamily(['10.0.0.0/8', 'fd00::/8'], 6), ['fd00::/8']);
    assert.equal(ruleAppliesToFamily(rule({}), 6), true);
    assert.equal(ruleAppliesToFamily(rule({ ipVersion: 4 }), 6), false);
    assert.equal(ruleAppliesToFamily(rule({ srcNets: ['10.0.0.0/8'] }), 6), false);
    assert.equal(ruleAppliesToFamily(rule({ srcNets: ['10.0.0.0/8', 'fd00::/8'] }), 6), true);
    assert.equal(ruleAppliesToFamily(rule({ notDstNets: ['10.0.0.0/8'] }), 6), true, 'notNets never exclude a family');
  });
});
