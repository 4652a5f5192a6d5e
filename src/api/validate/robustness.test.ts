import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { KINDS } from '../kinds.js';
import { defaultKubernetesObject } from '../k8s/defaults.js';
import type { KubernetesObject } from '../k8s/types.js';
import { kubernetesObjectProblems } from '../k8s/validate.js';
import { decodeDocuments } from '../decode.js';
import { ResourceValidationError } from '../problems.js';
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

describe('robustness of the Kubernetes input path', () => {
  test('defaulting and validation never throw, whatever the input', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('Namespace', 'Pod', 'ServiceAccount', 'Node', 'NetworkPolicy'),
        value,
        value,
        (kind, spec, meta) => {
          const obj = {
            apiVersion: kind === 'NetworkPolicy' ? 'networking.k8s.io/v1' : 'v1',
            kind,
            metadata: meta,
            spec,
          };
          const defaulted = defaultKubernetesObject(obj as unknown as KubernetesObject);
          for (const p of kubernetesObjectProblems(defaulted).problems) assert.equal(typeof p.reason, 'string');
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('robustness of decoding', () => {
  test('any text either decodes or fails with a ResourceValidationError', () => {
    const pieces = fc.constantFrom(
      '---\n',
      'kind: List\n',
      'items:\n',
      '- a\n',
      '{',
      '}',
      '[',
      ']',
      '"',
      ':',
      ' ',
      '\n',
      'x',
      '&a ',
      '*a',
      '!!int ',
      '#',
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 30 }), (parts) => {
        try {
          decodeDocuments(parts.join(''));
        } catch (e) {
          assert.ok(e instanceof ResourceValidationError, String(e));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
