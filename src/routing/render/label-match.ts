// Evaluates the Calico selectors that BGP peering uses (BGPPeer nodeSelector/peerSelector) against Node labels.
// Covers the forms peering configs use — all(), has(k), !has(k), k == 'v', k != 'v', k in {...}, k not in {...},
// joined by && / || with parentheses. Callers may inject the full selector engine instead (LabelMatcher). Pure.

export type LabelMatcher = (selector: string, labels: Record<string, string>) => boolean;

export class SelectorSyntaxError extends Error {}

type Tok = { t: 'id' | 'str' | 'op' | 'lp' | 'rp' | 'lb' | 'rb' | 'comma' | 'not' | 'end'; v: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  const re = /\s*(?:(&&|\|\||==|!=)|(\()|(\))|(\{)|(\})|(,)|(!)|'([^']*)'|"([^"]*)"|([A-Za-z0-9_./-]+))/y;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(src);
    if (!m) throw new SelectorSyntaxError(`selector "${src}": unexpected text at offset ${pos}`);
    pos = re.lastIndex;
    if (m[1]) out.push({ t: 'op', v: m[1] });
    else if (m[2]) out.push({ t: 'lp', v: '(' });
    else if (m[3]) out.push({ t: 'rp', v: ')' });
    else if (m[4]) out.push({ t: 'lb', v: '{' });
    else if (m[5]) out.push({ t: 'rb', v: '}' });
    else if (m[6]) out.push({ t: 'comma', v: ',' });
    else if (m[7]) out.push({ t: 'not', v: '!' });
    else if (m[8] !== undefined) out.push({ t: 'str', v: m[8] });
    else if (m[9] !== undefined) out.push({ t: 'str', v: m[9] });
    else out.push({ t: 'id', v: m[10] });
  }
  out.push({ t: 'end', v: '' });
  return out;
}

/** Matches a selector against labels; an empty selector matches everything (as Calico's nodeSelector). */
export const matchLabels: LabelMatcher = (selector, labels) => {
  if (selector.trim() === '') return true;
  const toks = tokenize(selector);
  let i = 0;
  const peek = (): Tok => toks[i];
  const fail = (what: string): never => {
    throw new SelectorSyntaxError(`selector "${selector}": ${what}`);
  };
  const expect = (t: Tok['t']): Tok => (peek().t === t ? toks[i++] : fail(`expected ${t} near "${peek().v}"`));

  const orExpr = (): boolean => {
    let v = andExpr();
    while (peek().t === 'op' && peek().v === '||') {
      i++;
      const r = andExpr();
      v = v || r;
    }
    return v;
  };
  const andExpr = (): boolean => {
    let v = unary();
    while (peek().t === 'op' && peek().v === '&&') {
      i++;
      const r = unary();
      v = v && r;
    }
    return v;
  };
  const unary = (): boolean => {
    if (peek().t === 'not') {
      i++;
      return !unary();
    }
    if (peek().t === 'lp') {
      i++;
      const v = orExpr();
      expect('rp');
      return v;
    }
    const id = expect('id').v;
    if ((id === 'all' || id === 'has' || id === 'global') && peek().t === 'lp') {
      i++;
      if (id === 'has') {
        const k = expect('id').v;
        expect('rp');
        return Object.prototype.hasOwnProperty.call(labels, k);
      }
      expect('rp');
      return id === 'all';
    }
    const next = peek();
    if (next.t === 'op' && (next.v === '==' || next.v === '!=')) {
      i++;
      const val = expect('str').v;
      return next.v === '==' ? labels[id] === val : labels[id] !== val;
    }
    let negate = false;
    if (next.t === 'id' && next.v === 'not') {
      negate = true;
      i++;
    }
    if (peek().t === 'id' && peek().v === 'in') {
      i++;
      expect('lb');
      const set: string[] = [];
      while (peek().t !== 'rb') {
        set.push(expect('str').v);
        if (peek().t === 'comma') i++;
      }
      expect('rb');
      const inSet = id in labels && set.includes(labels[id]);
      return negate ? !inSet : inSet;
    }
    return fail(`unsupported expression after "${id}"`);
  };
  const v = orExpr();
  if (peek().t !== 'end') fail(`unexpected "${peek().v}"`);
  return v;
};
