import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { KINDS } from '../kinds.js';
import { resourceProblems } from './index.js';

// Values of the shapes that appear in resources, mixed freely so every validator meets wrong types.
const leaf = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    '10.0.0.0/8',
    'fd00::1',
    'all()',
    'global()',
    'TCP',
    'ICMP',
    '80:90',
    'http',
    'Always',
    '90s',
    '64512.1',
  ),
  fc.integer({ min: -5, max: 70000 }),
  fc.boolean(),
  fc.constant(null),
);
const value = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('node'), { maxLength: 3 }),
    fc.dictionary(
      fc.constantFrom(
        'cidr',
        'action',
        'protocol',
        'ports',
        'nets',
        'selector',
        'source',
        'destination',
        'ingress',
        'egress',
        'icmp',
        'type',
        'code',
        'name',
        'node',
        'peerIP',
        'asNumber',
        'x',
      ),
      tie('node'),
      { maxKeys: 5 },
    ),
  ),
})).node;

describe('robustness', () => {
  test('validation reports problems and never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS.map((k) => k.kind)), value, value, (kind, spec, name) => {
        const sink = resourceProblems({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec });
        for (const p of sink.problems) assert.equal(typeof p.reason, 'string');
      }),
      { numRuns: 1500 },
    );
  });
});
