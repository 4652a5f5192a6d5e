// Go text/template source -> syntax tree: text, actions ({{pipeline}}, with `$x :=` / `$x =`), if/else if/else,
// range (with `$i, $e :=`, else, break, continue), with/else, comments and the `{{-` / `-}}` trim markers.
// A syntax error is a TemplateError naming line and column: "template: get:1:9: unexpected "}" in operand".

export class TemplateError extends Error {}

/** "name:line:col" of an offset in the source (lines and columns from 1, as Go counts them). */
export function position(name: string, src: string, offset: number): string {
  const before = src.slice(0, offset);
  const line = before.split('\n').length;
  const col = offset - before.lastIndexOf('\n');
  return `${name}:${line}:${col}`;
}

export type Arg =
  | { type: 'field'; pos: number; idents: string[] }
  | { type: 'dot'; pos: number }
  | { type: 'variable'; pos: number; name: string; idents: string[] }
  | { type: 'chain'; pos: number; pipe: Pipe; idents: string[] }
  | { type: 'identifier'; pos: number; name: string }
  | { type: 'string'; pos: number; value: string }
  | { type: 'number'; pos: number; value: number; isFloat: boolean }
  | { type: 'bool'; pos: number; value: boolean }
  | { type: 'nil'; pos: number };

export interface Command {
  pos: number;
  /** The command's source text, for "executing ... at <...>" in errors. */
  text: string;
  args: Arg[];
}

export interface Pipe {
  pos: number;
  decl: string[];
  /** `$x = ...` assigns an existing variable; `$x := ...` declares one. */
  isAssign: boolean;
  cmds: Command[];
}

export type Node =
  | { type: 'text'; text: string }
  | { type: 'action'; pos: number; pipe: Pipe }
  | { type: 'if' | 'with' | 'range'; pos: number; pipe: Pipe; list: Node[]; elseList?: Node[] }
  | { type: 'break' | 'continue'; pos: number };

type TokenType =
  | 'text'
  | 'left'
  | 'right'
  | 'field'
  | 'dot'
  | 'variable'
  | 'identifier'
  | 'keyword'
  | 'string'
  | 'number'
  | 'char'
  | 'pipe'
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'declare'
  | 'assign'
  | 'eof';

interface Token {
  type: TokenType;
  value: string;
  pos: number;
  /** Whitespace directly before the token (separates operands; absent between the links of a field chain). */
  space: boolean;
}

const KEYWORDS = new Set([
  'if',
  'else',
  'end',
  'range',
  'with',
  'define',
  'template',
  'block',
  'break',
  'continue',
  'nil',
  'true',
  'false',
]);
const SPACE = /[ \t\r\n]/;
const IDENT = /[A-Za-z0-9_]/;
const NUMBER = /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?[\d_]*([eE][+-]?\d+)?)/;

class Lexer {
  readonly tokens: Token[] = [];
  private p = 0;
  private trimNext = false;

  constructor(
    private readonly name: string,
    private readonly src: string,
  ) {}

  private fail(at: number, msg: string): never {
    throw new TemplateError(`template: ${position(this.name, this.src, at)}: ${msg}`);
  }

  private isTrimMarker(at: number): boolean {
    return this.src[at] === '-' && SPACE.test(this.src[at + 1] ?? '');
  }

  private pushText(text: string, trimRight: boolean): void {
    let t = this.trimNext ? text.replace(/^[ \t\r\n]+/, '') : text;
    if (trimRight) t = t.replace(/[ \t\r\n]+$/, '');
    this.trimNext = false;
    if (t) this.tokens.push({ type: 'text', value: t, pos: 0, space: false });
  }

  run(): Token[] {
    const { src } = this;
    while (this.p < src.length) {
      const open = src.indexOf('{{', this.p);
      if (open < 0) {
        this.pushText(src.slice(this.p), false);
        break;
      }
      const trimLeft = this.isTrimMarker(open + 2);
      this.pushText(src.slice(this.p, open), trimLeft);
      this.p = open + 2 + (trimLeft ? 2 : 0);
      if (src.startsWith('/*', this.p)) {
        this.comment(open);
        continue;
      }
      this.tokens.push({ type: 'left', value: '{{', pos: open, space: false });
      this.action(open);
    }
    this.tokens.push({ type: 'eof', value: '', pos: src.length, space: false });
    return this.tokens;
  }

  private comment(open: number): void {
    const end = this.src.indexOf('*/', this.p);
    if (end < 0) this.fail(open, 'unclosed comment');
    this.p = end + 2;
    if (this.src.startsWith(' -}}', this.p)) {
      this.p += 4;
      this.trimNext = true;
    } else if (this.src.startsWith('}}', this.p)) this.p += 2;
    else this.fail(open, 'comment ends before closing delimiter');
  }

  private push(type: TokenType, value: string, pos: number, space: boolean): void {
    this.tokens.push({ type, value, pos, space });
  }

  private action(open: number): void {
    const { src } = this;
    let space = true;
    for (;;) {
      const start = this.p;
      const c = src[this.p];
      if (c === undefined) this.fail(open, 'unclosed action');
      if (SPACE.test(c)) {
        if (src.startsWith('-}}', this.p + 1)) {
          this.push('right', '}}', this.p, true);
          this.p += 4;
          this.trimNext = true;
          return;
        }
        this.p++;
        space = true;
        continue;
      }
      if (src.startsWith('}}', this.p)) {
        this.push('right', '}}', this.p, space);
        this.p += 2;
        return;
      }
      if (c === ':' && src[this.p + 1] === '=') {
        this.push('declare', ':=', start, space);
        this.p += 2;
      } else if (c === '=') this.single('assign', space);
      else if (c === '|') this.single('pipe', space);
      else if (c === '(') this.single('lparen', space);
      else if (c === ')') this.single('rparen', space);
      else if (c === ',') this.single('comma', space);
      else if (c === '"') this.quoted(space);
      else if (c === '`') {
        const end = src.indexOf('`', this.p + 1);
        if (end < 0) this.fail(start, 'unterminated raw quoted string');
        this.push('string', src.slice(this.p + 1, end), start, space);
        this.p = end + 1;
      } else if (c === "'") {
        const m = /^'(\\.|[^\\'])'/u.exec(src.slice(this.p));
        if (!m) this.fail(start, 'unterminated character constant');
        this.push('char', JSON.parse(`"${m[1] === '"' ? '\\"' : m[1]}"`) as string, start, space);
        this.p += m[0].length;
      } else if (c === '.' && !/[0-9]/.test(src[this.p + 1] ?? '')) {
        this.p++;
        const name = this.ident();
        this.push(name ? 'field' : 'dot', name, start, space);
      } else if (c === '$') {
        this.p++;
        this.push('variable', `$${this.ident()}`, start, space);
      } else if (/[0-9.+-]/.test(c)) {
        const m = NUMBER.exec(src.slice(this.p));
        if (!m || !m[0] || !/[0-9]/.test(m[0])) this.fail(start, `bad number syntax: "${c}"`);
        this.push('number', m[0], start, space);
        this.p += m[0].length;
      } else if (IDENT.test(c)) {
        const word = this.ident();
        this.push(KEYWORDS.has(word) ? 'keyword' : 'identifier', word, start, space);
      } else if (/[\x21-\x7e]/.test(c)) {
        this.fail(start, `unexpected ${JSON.stringify(c)} in operand`);
      } else {
        this.fail(
          start,
          `unrecognized character in action: U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`,
        );
      }
      space = false;
    }
  }

  private single(type: TokenType, space: boolean): void {
    this.push(type, this.src[this.p]!, this.p, space);
    this.p++;
  }

  private ident(): string {
    const start = this.p;
    while (IDENT.test(this.src[this.p] ?? '')) this.p++;
    return this.src.slice(start, this.p);
  }

  private quoted(space: boolean): void {
    const start = this.p;
    let i = this.p + 1;
    while (i < this.src.length && this.src[i] !== '"') {
      if (this.src[i] === '\n') break;
      i += this.src[i] === '\\' ? 2 : 1;
    }
    if (this.src[i] !== '"') this.fail(start, 'unterminated quoted string');
    const raw = this.src.slice(start, i + 1);
    let value: string;
    try {
      // Go's escapes that JSON lacks: \a \v \x.. \' ; the rest are JSON's.
      value = JSON.parse(
        raw
          .replace(/\\a/g, '\\u0007')
          .replace(/\\v/g, '\\u000b')
          .replace(/\\'/g, "'")
          .replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1'),
      ) as string;
    } catch {
      this.fail(start, `invalid syntax in quoted string ${raw}`);
    }
    this.push('string', value, start, space);
    this.p = i + 1;
  }
}

/** The functions a template may call (parse fails on any other name, as Go's does). */
export type FunctionNames = ReadonlySet<string>;

class Parser {
  private i = 0;
  private rangeDepth = 0;

  constructor(
    private readonly name: string,
    private readonly src: string,
    private readonly tokens: Token[],
    private readonly functions: FunctionNames,
  ) {}

  private fail(at: number, msg: string): never {
    throw new TemplateError(`template: ${position(this.name, this.src, at)}: ${msg}`);
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }

  private describe(t: Token): string {
    if (t.type === 'eof') return 'EOF';
    if (t.type === 'right') return '"}}"';
    if (t.type === 'field') return `".${t.value}"`;
    return `"${t.value}"`;
  }

  private expectRight(context: string): void {
    const t = this.next();
    if (t.type !== 'right') this.fail(t.pos, `unexpected ${this.describe(t)} in ${context}`);
  }

  /** Nodes up to one of the stop keywords (inside `{{...}}`), which is left for the caller. */
  parseList(stops: ReadonlySet<string>): { nodes: Node[]; stop?: Token } {
    const nodes: Node[] = [];
    for (;;) {
      const t = this.peek();
      if (t.type === 'eof') return { nodes };
      if (t.type === 'text') {
        this.next();
        nodes.push({ type: 'text', text: t.value });
        continue;
      }
      // t is '{{'
      const kw = this.peek(1);
      if (kw.type === 'keyword' && (kw.value === 'end' || kw.value === 'else')) {
        if (!stops.has(kw.value)) this.fail(kw.pos, `unexpected {{${kw.value}}}`);
        this.next();
        return { nodes, stop: this.next() };
      }
      this.next();
      nodes.push(this.action());
    }
  }

  private action(): Node {
    const t = this.peek();
    if (t.type === 'keyword') {
      switch (t.value) {
        case 'if':
        case 'with':
        case 'range':
          this.next();
          return this.control(t.value, t.pos);
        case 'break':
        case 'continue':
          this.next();
          if (this.rangeDepth === 0) this.fail(t.pos, `{{${t.value}}} outside {{range}}`);
          this.expectRight(t.value);
          return { type: t.value, pos: t.pos };
        case 'define':
        case 'template':
        case 'block':
          this.fail(t.pos, `{{${t.value}}} is not supported by calicoctl templates`);
      }
    }
    const pipe = this.pipeline('command', t.pos);
    this.expectRight('command');
    return { type: 'action', pos: t.pos, pipe };
  }

  private control(kind: 'if' | 'with' | 'range', pos: number): Node {
    const pipe = this.pipeline(kind, pos);
    this.expectRight(kind);
    if (kind === 'range') this.rangeDepth++;
    const body = this.parseList(new Set(['end', 'else']));
    if (kind === 'range') this.rangeDepth--;
    if (!body.stop)
      this.fail(this.src.length, `unexpected EOF: {{${kind}}} at ${position(this.name, this.src, pos)} has no {{end}}`);
    if (body.stop.value === 'end') {
      this.expectRight('end');
      return { type: kind, pos, pipe, list: body.nodes };
    }
    // {{else if ...}} / {{else with ...}}: a nested node that shares this one's {{end}}.
    const chained = this.peek();
    if (chained.type === 'keyword' && chained.value === kind && kind !== 'range') {
      this.next();
      return { type: kind, pos, pipe, list: body.nodes, elseList: [this.control(kind, chained.pos)] };
    }
    this.expectRight('else');
    const rest = this.parseList(new Set(['end']));
    if (!rest.stop)
      this.fail(this.src.length, `unexpected EOF: {{${kind}}} at ${position(this.name, this.src, pos)} has no {{end}}`);
    this.expectRight('end');
    return { type: kind, pos, pipe, list: body.nodes, elseList: rest.nodes };
  }

  private pipeline(context: string, pos: number): Pipe {
    const decl: string[] = [];
    let isAssign = false;
    // `$x :=`, `$x =`, or (range) `$i, $e :=`
    if (this.peek().type === 'variable') {
      const a = this.peek(1);
      if (a.type === 'declare' || a.type === 'assign') {
        decl.push(this.next().value);
        isAssign = this.next().type === 'assign';
      } else if (a.type === 'comma' && this.peek(2).type === 'variable') {
        const b = this.peek(3);
        if (context !== 'range') this.fail(a.pos, `too many declarations in ${context}`);
        if (b.type !== 'declare' && b.type !== 'assign') this.fail(a.pos, `unexpected "," in ${context}`);
        decl.push(this.next().value);
        this.next();
        decl.push(this.next().value);
        isAssign = this.next().type === 'assign';
      }
    }
    const cmds: Command[] = [];
    for (;;) {
      const t = this.peek();
      if (t.type === 'right' || t.type === 'rparen' || t.type === 'eof') break;
      cmds.push(this.command(context));
      if (this.peek().type === 'pipe') {
        this.next();
        const after = this.peek();
        if (after.type === 'right' || after.type === 'rparen') this.fail(after.pos, `missing command after "|"`);
      }
    }
    if (!cmds.length) this.fail(this.peek().pos, `missing value for ${context}`);
    return { pos, decl, isAssign, cmds };
  }

  private command(context: string): Command {
    const start = this.peek().pos;
    const args: Arg[] = [];
    for (;;) {
      const t = this.peek();
      if (t.type === 'right' || t.type === 'rparen' || t.type === 'pipe' || t.type === 'eof') break;
      if (args.length && !t.space) this.fail(t.pos, `missing space? unexpected ${this.describe(t)} in operand`);
      args.push(this.operand(context));
    }
    if (!args.length) this.fail(this.peek().pos, `empty command`);
    const endTok = this.peek();
    return { pos: start, text: this.src.slice(start, endTok.pos).trim(), args };
  }

  /** Field links written directly after an operand: `$x.A.B`, `(pipe).A`. */
  private links(): string[] {
    const idents: string[] = [];
    while (this.peek().type === 'field' && !this.peek().space) idents.push(this.next().value);
    return idents;
  }

  private operand(context: string): Arg {
    const t = this.next();
    switch (t.type) {
      case 'field': {
        const idents = [t.value, ...this.links()];
        return { type: 'field', pos: t.pos, idents };
      }
      case 'dot':
        if (this.peek().type === 'field' && !this.peek().space) this.fail(t.pos, 'unexpected . after term "."');
        return { type: 'dot', pos: t.pos };
      case 'variable':
        return { type: 'variable', pos: t.pos, name: t.value, idents: this.links() };
      case 'identifier':
        if (!this.functions.has(t.value)) this.fail(t.pos, `function "${t.value}" not defined`);
        return { type: 'identifier', pos: t.pos, name: t.value };
      case 'string':
        return { type: 'string', pos: t.pos, value: t.value };
      case 'char':
        return { type: 'number', pos: t.pos, value: t.value.codePointAt(0) ?? 0, isFloat: false };
      case 'number': {
        const text = t.value.replace(/_/g, '');
        const isFloat = /[.eE]/.test(text) && !/^[+-]?0[xX]/.test(text);
        const value = isFloat ? Number(text) : parseGoInt(text);
        if (!Number.isFinite(value)) this.fail(t.pos, `bad number syntax: "${t.value}"`);
        return { type: 'number', pos: t.pos, value, isFloat };
      }
      case 'keyword':
        if (t.value === 'true' || t.value === 'false') return { type: 'bool', pos: t.pos, value: t.value === 'true' };
        if (t.value === 'nil') return { type: 'nil', pos: t.pos };
        return this.fail(t.pos, `unexpected <${t.value}> in ${context}`);
      case 'lparen': {
        const pipe = this.pipeline('parenthesized pipeline', t.pos);
        const close = this.next();
        if (close.type !== 'rparen') this.fail(close.pos, `unclosed left paren`);
        return { type: 'chain', pos: t.pos, pipe, idents: this.links() };
      }
      default:
        return this.fail(t.pos, `unexpected ${this.describe(t)} in operand`);
    }
  }
}

function parseGoInt(text: string): number {
  const neg = text.startsWith('-');
  const body = text.replace(/^[+-]/, '');
  let n: number;
  if (/^0[xX]/.test(body)) n = parseInt(body.slice(2), 16);
  else if (/^0[bB]/.test(body)) n = parseInt(body.slice(2), 2);
  else if (/^0[oO]/.test(body)) n = parseInt(body.slice(2), 8);
  else if (/^0\d/.test(body)) n = parseInt(body.slice(1), 8);
  else n = parseInt(body, 10);
  return neg ? -n : n;
}

/** Parses a whole template; throws TemplateError with Go's wording and the line:column of the problem. */
export function parseTemplate(name: string, src: string, functions: FunctionNames): Node[] {
  const tokens = new Lexer(name, src).run();
  const parser = new Parser(name, src, tokens, functions);
  const { nodes, stop } = parser.parseList(new Set());
  if (stop) throw new TemplateError(`template: ${position(name, src, stop.pos)}: unexpected {{${stop.value}}}`);
  return nodes;
}
