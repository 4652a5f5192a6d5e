import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalSelector, parseSelector, SelectorParseError } from './index.js';

type LabelMap = Record<string, string>;

function assertMatches(text: string, cases: ReadonlyArray<readonly [LabelMap, boolean]>): void {
  const sel = parseSelector(text);
  for (const [labels, expected] of cases) {
    assert.equal(sel.matches(labels), expected, `${text} on ${JSON.stringify(labels)}`);
  }
}

function assertParseError(text: string, position: number, reason: RegExp): void {
  assert.throws(
    () => parseSelector(text),
    (e: unknown) => {
      assert.ok(e instanceof SelectorParseError, `expected SelectorParseError for ${JSON.stringify(text)}`);
      assert.equal(e.position, position, `position for ${JSON.stringify(text)}: ${e.message}`);
      assert.match(e.reason, reason);
      assert.ok(e.message.includes(`at position ${position}`), e.message);
      assert.ok(e.message.includes(JSON.stringify(text)), e.message);
      return true;
    },
  );
}

describe('selector operators', () => {
  test('all() and the empty selector match everything', () => {
    assertMatches('all()', [
      [{}, true],
      [{ a: 'b' }, true],
    ]);
    assertMatches('', [[{}, true]]);
    assert.equal(canonicalSelector(''), 'all()');
    assert.equal(canonicalSelector('   '), 'all()');
  });

  test('global() matches as a plain label selector and is reported by usesGlobal()', () => {
    assertMatches('global()', [[{}, true]]);
    assert.equal(parseSelector('global()').usesGlobal(), true);
    assert.equal(parseSelector('a == "x" || !global()').usesGlobal(), true);
    assert.equal(parseSelector('has(global)').usesGlobal(), false);
    assert.equal(parseSelector('all()').usesGlobal(), false);
  });

  test('has(k) is true when the key is present, even with an empty value', () => {
    assertMatches('has(a)', [
      [{ a: '' }, true],
      [{ a: 'x' }, true],
      [{ b: 'x' }, false],
      [{}, false],
    ]);
  });

  test('== needs the key present with that value', () => {
    assertMatches('a == "x"', [
      [{ a: 'x' }, true],
      [{ a: 'X' }, false],
      [{ a: '' }, false],
      [{}, false],
    ]);
    assertMatches('a == ""', [
      [{ a: '' }, true],
      [{}, false],
    ]);
  });

  test('!= is true when the key is absent or differs', () => {
    assertMatches('a != "x"', [
      [{ a: 'x' }, false],
      [{ a: 'y' }, true],
      [{}, true],
    ]);
  });

  test('in {…} needs the key present with a listed value; the empty set matches nothing', () => {
    assertMatches('a in {"x", "y"}', [
      [{ a: 'x' }, true],
      [{ a: 'y' }, true],
      [{ a: 'z' }, false],
      [{}, false],
    ]);
    assertMatches('a in {}', [
      [{ a: '' }, false],
      [{}, false],
    ]);
    assertMatches('a in {"1", "2", "3", "4", "5"}', [
      [{ a: '5' }, true],
      [{ a: '6' }, false],
    ]);
  });

  test('not in {…} is true when the key is absent or its value is not listed', () => {
    for (const spelling of ['a not in {"x"}', 'a notin {"x"}', 'a not \t in {"x"}', 'a notin{"x"}']) {
      assertMatches(spelling, [
        [{ a: 'x' }, false],
        [{ a: 'y' }, true],
        [{}, true],
      ]);
      assert.equal(canonicalSelector(spelling), 'a not in {"x"}');
    }
    assertMatches('a not in {}', [
      [{ a: 'q' }, true],
      [{}, true],
    ]);
  });

  test('contains / starts with / ends with need the key present', () => {
    assertMatches('a contains "ell"', [
      [{ a: 'hello' }, true],
      [{ a: 'help' }, false],
      [{}, false],
    ]);
    assertMatches('a contains ""', [
      [{ a: '' }, true],
      [{}, false],
    ]);
    for (const spelling of ['a starts with "he"', 'a startswith "he"', 'a starts\t\twith"he"']) {
      assertMatches(spelling, [
        [{ a: 'hello' }, true],
        [{ a: 'ohe' }, false],
        [{}, false],
      ]);
      assert.equal(canonicalSelector(spelling), 'a starts with "he"');
    }
    for (const spelling of ['a ends with "lo"', 'a endswith "lo"', "a ends  with'lo'"]) {
      assertMatches(spelling, [
        [{ a: 'hello' }, true],
        [{ a: 'lol' }, false],
        [{}, false],
      ]);
      assert.equal(canonicalSelector(spelling), 'a ends with "lo"');
    }
  });

  test('!, && and || are boolean operators', () => {
    assertMatches('!has(a)', [
      [{}, true],
      [{ a: '' }, false],
    ]);
    assertMatches('a == "1" && b == "2"', [
      [{ a: '1', b: '2' }, true],
      [{ a: '1' }, false],
      [{ b: '2' }, false],
    ]);
    assertMatches('a == "1" || b == "2"', [
      [{ a: '1' }, true],
      [{ b: '2' }, true],
      [{ a: '2', b: '1' }, false],
    ]);
  });

  test('inherited Object properties are never labels', () => {
    assertMatches('has(constructor) || has(__proto__) || toString != "" && hasOwnProperty == "x"', [[{}, false]]);
    assertMatches('constructor != "x" && __proto__ not in {"a"}', [[{}, true]]);
    assertMatches('constructor == "x"', [[{ constructor: 'x' } as LabelMap, true]]);
  });
});

describe('selector precedence', () => {
  test('&& binds tighter than ||', () => {
    const text = 'a == "1" || b == "1" && c == "1"';
    assert.equal(canonicalSelector(text), '(a == "1" || (b == "1" && c == "1"))');
    assertMatches(text, [
      [{ a: '1' }, true],
      [{ b: '1' }, false],
      [{ b: '1', c: '1' }, true],
    ]);
    assert.equal(canonicalSelector('a == "1" && b == "1" || c == "1"'), '((a == "1" && b == "1") || c == "1")');
  });

  test('! binds tighter than && and applies to one operation', () => {
    const text = '!a == "1" && b == "1"';
    assert.equal(canonicalSelector(text), '(!a == "1" && b == "1")');
    assertMatches(text, [
      [{ b: '1' }, true],
      [{ a: '1', b: '1' }, false],
    ]);
    assert.equal(canonicalSelector('!has(a) || has(b)'), '(!has(a) || has(b))');
  });

  test('parentheses group, and ! applies to a whole group', () => {
    const text = '(a == "1" || b == "1") && c == "1"';
    assert.equal(canonicalSelector(text), '((a == "1" || b == "1") && c == "1")');
    assertMatches(text, [
      [{ a: '1' }, false],
      [{ a: '1', c: '1' }, true],
    ]);
    const negated = '!(a == "1" && b == "1")';
    assert.equal(canonicalSelector(negated), '!(a == "1" && b == "1")');
    assertMatches(negated, [
      [{ a: '1', b: '1' }, false],
      [{ a: '1' }, true],
    ]);
  });

  test('runs of ! collapse by parity, also across parentheses', () => {
    assert.equal(canonicalSelector('!!has(a)'), 'has(a)');
    assert.equal(canonicalSelector('!!!has(a)'), '!has(a)');
    assert.equal(canonicalSelector('!(!has(a))'), 'has(a)');
    assert.equal(canonicalSelector('!(!(!(a == "x")))'), '!a == "x"');
    assert.equal(canonicalSelector('! ! has(a)'), 'has(a)');
  });

  test('redundant parentheses vanish; explicit nesting of && and || is kept as Calico keeps it', () => {
    assert.equal(canonicalSelector('((a == "x"))'), 'a == "x"');
    assert.equal(canonicalSelector('(a == "1" && b == "1") && c == "1"'), '((a == "1" && b == "1") && c == "1")');
    assert.equal(canonicalSelector('a == "1" && b == "1" && c == "1"'), '(a == "1" && b == "1" && c == "1")');
    assert.equal(canonicalSelector('(a == "1" || b == "1") || c == "1"'), '((a == "1" || b == "1") || c == "1")');
  });
});

describe('selector quoting', () => {
  test('single and double quotes are equivalent; canonical form uses double quotes', () => {
    assert.equal(canonicalSelector("a == 'x'"), 'a == "x"');
    assert.equal(canonicalSelector('a == "x"'), 'a == "x"');
    assert.equal(canonicalSelector('a in {\'x\', "y"}'), 'a in {"x", "y"}');
  });

  test('a value holding a double quote is printed in single quotes, and vice versa it stays double', () => {
    assert.equal(canonicalSelector(`a == 'say "hi"'`), `a == 'say "hi"'`);
    assertMatches(`a == 'say "hi"'`, [[{ a: 'say "hi"' }, true]]);
    assert.equal(canonicalSelector(`a == "it's"`), `a == "it's"`);
    assert.equal(canonicalSelector(`a in {"p", '"q"'}`), `a in {'"q"', "p"}`);
  });

  test('there are no escapes: a backslash is an ordinary character', () => {
    assertMatches('a == "x\\"', [[{ a: 'x\\' }, true]]);
    assert.equal(canonicalSelector('a == "x\\"'), 'a == "x\\"');
  });

  test('values may hold spaces, operators and any Unicode text', () => {
    assertMatches('a == "x && y || !z"', [[{ a: 'x && y || !z' }, true]]);
    assertMatches('a == "héllo wörld ✓ 😀"', [[{ a: 'héllo wörld ✓ 😀' }, true]]);
  });

  test('set members are sorted by code point and de-duplicated', () => {
    assert.equal(canonicalSelector("k in {'b','a','a'}"), 'k in {"a", "b"}');
    assert.equal(canonicalSelector('k in {"a", "b"}'), 'k in {"a", "b"}');
    assert.equal(canonicalSelector('k not in {"b", "B", "", "a"}'), 'k not in {"", "B", "a", "b"}');
    // U+FFFD sorts before U+1F600 (a surrogate pair in UTF-16), as Go sorts UTF-8 bytes.
    assert.equal(canonicalSelector('k in {"😀", "\uFFFD"}'), 'k in {"\uFFFD", "😀"}');
    assert.equal(canonicalSelector('k in {"x",}'), 'k in {"x"}');
    assert.equal(canonicalSelector('k in {}'), 'k in {}');
  });
});

describe('selector whitespace', () => {
  test('spaces and tabs are optional around symbols and inside function parentheses', () => {
    const forms = [
      'a=="x"&&b!="y"||!has(c)',
      '  a == "x"  &&  b != "y"  ||  ! has( c )  ',
      '\ta\t==\t"x"\t&&\tb\t!=\t"y"\t||\t!\thas(\tc\t)\t',
    ];
    for (const f of forms) assert.equal(canonicalSelector(f), '((a == "x" && b != "y") || !has(c))', f);
    assert.equal(canonicalSelector('all( )'), 'all()');
    assert.equal(canonicalSelector('global(\t)'), 'global()');
    assert.equal(canonicalSelector('a in{"x"}'), 'a in {"x"}');
    assert.equal(canonicalSelector('a contains"x"'), 'a contains "x"');
  });

  test('newlines and other whitespace are not allowed', () => {
    assertParseError('a == "x"\n', 8, /unexpected character "\\n"/);
    assertParseError('\ra == "x"', 0, /unexpected character "\\r"/);
    assertParseError('a == "x" &&\u00a0b == "y"', 11, /unexpected character "\u00a0"/);
  });
});

describe('selector label keys', () => {
  test('keys use letters, digits, _ . / - and may look like keywords', () => {
    assertMatches('app.kubernetes.io/name == "x" && a_b-c.d/e == "y" && 1abc == "z"', [
      [{ 'app.kubernetes.io/name': 'x', 'a_b-c.d/e': 'y', '1abc': 'z' }, true],
    ]);
    for (const key of ['in', 'not', 'contains', 'has', 'all', 'global', 'starts', 'with']) {
      assertMatches(`${key} == "v"`, [[{ [key]: 'v' }, true]]);
    }
    assertMatches('has(projectcalico.org/namespace)', [[{ 'projectcalico.org/namespace': 'ns' }, true]]);
  });

  test('a key may be 512 characters long, not 513', () => {
    const long = 'k'.repeat(512);
    assertMatches(`${long} == "v"`, [[{ [long]: 'v' }, true]]);
    assertParseError(`${long}k == "v"`, 0, /longer than 512/);
    assertParseError(`has(${long}k)`, 4, /longer than 512/);
  });

  test('keyword operators need a word boundary after their last word only', () => {
    assertParseError('a inx {"a"}', 2, /expected an operator after label "a"/);
    assertParseError('a notinx {"a"}', 2, /expected an operator after label "a"/);
    assertParseError('a containsx "a"', 2, /expected an operator after label "a"/);
    assertParseError('a startswithx "a"', 2, /expected an operator after label "a"/);
    assertParseError('a starts "x"', 2, /expected an operator/);
    assertParseError('a not {"x"}', 2, /expected an operator/);
    assert.equal(canonicalSelector("a startswith'x'"), 'a starts with "x"');
  });
});

describe('selector errors carry the position', () => {
  const cases: ReadonlyArray<readonly [string, number, RegExp]> = [
    ['a = "x"', 2, /single '='/],
    ['a == "x" & b == "y"', 9, /single '&'/],
    ['a == "x" | b == "y"', 9, /single '\|'/],
    ['a == "x', 5, /unterminated string/],
    ["a == 'x", 5, /unterminated string/],
    ['a', 1, /expected an operator after label "a".*end of selector/],
    ['a b', 2, /expected an operator after label "a"/],
    ['a == x', 5, /expected a quoted string after '==', found label "x"/],
    ['a != 1', 5, /expected a quoted string after '!='/],
    ['a contains', 10, /expected a quoted string after 'contains', found end of selector/],
    ['a ==', 4, /expected a quoted string/],
    ['a in "x"', 5, /expected '\{'/],
    ['a in {"x" "y"}', 10, /expected ',' or '\}'/],
    ['a in {"x",,}', 10, /expected a quoted string or '\}'/],
    ['a in {x}', 6, /expected a quoted string or '\}'/],
    ['a in {"x"', 9, /expected ',' or '\}'.*end of selector/],
    ['(a == "x"', 9, /expected '\)' to close the '\(' at position 0/],
    ['a == "x")', 8, /unexpected content at end of selector/],
    ['a == "x" b == "y"', 9, /unexpected content at end of selector: label "b"/],
    ['has(a', 5, /expected '\)' to close has\(/],
    ['has()', 4, /expected a label key inside has/],
    ['has(a b)', 6, /expected '\)' to close has\(/],
    ['all(x)', 4, /expected '\)' to close all\(/],
    ['global(', 7, /expected '\)' to close global\(/],
    ['&& a == "x"', 0, /expected a label, has\(\), all\(\), global\(\), '!' or '\(' but found '&&'/],
    ['a == "x" &&', 11, /but found end of selector/],
    ['a == "x" || ', 12, /but found end of selector/],
    ['!', 1, /but found end of selector/],
    ['a == "x" && ()', 13, /but found '\)'/],
    ['"x" == a', 0, /but found string "x"/],
    ['@', 0, /unexpected character "@"/],
    ['a == "x" && b == "y" && c ~= "z"', 26, /expected an operator after label "c"/],
  ];
  for (const [text, position, reason] of cases) {
    test(`${JSON.stringify(text)} fails at ${position}`, () => assertParseError(text, position, reason));
  }
});

describe('selector identity', () => {
  test('equal selectors spelled differently give the same canonical text and unique ID', () => {
    const groups = [
      ["a=='x'", 'a == "x"', '(a == "x")', '!!a=="x"'],
      ['!!has(a)', 'has(a)', 'has( a )'],
      ["k in {'b','a','a'}", 'k in {"a", "b"}', 'k in{"b","a",}'],
    ];
    for (const group of groups) {
      const texts = new Set(group.map(canonicalSelector));
      const ids = new Set(group.map((t) => parseSelector(t).uniqueId()));
      assert.equal(texts.size, 1, group.join(' | '));
      assert.equal(ids.size, 1);
    }
  });

  test("uniqueId has Calico's shape: s: + unpadded base64url of a SHA-224", () => {
    const id = parseSelector('app == "web"').uniqueId();
    assert.match(id, /^s:[A-Za-z0-9_-]{38}$/);
    assert.notEqual(id, parseSelector('app == "db"').uniqueId());
  });

  test('JSON serialisation gives the canonical text', () => {
    assert.equal(JSON.stringify({ s: parseSelector("a=='x'") }), '{"s":"a == \\"x\\""}');
  });
});
