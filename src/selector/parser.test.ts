import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector, SelectorParseError } from './index.js';

describe('parseSelector basics', () => {
  test('equal selectors spelled differently print the same canonical string', () => {
    assert.equal(parseSelector("a=='x'").toString(), 'a == "x"');
    assert.equal(parseSelector('a == "x"').toString(), 'a == "x"');
    assert.equal(parseSelector('!!has(a)').toString(), 'has(a)');
    assert.equal(parseSelector("k in {'b','a','a'}").toString(), 'k in {"a", "b"}');
    assert.equal(parseSelector('k in {"a", "b"}').toString(), 'k in {"a", "b"}');
  });

  test('empty selector is all()', () => {
    assert.equal(parseSelector('').toString(), 'all()');
    assert.equal(parseSelector(' \t').matches({}), true);
  });

  test('invalid input throws SelectorParseError with the position', () => {
    assert.throws(
      () => parseSelector('a = "x"'),
      (e: unknown) => e instanceof SelectorParseError && e.position === 2 && /position 2/.test(e.message),
    );
  });
});
