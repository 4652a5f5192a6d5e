// Kubernetes label and field selectors as they arrive in query strings (`labelSelector=app=web,tier in (a,b)`,
// `fieldSelector=spec.nodeName=n1`): parsed into requirements and matched against objects. Bad input throws a
// SelectorError naming the selector and the reason (the server answers 400 BadRequest with it).

export class SelectorError extends Error {}

export type LabelRequirement =
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'gt' | 'lt'; value: number };

const KEY_RE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string, text: string): string {
  if (!KEY_RE.test(key))
    throw new SelectorError(`unable to parse requirement: invalid label key "${key}" in "${text}"`);
  return key;
}
function checkValue(value: string, text: string): string {
  if (value.length > 63 || !VALUE_RE.test(value))
    throw new SelectorError(`unable to parse requirement: invalid label value "${value}" in "${text}"`);
  return value;
}

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim());
}

export function parseLabelSelector(text: string | undefined): LabelRequirement[] {
  if (!text || !text.trim()) return [];
  return splitTopLevel(text).map((part): LabelRequirement => {
    if (!part) throw new SelectorError(`found ',', expected: identifier in label selector "${text}"`);
    let m = /^!\s*(\S+)$/.exec(part);
    if (m) return { key: checkKey(m[1]!, text), op: 'notexists' };
    m = /^(\S+?)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (m) {
      const values = m[3]!
        .split(',')
        .map((v) => v.trim())
        .filter((v, i, all) => v !== '' || all.length > 1);
      for (const v of values) checkValue(v, text);
      return { key: checkKey(m[1]!, text), op: m[2] as 'in' | 'notin', values };
    }
    m = /^([^=!<>\s]+)\s*(==|=|!=|<|>)\s*(\S*)$/.exec(part);
    if (m) {
      const key = checkKey(m[1]!, text);
      const op = m[2]!;
      if (op === '<' || op === '>') {
        const n = Number(m[3]);
        if (!/^-?\d+$/.test(m[3]!))
          throw new SelectorError(`for 'Gt', 'Lt' operators, the value must be an integer: "${part}"`);
        return { key, op: op === '<' ? 'lt' : 'gt', value: n };
      }
      const value = checkValue(m[3]!, text);
      return { key, op: op === '!=' ? 'notin' : 'in', values: [value] };
    }
    if (/^\S+$/.test(part)) return { key: checkKey(part, text), op: 'exists' };
    throw new SelectorError(`unable to parse requirement: "${part}" in label selector "${text}"`);
  });
}

export function matchesLabels(reqs: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'notexists':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
        return !has || !r.values.includes(l[r.key]!);
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(l[r.key]!)) return false;
        const n = Number(l[r.key]);
        return r.op === 'gt' ? n > r.value : n < r.value;
      }
    }
  });
}

export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

/** Parses `a=b,c!=d`; `supported` lists the field labels this resource accepts (kube-apiserver refuses others). */
export function parseFieldSelector(text: string | undefined, supported: readonly string[]): FieldRequirement[] {
  if (!text || !text.trim()) return [];
  return text.split(',').map((raw) => {
    const part = raw.trim();
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw new SelectorError(`invalid selector: '${text}'; can't understand '${part}'`);
    const field = m[1]!;
    if (!supported.includes(field)) throw new SelectorError(`field label not supported: ${field}`);
    return { field, value: m[3]!, negate: m[2] === '!=' };
  });
}

export function fieldValue(obj: Record<string, any>, path: string): string {
  let cur: any = obj;
  for (const p of path.split('.')) cur = cur == null ? undefined : cur[p];
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'string' ? cur : String(cur);
}

export function matchesFields(reqs: FieldRequirement[], obj: Record<string, any>): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) !== r.negate);
}
