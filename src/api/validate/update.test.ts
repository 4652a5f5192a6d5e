import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Resource } from '../resource.js';
import { updateProblems, validateUpdate } from './update.js';

const pool = (spec: Record<string, unknown>): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name: 'p1' },
  spec: { cidr: '10.0.0.0/16', ...spec },
});
const paths = (stored: Resource, next: Resource) => updateProblems(stored, next).problems.map((p) => p.path);

describe('updates', () => {
  test('changing natOutgoing is fine', () => assert.deepEqual(paths(pool({}), pool({ natOutgoing: true })), []));
  test('spelling the same CIDR differently is not a change', () =>
    assert.deepEqual(paths(pool({ cidr: 'fd00::/48' }), pool({ cidr: 'fd00:0::/48' })), []));
  test('an IPPool CIDR cannot change', () =>
    assert.deepEqual(paths(pool({}), pool({ cidr: '10.1.0.0/16' })), ['spec.cidr']));
  test('an IPPool block size cannot change (the default counts)', () =>
    assert.deepEqual(paths(pool({}), pool({ blockSize: 24 })), ['spec.blockSize']));
  test('a pool cannot stop being a LoadBalancer pool', () =>
    assert.deepEqual(paths(pool({ allowedUses: ['LoadBalancer'] }), pool({ allowedUses: ['Workload'] })), [
      'spec.allowedUses',
    ]));
  test('the new object is validated too', () =>
    assert.throws(() => validateUpdate(pool({}), pool({ blockSize: 40 })), /spec\.blockSize: must be 20\.\.32/));
});
