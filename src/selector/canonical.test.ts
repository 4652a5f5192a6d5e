// Property tests: random selector trees are written out in random legal spellings (quotes, spacing, keyword
// spellings, redundant parentheses and negations), parsed, and compared against a naive evaluator of the tree.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSelector, type SelectorNode } from './index.js';

type LabelMap = Record<string, string>;

const KEYS = ['app', 'tier', 'x.io/name', 'a-b_c', 'in', 'has'];
// No value holds both quote kinds: such a value cannot be written in the language.
const VALUES = ['', 'a', 'ab', 'b', 'web', 'say "hi"', "it's", ' sp ace ', 'é', '😀', '\uFFFD'];

const keyArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KEYS) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-zA-Z0-9_./-]{1,10}$/) },
);
const valueArb = fc.constantFrom(...VALUES);

const nodeArb: fc.Arbitrary<SelectorNode> = fc.letrec<{ node: SelectorNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant<SelectorNode>({ kind: 'all' }),
    fc.constant<SelectorNode>({ kind: 'global' }),
    keyArb.map<SelectorNode>((label) => ({ kind: 'has', label })),
    fc
      .tuple(fc.constantFrom('eq', 'ne', 'contains', 'startsWith', 'endsWith') as fc.Arbitrary<'eq'>, keyArb, valueArb)
      .map<SelectorNode>(([kind, label, value]) => ({ kind, label, value })),
    fc
      .tuple(fc.constantFrom('in', 'notIn') as fc.Arbitrary<'in'>, keyArb, fc.array(valueArb, { maxLength: 5 }))
      .map<SelectorNode>(([kind, label, values]) => ({ kind, label, values })),
    tie('node').map<SelectorNode>((operand) => ({ kind: 'not', operand })),
    fc.array(tie('node'), { minLength: 2, maxLength: 4 }).map<SelectorNode>((operands) => ({ kind: 'and', operands })),
    fc.array(tie('node'), { minLength: 2, maxLength: 4 }).map<SelectorNode>((operands) => ({ kind: 'or', operands })),
  ),
})).node;

const labelsArb: fc.Arbitrary<LabelMap> = fc.dictionary(keyArb, valueArb, { maxKeys: 6 });

/** The language's semantics written as plainly as possible, independent of the parser and the compiler. */
function evaluate(node: SelectorNode, labels: LabelMap): boolean {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(labels, k);
  switch (node.kind) {
    case 'all':
    case 'global':
      return true;
    case 'has':
      return has(node.label);
    case 'eq':
      return has(node.label) && labels[node.label] === node.value;
    case 'ne':
      return !has(node.label) || labels[node.label] !== node.value;
    case 'contains':
      return has(node.label) && labels[node.label].includes(node.value);
    case 'startsWith':
      return has(node.label) && labels[node.label].startsWith(node.value);
    case 'endsWith':
      return has(node.label) && labels[node.label].endsWith(node.value);
    case 'in':
      return has(node.label) && node.values.includes(labels[node.label]);
    case 'notIn':
      return !has(node.label) || !node.values.includes(labels[node.label]);
    case 'not':
      return !evaluate(node.operand, labels);
    case 'and':
      return node.operands.every((o) => evaluate(o, labels));
    case 'or':
      return node.operands.some((o) => evaluate(o, labels));
  }
}

/** Random choices for one spelling of a tree. */
type Coin = () => boolean;

function spaces(coin: Coin, atLeastOne = false): string {
  let s = atLeastOne ? (coin() ? ' ' : '\t') : '';
  for (let i = 0; i < 3 && coin(); i++) s += coin() ? ' ' : '\t';
  return s;
}

function quoted(value: string, coin: Coin): string {
  const q = value.includes('"') ? "'" : value.includes("'") ? '"' : coin() ? '"' : "'";
  return q + value + q;
}

/**
 * Writes a tree as selector text that parses back to the same tree: parentheses are added wherever the tree's
 * nesting needs them and, at random, around leaves and whole groups (which does not change the tree).
 */
function spell(node: SelectorNode, coin: Coin): string {
  const ws = (one = false) => spaces(coin, one);
  const maybeParen = (s: string) => (coin() && coin() ? `(${ws()}${s}${ws()})` : s);
  switch (node.kind) {
    case 'all':
      return maybeParen(`all(${ws()})`);
    case 'global':
      return maybeParen(`global(${ws()})`);
    case 'has':
      return maybeParen(`has(${ws()}${node.label}${ws()})`);
    case 'eq':
      return maybeParen(`${node.label}${ws()}==${ws()}${quoted(node.value, coin)}`);
    case 'ne':
      return maybeParen(`${node.label}${ws()}!=${ws()}${quoted(node.value, coin)}`);
    case 'contains':
      return maybeParen(`${node.label}${ws(true)}contains${ws()}${quoted(node.value, coin)}`);
    case 'startsWith':
      return maybeParen(`${node.label}${ws(true)}starts${ws()}with${ws()}${quoted(node.value, coin)}`);
    case 'endsWith':
      return maybeParen(`${node.label}${ws(true)}ends${ws()}with${ws()}${quoted(node.value, coin)}`);
    case 'in':
    case 'notIn': {
      const members = [...node.values];
      if (members.length > 0 && coin()) members.push(members[0]);
      if (coin()) members.reverse();
      const op = node.kind === 'in' ? 'in' : `not${ws()}in`;
      const body = members.map((v) => ws() + quoted(v, coin) + ws()).join(',');
      const trailing = members.length > 0 && coin() ? ',' : '';
      return maybeParen(`${node.label}${ws(true)}${op}${ws()}{${body}${trailing}${ws()}}`);
    }
    case 'not': {
      const operand = node.operand;
      const inner = spell(operand, coin);
      const grouped = operand.kind === 'and' || operand.kind === 'or' ? `(${inner})` : inner;
      return `!${ws()}${grouped}`;
    }
    case 'and':
    case 'or': {
      const joiner = node.kind === 'and' ? '&&' : '||';
      const parts = node.operands.map((o) => {
        const s = spell(o, coin);
        // A nested group of either kind must keep its own parentheses to stay a separate node, except an && group
        // inside ||, which precedence already keeps together.
        const needs = o.kind === node.kind || (node.kind === 'and' && o.kind === 'or');
        return needs || (o.kind === 'and' && coin()) ? `(${s})` : s;
      });
      return parts.join(`${ws()}${joiner}${ws()}`);
    }
  }
}

function coinFrom(bits: readonly boolean[]): Coin {
  let i = 0;
  return () => bits[i++ % bits.length];
}

const bitsArb = fc.array(fc.boolean(), { minLength: 1, maxLength: 64 });

describe('selector canonical form (property tests)', () => {
  test('any spelling parses to a selector that agrees with the tree on every label set', () => {
    fc.assert(
      fc.property(nodeArb, bitsArb, fc.array(labelsArb, { maxLength: 8 }), (node, bits, labelSets) => {
        const text = spell(node, coinFrom(bits));
        const sel = parseSelector(text);
        for (const labels of labelSets) assert.equal(sel.matches(labels), evaluate(node, labels), text);
      }),
      { numRuns: 2000 },
    );
  });

  test('parse(canon(s)) matches exactly the label sets s matches', () => {
    fc.assert(
      fc.property(nodeArb, bitsArb, fc.array(labelsArb, { maxLength: 8 }), (node, bits, labelSets) => {
        const s = parseSelector(spell(node, coinFrom(bits)));
        const again = parseSelector(s.toString());
        for (const labels of labelSets) assert.equal(again.matches(labels), s.matches(labels), s.toString());
      }),
      { numRuns: 2000 },
    );
  });

  test('the canonical form is a fixed point', () => {
    fc.assert(
      fc.property(nodeArb, bitsArb, (node, bits) => {
        const canon = parseSelector(spell(node, coinFrom(bits))).toString();
        assert.equal(parseSelector(canon).toString(), canon);
      }),
      { numRuns: 2000 },
    );
  });

  test('two spellings of one tree give the same canonical text', () => {
    fc.assert(
      fc.property(nodeArb, bitsArb, bitsArb, (node, bits1, bits2) => {
        const a = parseSelector(spell(node, coinFrom(bits1))).toString();
        const b = parseSelector(spell(node, coinFrom(bits2))).toString();
        assert.equal(a, b);
      }),
      { numRuns: 2000 },
    );
  });
});
