// Compiles a syntax tree into a tree of closures, so matching walks no AST and allocates nothing.
// A label is present when the record holds a string under that key (inherited Object properties never count).
import type { SelectorNode } from './ast.js';

export type Labels = Readonly<Record<string, string>>;
export type Matcher = (labels: Labels) => boolean;

const always: Matcher = () => true;
const never: Matcher = () => false;

function compileIn(label: string, values: readonly string[]): Matcher {
  switch (values.length) {
    case 0:
      return never;
    case 1: {
      const [a] = values;
      return (l) => l[label] === a;
    }
    case 2: {
      const [a, b] = values;
      return (l) => {
        const v = l[label];
        return v === a || v === b;
      };
    }
    case 3: {
      const [a, b, c] = values;
      return (l) => {
        const v = l[label];
        return v === a || v === b || v === c;
      };
    }
    default: {
      const set = new Set(values);
      return (l) => {
        const v = l[label];
        return typeof v === 'string' && set.has(v);
      };
    }
  }
}

function compileAnd(ms: Matcher[]): Matcher {
  if (ms.length === 2) {
    const [a, b] = ms;
    return (l) => a(l) && b(l);
  }
  if (ms.length === 3) {
    const [a, b, c] = ms;
    return (l) => a(l) && b(l) && c(l);
  }
  return (l) => {
    for (let i = 0; i < ms.length; i++) if (!ms[i](l)) return false;
    return true;
  };
}

function compileOr(ms: Matcher[]): Matcher {
  if (ms.length === 2) {
    const [a, b] = ms;
    return (l) => a(l) || b(l);
  }
  if (ms.length === 3) {
    const [a, b, c] = ms;
    return (l) => a(l) || b(l) || c(l);
  }
  return (l) => {
    for (let i = 0; i < ms.length; i++) if (ms[i](l)) return true;
    return false;
  };
}

export function compileMatcher(node: SelectorNode): Matcher {
  switch (node.kind) {
    case 'all':
    case 'global':
      return always;
    case 'has': {
      const k = node.label;
      return (l) => typeof l[k] === 'string';
    }
    case 'eq': {
      const { label: k, value: v } = node;
      return (l) => l[k] === v;
    }
    case 'ne': {
      const { label: k, value: v } = node;
      return (l) => l[k] !== v;
    }
    case 'contains': {
      const { label: k, value: s } = node;
      return (l) => {
        const v = l[k];
        return typeof v === 'string' && v.includes(s);
      };
    }
    case 'startsWith': {
      const { label: k, value: s } = node;
      return (l) => {
        const v = l[k];
        return typeof v === 'string' && v.startsWith(s);
      };
    }
    case 'endsWith': {
      const { label: k, value: s } = node;
      return (l) => {
        const v = l[k];
        return typeof v === 'string' && v.endsWith(s);
      };
    }
    case 'in':
      return compileIn(node.label, node.values);
    case 'notIn': {
      const inSet = compileIn(node.label, node.values);
      return (l) => !inSet(l);
    }
    case 'not': {
      const m = compileMatcher(node.operand);
      return (l) => !m(l);
    }
    case 'and':
      return compileAnd(node.operands.map(compileMatcher));
    case 'or':
      return compileOr(node.operands.map(compileMatcher));
  }
}
