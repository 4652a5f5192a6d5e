// Splits selector text into tokens, each carrying its offset in the text, following Calico's tokenizer:
// spaces/tabs are skipped, label keys are [a-zA-Z0-9_./-]{1,512}, strings are '...' or "..." without escapes, and
// keyword operators (contains, starts with, ends with, not in, in) are recognised only directly after a label.
import { SelectorParseError } from './errors.js';

export type TokenKind =
  | 'label'
  | 'string'
  | '{'
  | '}'
  | ','
  | '=='
  | '!='
  | '!'
  | '('
  | ')'
  | '&&'
  | '||'
  | 'in'
  | 'not in'
  | 'contains'
  | 'starts with'
  | 'ends with'
  | 'has'
  | 'all'
  | 'global'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Label key for `label` and `has`, literal text for `string`; empty otherwise. */
  readonly value: string;
  /** Offset (0-based, in UTF-16 code units) of the token's first character. */
  readonly pos: number;
}

export const MAX_LABEL_LENGTH = 512;

function isLabelChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x5f || // _
    c === 0x2e || // .
    c === 0x2f || // /
    c === 0x2d // -
  );
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09;

// Multi-word operators: the words in order; spaces/tabs (zero or more) are allowed between them.
const KEYWORD_OPERATORS: ReadonlyArray<readonly [TokenKind, readonly string[]]> = [
  ['contains', ['contains']],
  ['starts with', ['starts', 'with']],
  ['ends with', ['ends', 'with']],
  ['not in', ['not', 'in']],
  ['in', ['in']],
];

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;

  const fail = (reason: string, pos: number): never => {
    throw new SelectorParseError(text, reason, pos);
  };
  const skipSpace = (at: number): number => {
    while (at < n && isSpace(text.charCodeAt(at))) at++;
    return at;
  };
  const labelEnd = (at: number): number => {
    let end = at;
    while (end < n && isLabelChar(text.charCodeAt(end))) end++;
    if (end - at > MAX_LABEL_LENGTH) {
      fail(`label key is longer than ${MAX_LABEL_LENGTH} characters`, at);
    }
    return end;
  };
  // Matches a keyword operator at `at`; returns the end offset or -1. Only the last word needs a word boundary.
  const matchKeyword = (at: number, words: readonly string[]): number => {
    let p = at;
    for (let w = 0; w < words.length; w++) {
      if (w > 0) p = skipSpace(p);
      if (!text.startsWith(words[w], p)) return -1;
      p += words[w].length;
    }
    return p < n && isLabelChar(text.charCodeAt(p)) ? -1 : p;
  };
  // `name(`, optional spaces, then `)` — for all() and global().
  const emptyCall = (name: 'all' | 'global', start: number): void => {
    const close = skipSpace(start + name.length + 1);
    if (text[close] !== ')') fail(`expected ')' to close ${name}(`, close);
    tokens.push({ kind: name, value: '', pos: start });
    i = close + 1;
  };

  for (;;) {
    i = skipSpace(i);
    if (i >= n) {
      tokens.push({ kind: 'eof', value: '', pos: n });
      return tokens;
    }
    const start = i;
    const c = text[i];
    const next = text[i + 1];
    const last = tokens.length > 0 ? tokens[tokens.length - 1].kind : undefined;
    switch (c) {
      case '(':
      case ')':
      case '{':
      case '}':
      case ',':
        tokens.push({ kind: c, value: '', pos: start });
        i++;
        continue;
      case '"':
      case "'": {
        const close = text.indexOf(c, i + 1);
        if (close < 0) fail(`unterminated string: no closing ${c}`, start);
        tokens.push({ kind: 'string', value: text.slice(i + 1, close), pos: start });
        i = close + 1;
        continue;
      }
      case '=':
        if (next !== '=') fail("expected '==' (a single '=' is not an operator)", start);
        tokens.push({ kind: '==', value: '', pos: start });
        i += 2;
        continue;
      case '!':
        if (next === '=') {
          tokens.push({ kind: '!=', value: '', pos: start });
          i += 2;
        } else {
          tokens.push({ kind: '!', value: '', pos: start });
          i++;
        }
        continue;
      case '&':
        if (next !== '&') fail("expected '&&' (a single '&' is not an operator)", start);
        tokens.push({ kind: '&&', value: '', pos: start });
        i += 2;
        continue;
      case '|':
        if (next !== '|') fail("expected '||' (a single '|' is not an operator)", start);
        tokens.push({ kind: '||', value: '', pos: start });
        i += 2;
        continue;
    }

    if (last === 'label') {
      let matched = false;
      for (const [kind, words] of KEYWORD_OPERATORS) {
        const end = matchKeyword(i, words);
        if (end >= 0) {
          tokens.push({ kind, value: '', pos: start });
          i = end;
          matched = true;
          break;
        }
      }
      if (!matched) {
        const label = tokens[tokens.length - 1].value;
        fail(
          `expected an operator after label "${label}" ` + '(==, !=, in, not in, contains, starts with or ends with)',
          start,
        );
      }
      continue;
    }
    if (text.startsWith('has(', i)) {
      const labelStart = skipSpace(i + 4);
      const end = labelEnd(labelStart);
      if (end === labelStart) fail('expected a label key inside has(...)', labelStart);
      const close = skipSpace(end);
      if (text[close] !== ')') fail("expected ')' to close has(", close);
      tokens.push({ kind: 'has', value: text.slice(labelStart, end), pos: start });
      i = close + 1;
      continue;
    }
    if (text.startsWith('all(', i)) {
      emptyCall('all', start);
      continue;
    }
    if (text.startsWith('global(', i)) {
      emptyCall('global', start);
      continue;
    }
    const end = labelEnd(i);
    if (end > i) {
      tokens.push({ kind: 'label', value: text.slice(i, end), pos: start });
      i = end;
      continue;
    }
    const shown = JSON.stringify(String.fromCodePoint(text.codePointAt(i) ?? 0));
    fail(`unexpected character ${shown}`, start);
  }
}
