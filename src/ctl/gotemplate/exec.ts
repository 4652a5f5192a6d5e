// Executes a parsed Go template over a GoValue, as text/template does: pipelines (the previous command's result is
// the next one's last argument), fields (struct fields by Go name, map keys), variables and scopes, if/with/range
// with else, break/continue, and the builtins and/or/not/len/index/slice/print/printf/println/eq/ne/lt/le/gt/ge
// plus calicoctl's join and joinAndTruncate. A failure is a TemplateError:
// `template: get:1:12: executing "get" at <.Spec.Foo>: can't evaluate field Foo in type v3.IPPoolSpec`.
import { sprint, sprintf, sprintln } from './format.js';
import { position, TemplateError, type Arg, type Command, type Node, type Pipe } from './parse.js';
import {
  formatValue,
  GoFloat,
  GoMap,
  GoStruct,
  isTrue,
  NO_VALUE,
  structField,
  typeOf,
  type GoValue,
} from './values.js';

type Builtin = (args: GoValue[]) => GoValue;

/** Thrown inside a call; the executor adds position and command. */
class CallError extends Error {}

const fail = (msg: string): never => {
  throw new CallError(msg);
};

const num = (v: GoValue): number | undefined =>
  typeof v === 'number' ? v : v instanceof GoFloat ? v.value : undefined;

function basic(v: GoValue, fn: string): string | number | boolean | null {
  if (v === null || v === NO_VALUE) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  const n = num(v);
  if (n !== undefined) return n;
  return fail(`error calling ${fn}: non-comparable type ${formatValue(v)}: ${typeOf(v)}`);
}

function compare(a: GoValue, b: GoValue, fn: string): number {
  const x = basic(a, fn);
  const y = basic(b, fn);
  if (typeof x === 'boolean' || typeof y === 'boolean' || x === null || y === null || typeof x !== typeof y) {
    fail(`error calling ${fn}: incompatible types for comparison`);
  }
  return x! < y! ? -1 : x! > y! ? 1 : 0;
}

function equal(a: GoValue, b: GoValue): boolean {
  const x = basic(a, 'eq');
  const y = basic(b, 'eq');
  if (x === null || y === null) return x === y;
  if (typeof x !== typeof y) fail('error calling eq: incompatible types for comparison');
  return x === y;
}

function indexInto(item: GoValue, key: GoValue): GoValue {
  if (Array.isArray(item) || typeof item === 'string') {
    const i = num(key);
    if (i === undefined || !Number.isInteger(i))
      fail(`error calling index: cannot index slice/array with type ${typeOf(key)}`);
    if (i! < 0 || i! >= item.length) fail(`error calling index: index out of range: ${i}`);
    return typeof item === 'string' ? item.charCodeAt(i!) : item[i!]!;
  }
  if (item instanceof GoMap) {
    if (typeof key !== 'string') fail(`error calling index: value has type ${typeOf(key)}; should be string`);
    return item.entries.has(key as string) ? item.entries.get(key as string)! : item.zero;
  }
  if (item === null || item === NO_VALUE) return fail('error calling index: index of untyped nil');
  return fail(`error calling index: can't index item of type ${typeOf(item)}`);
}

/** calicoctl's join: each item as %v, joined with the separator. */
function join(items: GoValue, sep: GoValue): string {
  if (typeof sep !== 'string') fail(`wrong type for value; expected string; got ${typeOf(sep)}`);
  if (!Array.isArray(items)) return formatValue(items);
  return items.map(formatValue).join(sep as string);
}

const BUILTINS: Record<string, Builtin> = {
  not: (a) => (a.length === 1 ? !isTrue(a[0]!) : fail(`wrong number of args for not: want 1 got ${a.length}`)),
  len: ([v, ...rest]) => {
    if (rest.length || v === undefined) return fail('wrong number of args for len: want 1');
    if (typeof v === 'string') return new TextEncoder().encode(v).length;
    if (Array.isArray(v)) return v.length;
    if (v instanceof GoMap) return v.entries.size;
    return fail(`error calling len: len of type ${typeOf(v)}`);
  },
  index: ([item, ...keys]) => {
    if (item === undefined) return fail('wrong number of args for index: want at least 1 got 0');
    return keys.reduce<GoValue>((v, k) => indexInto(v, k), item);
  },
  slice: ([item, ...idx]) => {
    if (typeof item !== 'string' && !Array.isArray(item))
      return fail(`error calling slice: can't slice item of type ${typeOf(item ?? null)}`);
    const [from = 0, to = item.length] = idx.map(
      (i) => num(i) ?? fail('error calling slice: cannot index slice with non-int'),
    );
    if (from < 0 || to > item.length || from > to) fail(`error calling slice: index out of range: ${to}`);
    return item.slice(from, to);
  },
  print: (a) => sprint(a),
  println: (a) => sprintln(a),
  printf: ([f, ...rest]) =>
    typeof f === 'string' ? sprintf(f, rest) : fail(`wrong type for value; expected string; got ${typeOf(f ?? null)}`),
  eq: ([a, ...bs]) => {
    if (a === undefined || !bs.length) return fail('missing argument for comparison');
    return bs.some((b) => equal(a, b));
  },
  ne: (a) => (a.length === 2 ? !equal(a[0]!, a[1]!) : fail(`wrong number of args for ne: want 2 got ${a.length}`)),
  lt: ([a, b]) => compare(a!, b!, 'lt') < 0,
  le: ([a, b]) => compare(a!, b!, 'le') <= 0,
  gt: ([a, b]) => compare(a!, b!, 'gt') > 0,
  ge: ([a, b]) => compare(a!, b!, 'ge') >= 0,
  join: ([items, sep]) => join(items ?? null, sep ?? null),
  joinAndTruncate: ([items, sep, max]) => {
    const s = join(items ?? null, sep ?? null);
    const n = num(max ?? null) ?? fail('wrong type for value; expected int');
    return s.length > n ? `${s.slice(0, n - 3)}...` : s;
  },
};

/** Every function name a template may use (and/or are evaluated lazily, so they are not in BUILTINS). */
export const FUNCTION_NAMES: ReadonlySet<string> = new Set([...Object.keys(BUILTINS), 'and', 'or']);

interface Scope {
  vars: { name: string; value: GoValue }[];
}

class Break {}
class Continue {}

class Executor {
  private out = '';
  private readonly scope: Scope;

  constructor(
    private readonly name: string,
    private readonly src: string,
    root: GoValue,
  ) {
    this.scope = { vars: [{ name: '$', value: root }] };
  }

  run(nodes: Node[], dot: GoValue): string {
    this.list(nodes, dot);
    return this.out;
  }

  output(): string {
    return this.out;
  }

  private fail(pos: number, at: string, msg: string): never {
    throw new TemplateError(
      `template: ${position(this.name, this.src, pos)}: executing "${this.name}" at <${at}>: ${msg}`,
    );
  }

  private list(nodes: Node[], dot: GoValue): void {
    for (const n of nodes) this.node(n, dot);
  }

  /** Runs nodes in a new variable scope (a control structure's body). */
  private scoped(nodes: Node[], dot: GoValue): void {
    const mark = this.scope.vars.length;
    try {
      this.list(nodes, dot);
    } finally {
      this.scope.vars.length = mark;
    }
  }

  private node(n: Node, dot: GoValue): void {
    switch (n.type) {
      case 'text':
        this.out += n.text;
        return;
      case 'action': {
        const v = this.pipe(n.pipe, dot);
        if (!n.pipe.decl.length) this.out += formatValue(v);
        return;
      }
      case 'break':
        throw new Break();
      case 'continue':
        throw new Continue();
      case 'if':
      case 'with': {
        const mark = this.scope.vars.length;
        const v = this.pipe(n.pipe, dot);
        try {
          if (isTrue(v)) this.scoped(n.list, n.type === 'with' ? v : dot);
          else if (n.elseList) this.scoped(n.elseList, dot);
        } finally {
          this.scope.vars.length = mark;
        }
        return;
      }
      case 'range':
        return this.range(n, dot);
    }
  }

  private range(n: Extract<Node, { list: Node[] }>, dot: GoValue): void {
    const mark = this.scope.vars.length;
    const pipe: Pipe = { ...n.pipe, decl: [] };
    const v = this.pipe(pipe, dot);
    let entries: [GoValue, GoValue][];
    if (Array.isArray(v)) entries = v.map((e, i) => [i, e]);
    else if (v instanceof GoMap) entries = [...v.entries.keys()].sort().map((k) => [k, v.entries.get(k)!]);
    else if (typeof v === 'number') entries = Array.from({ length: Math.max(0, v) }, (_, i) => [i, i]);
    else if (v === null || v === NO_VALUE) entries = [];
    else return this.fail(n.pos, n.pipe.cmds[0]!.text, `range can't iterate over ${formatValue(v)}`);
    try {
      if (!entries.length) {
        if (n.elseList) this.scoped(n.elseList, dot);
        return;
      }
      for (const [key, elem] of entries) {
        const inner = this.scope.vars.length;
        const decl = n.pipe.decl;
        if (decl.length === 1) this.setVar(decl[0]!, typeof v === 'number' ? key : elem, n.pipe.isAssign, n.pos);
        if (decl.length === 2) {
          this.setVar(decl[0]!, key, n.pipe.isAssign, n.pos);
          this.setVar(decl[1]!, elem, n.pipe.isAssign, n.pos);
        }
        try {
          this.scoped(n.list, elem);
        } catch (e) {
          if (e instanceof Break) break;
          if (!(e instanceof Continue)) throw e;
        } finally {
          if (!n.pipe.isAssign) this.scope.vars.length = inner;
        }
      }
    } finally {
      this.scope.vars.length = mark;
    }
  }

  private setVar(name: string, value: GoValue, assign: boolean, pos: number): void {
    if (!assign) {
      this.scope.vars.push({ name, value });
      return;
    }
    for (let i = this.scope.vars.length - 1; i >= 0; i--) {
      if (this.scope.vars[i]!.name === name) {
        this.scope.vars[i]!.value = value;
        return;
      }
    }
    this.fail(pos, name, `undefined variable: ${name}`);
  }

  private variable(name: string, pos: number): GoValue {
    for (let i = this.scope.vars.length - 1; i >= 0; i--) {
      if (this.scope.vars[i]!.name === name) return this.scope.vars[i]!.value;
    }
    return this.fail(pos, name, `undefined variable: ${name}`);
  }

  private pipe(p: Pipe, dot: GoValue): GoValue {
    let final: GoValue | undefined;
    for (const cmd of p.cmds) final = this.command(cmd, dot, final);
    const v = final ?? null;
    p.decl.forEach((d) => this.setVar(d, v, p.isAssign, p.pos));
    return v;
  }

  private command(cmd: Command, dot: GoValue, final: GoValue | undefined): GoValue {
    const [first, ...rest] = cmd.args;
    try {
      switch (first!.type) {
        case 'identifier':
          return this.call(first!.name, rest, dot, final);
        case 'field':
          this.noArgs(first!.idents.at(-1)!, rest, final);
          return this.fields(dot, first!.idents);
        case 'variable':
          this.noArgs(first!.name, rest, final);
          return this.fields(this.variable(first!.name, first!.pos), first!.idents);
        case 'chain':
          this.noArgs('(...)', rest, final);
          return this.fields(this.pipe(first!.pipe, dot), first!.idents);
        case 'nil':
          return fail('nil is not a command');
        default: {
          const v = this.literal(first!, dot);
          this.noArgs(formatValue(v), rest, final);
          return v;
        }
      }
    } catch (e) {
      if (e instanceof CallError) this.fail(cmd.pos, cmd.text, e.message);
      throw e;
    }
  }

  private noArgs(what: string, rest: Arg[], final: GoValue | undefined): void {
    if (rest.length || final !== undefined) fail(`can't give argument to non-function ${what}`);
  }

  private literal(a: Arg, dot: GoValue): GoValue {
    switch (a.type) {
      case 'dot':
        return dot;
      case 'string':
        return a.value;
      case 'bool':
        return a.value;
      case 'number':
        return a.isFloat ? new GoFloat(a.value) : a.value;
      case 'nil':
        return null;
      case 'variable':
        return this.fields(this.variable(a.name, a.pos), a.idents);
      case 'field':
        return this.fields(dot, a.idents);
      case 'chain':
        return this.fields(this.pipe(a.pipe, dot), a.idents);
      case 'identifier':
        return this.call(a.name, [], dot, undefined);
    }
  }

  private fields(v: GoValue, idents: string[]): GoValue {
    let cur = v;
    for (const name of idents) {
      if (cur instanceof GoStruct) {
        const f = structField(cur, name);
        if (f === undefined) fail(`can't evaluate field ${name} in type ${cur.typeName}`);
        cur = f!;
      } else if (cur instanceof GoMap) {
        cur = cur.entries.has(name) ? cur.entries.get(name)! : NO_VALUE;
      } else if (cur === null || cur === NO_VALUE) {
        fail(`nil pointer evaluating interface {}.${name}`);
      } else {
        fail(`can't evaluate field ${name} in type ${typeOf(cur)}`);
      }
    }
    return cur;
  }

  private call(name: string, args: Arg[], dot: GoValue, final: GoValue | undefined): GoValue {
    const values = (): GoValue[] => {
      const vs = args.map((a) => this.literal(a, dot));
      if (final !== undefined) vs.push(final);
      return vs;
    };
    if (name === 'and' || name === 'or') {
      // Evaluated left to right, stopping at the first operand that decides (Go 1.18+).
      const all = [...args.map((a) => () => this.literal(a, dot)), ...(final !== undefined ? [() => final] : [])];
      if (!all.length) fail(`wrong number of args for ${name}: want at least 1 got 0`);
      let v: GoValue = null;
      for (const get of all) {
        v = get();
        if (name === 'and' ? !isTrue(v) : isTrue(v)) return v;
      }
      return v;
    }
    return BUILTINS[name]!(values());
  }
}

/** Runs the template; on failure the error's message is Go's, and `partial` holds what was printed before it. */
export function executeTemplate(name: string, src: string, nodes: Node[], data: GoValue): string {
  const ex = new Executor(name, src, data);
  try {
    return ex.run(nodes, data);
  } catch (e) {
    if (e instanceof TemplateError) Object.assign(e, { partial: ex.output() });
    throw e;
  }
}
