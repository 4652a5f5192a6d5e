// Recursive-descent parser from selector text to the syntax tree, with Calico's precedence:
// `!` binds tightest, then `&&`, then `||`. Empty text means all(). Errors carry the offset of the offending token.
import { negate, normaliseSet, type SelectorNode } from './ast.js';
import { SelectorParseError } from './errors.js';
import { tokenize, type Token, type TokenKind } from './tokenizer.js';

const VALUE_OPERATORS: Partial<Record<TokenKind, 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith'>> = {
  '==': 'eq',
  '!=': 'ne',
  contains: 'contains',
  'starts with': 'startsWith',
  'ends with': 'endsWith',
};

function describe(tok: Token): string {
  switch (tok.kind) {
    case 'eof':
      return 'end of selector';
    case 'label':
      return `label "${tok.value}"`;
    case 'string':
      return `string ${JSON.stringify(tok.value)}`;
    case 'has':
      return `has(${tok.value})`;
    case 'all':
    case 'global':
      return `${tok.kind}()`;
    default:
      return `'${tok.kind}'`;
  }
}

export function parseToAst(text: string): SelectorNode {
  const tokens = tokenize(text);
  let at = 0;

  const fail = (reason: string, tok: Token): never => {
    throw new SelectorParseError(text, reason, tok.pos);
  };
  const peek = (): Token => tokens[at];

  function parseOr(): SelectorNode {
    const operands = [parseAnd()];
    while (peek().kind === '||') {
      at++;
      operands.push(parseAnd());
    }
    return operands.length === 1 ? operands[0] : { kind: 'or', operands };
  }

  function parseAnd(): SelectorNode {
    const operands = [parseOperation()];
    while (peek().kind === '&&') {
      at++;
      operands.push(parseOperation());
    }
    return operands.length === 1 ? operands[0] : { kind: 'and', operands };
  }

  function parseOperation(): SelectorNode {
    let negated = false;
    while (peek().kind === '!') {
      negated = !negated;
      at++;
    }
    const node = parseTerm();
    return negated ? negate(node) : node;
  }

  function expectString(op: Token): string {
    const tok = peek();
    if (tok.kind !== 'string') {
      fail(`expected a quoted string after '${op.kind}', found ${describe(tok)}`, tok);
    }
    at++;
    return tok.value;
  }

  function parseSetLiteral(op: Token): string[] {
    const open = peek();
    if (open.kind !== '{') fail(`expected '{' to start the set after '${op.kind}', found ${describe(open)}`, open);
    at++;
    const values: string[] = [];
    // Calico accepts an empty set and a trailing comma: {}, {"a"}, {"a", "b",}.
    while (peek().kind === 'string') {
      values.push(peek().value);
      at++;
      if (peek().kind !== ',') break;
      at++;
    }
    const close = peek();
    if (close.kind !== '}') {
      const expected = values.length === 0 || tokens[at - 1].kind === ',' ? "a quoted string or '}'" : "',' or '}'";
      fail(`expected ${expected} in set literal, found ${describe(close)}`, close);
    }
    at++;
    return normaliseSet(values);
  }

  function parseTerm(): SelectorNode {
    const tok = peek();
    switch (tok.kind) {
      case 'has':
        at++;
        return { kind: 'has', label: tok.value };
      case 'all':
        at++;
        return { kind: 'all' };
      case 'global':
        at++;
        return { kind: 'global' };
      case '(': {
        at++;
        const inner = parseOr();
        const close = peek();
        if (close.kind !== ')')
          fail(`expected ')' to close the '(' at position ${tok.pos}, found ${describe(close)}`, close);
        at++;
        return inner;
      }
      case 'label': {
        at++;
        const op = peek();
        const valueKind = VALUE_OPERATORS[op.kind];
        if (valueKind) {
          at++;
          return { kind: valueKind, label: tok.value, value: expectString(op) };
        }
        if (op.kind === 'in' || op.kind === 'not in') {
          at++;
          const values = parseSetLiteral(op);
          return { kind: op.kind === 'in' ? 'in' : 'notIn', label: tok.value, values };
        }
        return fail(
          `expected an operator after label "${tok.value}" (==, !=, in, not in, contains, starts with or ends with), ` +
            `found ${describe(op)}`,
          op,
        );
      }
      default:
        return fail(`expected a label, has(), all(), global(), '!' or '(' but found ${describe(tok)}`, tok);
    }
  }

  if (peek().kind === 'eof') return { kind: 'all' };
  const root = parseOr();
  const rest = peek();
  if (rest.kind !== 'eof') fail(`unexpected content at end of selector: ${describe(rest)}`, rest);
  return root;
}
