import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMatrix, matrixDifferences } from './matrix.js';

test('prints a matrix like the upstream netpol e2e tests', () => {
  const m = { 'x/a': { 'x/a': true, 'x/b': false }, 'x/b': { 'x/a': true, 'x/b': true } };
  assert.equal(formatMatrix(m), '-\tx/a\tx/b\nx/a\t.\tX\nx/b\t.\t.');
});

test('differences ignore the diagonal and name each pair', () => {
  const expected = { 'x/a': { 'x/a': false, 'x/b': true } };
  const actual = { 'x/a': { 'x/a': true, 'x/b': false } };
  assert.deepEqual(matrixDifferences(expected, actual), ['x/a -> x/b: expected reachable, got blocked']);
});
