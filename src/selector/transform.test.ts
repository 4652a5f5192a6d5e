import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { andSelectors, parseSelector, selectorFromAst, withLabelPrefix } from './index.js';

describe('selector transforms', () => {
  test('withLabelPrefix prefixes every label key and leaves all()/global() alone', () => {
    const sel = withLabelPrefix(parseSelector('team == "a" && !has(x) || k in {"v"} || all()'), 'pcns.');
    assert.equal(sel.toString(), '((pcns.team == "a" && !has(pcns.x)) || pcns.k in {"v"} || all())');
    assert.equal(sel.matches({ 'pcns.team': 'a' }), true);
    assert.equal(sel.matches({ team: 'a', x: '1' }), true); // all() still matches everything
  });

  test('andSelectors equals parsing "(a) && (b)"', () => {
    const a = parseSelector('app == "web" || has(x)');
    const b = parseSelector("projectcalico.org/namespace == 'default'");
    const combined = andSelectors(a, b);
    assert.equal(combined.toString(), parseSelector(`(${a}) && (${b})`).toString());
    assert.equal(combined.toString(), '((app == "web" || has(x)) && projectcalico.org/namespace == "default")');
    assert.equal(combined.matches({ x: '', 'projectcalico.org/namespace': 'default' }), true);
    assert.equal(combined.matches({ x: '' }), false);
    assert.equal(andSelectors(a), a);
  });

  test('selectorFromAst normalises and refuses keys or values that cannot be written', () => {
    const sel = selectorFromAst({
      kind: 'not',
      operand: { kind: 'not', operand: { kind: 'in', label: 'k', values: ['b', 'a', 'b'] } },
    });
    assert.equal(sel.toString(), 'k in {"a", "b"}');
    assert.equal(parseSelector(sel.toString()).toString(), sel.toString());
    assert.throws(() => selectorFromAst({ kind: 'has', label: 'bad key' }), /label key "bad key" is not valid/);
    assert.throws(() => selectorFromAst({ kind: 'eq', label: 'k', value: `"'` }), /both kinds of quote/);
  });
});
