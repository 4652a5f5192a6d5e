import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProblemSink } from './problems.js';
import { checkShape, int, list, map, obj, oneOf, required, str } from './schema.js';

function check(value: unknown, type: Parameters<typeof checkShape>[1]): string[] {
  const sink = new ProblemSink(0, 'K', 'n');
  checkShape(value, type, 'spec', sink);
  return sink.problems.map((p) => `${p.path}: ${p.reason}`);
}

describe('field-table walk', () => {
  const table = obj({ a: required(str()), b: list(obj({ c: int(1, 3) })), m: map(oneOf(['X', 'Y'], true)) });
  test('valid input has no problems', () =>
    assert.deepEqual(check({ a: 'x', b: [{ c: 2 }], m: { k: 'x' } }, table), []));
  test('reports unknown fields, types, ranges and enums with paths', () =>
    assert.deepEqual(check({ b: [{ c: 4, d: 1 }], m: { k: 'Z' }, e: true }, table), [
      'spec.b[0].c: must be 1..3, got 4',
      'spec.b[0].d: unknown field',
      'spec.m.k: must be one of X, Y, got "Z"',
      'spec.e: unknown field',
      'spec.a: required',
    ]));
  test('null counts as unset', () => assert.deepEqual(check({ a: 'x', b: null }, table), []));
  test('open objects keep unknown fields', () => assert.deepEqual(check({ z: 1 }, obj({}, { open: true })), []));
});
