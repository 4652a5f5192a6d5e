// Go's fmt for templates: Sprintf verbs (%v %s %d %q %f %e %g %t %x %X %o %b %c %%, flags - + 0 space #, width and
// precision, and fmt's %!d(string=x) / %!v(MISSING) / %!(EXTRA ...) for mismatches), Sprint and Sprintln.
import { formatValue, GoFloat, typeOf, type GoValue } from './values.js';

/** Go's strconv.Quote for the common case (JSON's escaping, which matches it for printable text). */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

interface Spec {
  minus: boolean;
  plus: boolean;
  zero: boolean;
  space: boolean;
  sharp: boolean;
  width?: number;
  prec?: number;
}

const bad = (verb: string, v: GoValue): string => `%!${verb}(${typeOf(v)}=${formatValue(v)})`;

function pad(s: string, spec: Spec, numeric: boolean): string {
  if (spec.width === undefined || s.length >= spec.width) return s;
  const fill = spec.width - s.length;
  if (spec.minus) return s + ' '.repeat(fill);
  if (spec.zero && numeric) {
    const sign = /^[+-]/.test(s) ? s[0] : '';
    return sign + '0'.repeat(fill) + s.slice(sign.length);
  }
  return ' '.repeat(fill) + s;
}

function signed(s: string, n: number, spec: Spec): string {
  if (n >= 0 && spec.plus) return `+${s}`;
  if (n >= 0 && spec.space) return ` ${s}`;
  return s;
}

function floatOf(v: GoValue): number | undefined {
  return v instanceof GoFloat ? v.value : undefined;
}

function formatFloat(n: number, verb: string, spec: Spec): string {
  const prec = spec.prec;
  switch (verb) {
    case 'f':
    case 'F':
      return n.toFixed(prec ?? 6);
    case 'e':
    case 'E': {
      const [m, e] = n.toExponential(prec ?? 6).split('e');
      const exp = Number(e);
      const out = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
      return verb === 'E' ? out.toUpperCase() : out;
    }
    default:
      return prec === undefined ? formatValue(new GoFloat(n)) : String(Number(n.toPrecision(prec || 1)));
  }
}

function formatOne(verb: string, v: GoValue, spec: Spec): string {
  switch (verb) {
    case 'v':
      return pad(formatValue(v), spec, false);
    case 's':
      if (typeof v === 'string' || Array.isArray(v) || typeof v === 'object') {
        const s = formatValue(v);
        return pad(spec.prec !== undefined ? s.slice(0, spec.prec) : s, spec, false);
      }
      return bad(verb, v);
    case 'q':
      if (typeof v === 'string') return pad(goQuote(v), spec, false);
      if (typeof v === 'number') return pad(`'${String.fromCodePoint(v)}'`, spec, false);
      return bad(verb, v);
    case 't':
      return typeof v === 'boolean' ? pad(String(v), spec, false) : bad(verb, v);
    case 'd':
    case 'b':
    case 'o':
    case 'x':
    case 'X':
    case 'c': {
      if (typeof v === 'string' && (verb === 'x' || verb === 'X')) {
        const hex = Array.from(new TextEncoder().encode(v), (b) => b.toString(16).padStart(2, '0')).join('');
        return pad(verb === 'X' ? hex.toUpperCase() : hex, spec, false);
      }
      if (typeof v !== 'number') return bad(verb, v);
      if (verb === 'c') return pad(String.fromCodePoint(v), spec, false);
      const radix = { d: 10, b: 2, o: 8, x: 16, X: 16 }[verb];
      let s = Math.abs(v).toString(radix);
      if (verb === 'X') s = s.toUpperCase();
      if (spec.sharp && verb === 'x') s = `0x${s}`;
      if (spec.sharp && verb === 'X') s = `0X${s}`;
      if (spec.sharp && verb === 'o') s = `0${s}`;
      return pad(signed(v < 0 ? `-${s}` : s, v, spec), spec, true);
    }
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G': {
      const n = floatOf(v);
      if (n === undefined) return bad(verb, v);
      return pad(signed(formatFloat(n, verb, spec), n, spec), spec, true);
    }
    default:
      return `%!${verb}(${typeOf(v)}=${formatValue(v)})`;
  }
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: GoValue[]): string {
  let out = '';
  let next = 0;
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== '%') {
      out += c;
      continue;
    }
    const spec: Spec = { minus: false, plus: false, zero: false, space: false, sharp: false };
    i++;
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === '-') spec.minus = true;
      else if (f === '+') spec.plus = true;
      else if (f === '0') spec.zero = true;
      else if (f === ' ') spec.space = true;
      else if (f === '#') spec.sharp = true;
      else break;
    }
    const width = /^\d+/.exec(format.slice(i));
    if (width) {
      spec.width = Number(width[0]);
      i += width[0].length;
    }
    if (format[i] === '.') {
      const prec = /^\d*/.exec(format.slice(i + 1))![0];
      spec.prec = Number(prec || '0');
      i += 1 + prec.length;
    }
    const verb = format[i];
    if (verb === undefined) {
      out += '%!(NOVERB)';
      break;
    }
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (next >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatOne(verb, args[next++]!, spec);
  }
  if (next < args.length) {
    out += `%!(EXTRA ${args
      .slice(next)
      .map((a) => `${typeOf(a)}=${formatValue(a)}`)
      .join(', ')})`;
  }
  return out;
}

/** fmt.Sprint: a space between two operands when neither is a string. */
export function sprint(args: GoValue[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

/** fmt.Sprintln: spaces between all operands, a newline at the end. */
export function sprintln(args: GoValue[]): string {
  return `${args.map(formatValue).join(' ')}\n`;
}
