// A small schema language for resource field tables, and the one walk that checks a value against it: unknown
// fields (reported with their path), JSON types, required fields, enums, integer ranges and named formats (CIDR,
// duration, selector...). Each kind declares its table once (src/api/v3/*); no per-kind walking code.
import { at, type ProblemSink } from './problems.js';
import { FORMATS, type FormatName } from './formats.js';

interface Common {
  required?: boolean;
}

export type FieldType =
  | (Common & {
      kind: 'string';
      enum?: readonly string[];
      /** Enum matched case-insensitively (Felix's `(?i)` patterns). */
      caseInsensitive?: boolean;
      format?: FormatName;
    })
  | (Common & { kind: 'bool' })
  | (Common & { kind: 'int'; min?: number; max?: number })
  | (Common & { kind: 'number' })
  /** An int or a string (Calico's numorstring: ports, protocols, AS numbers); the format checks both forms. */
  | (Common & { kind: 'intOrString'; format?: FormatName })
  | (Common & {
      kind: 'object';
      fields: FieldTable;
      /** Accept fields not in the table (Kubernetes inputs). */ open?: boolean;
    })
  | (Common & { kind: 'list'; of: FieldType })
  | (Common & { kind: 'map'; of: FieldType })
  | (Common & { kind: 'any' });

export type FieldTable = Readonly<Record<string, FieldType>>;

/** A field table with exactly the fields of T: `satisfies FieldsOf<T>` keeps a kind's type and table in step. */
export type FieldsOf<T> = { readonly [K in keyof Required<T> & string]: FieldType };

// Constructors keep the tables short and readable.
export const str = (format?: FormatName): FieldType => ({ kind: 'string', format });
export const oneOf = (values: readonly string[], caseInsensitive = false): FieldType => ({
  kind: 'string',
  enum: values,
  caseInsensitive,
});
export const bool: FieldType = { kind: 'bool' };
export const int = (min?: number, max?: number): FieldType => ({ kind: 'int', min, max });
export const num: FieldType = { kind: 'number' };
export const intOrStr = (format?: FormatName): FieldType => ({ kind: 'intOrString', format });
export const obj = (fields: FieldTable, opts: { open?: boolean } = {}): FieldType => ({
  kind: 'object',
  fields,
  open: opts.open,
});
export const list = (of: FieldType): FieldType => ({ kind: 'list', of });
export const map = (of: FieldType): FieldType => ({ kind: 'map', of });
export const anything: FieldType = { kind: 'any' };
export const required = (t: FieldType): FieldType => ({ ...t, required: true });

export const duration = str('duration');
export const selector = str('selector');
export const stringList = list(str());
export const stringMap = map(str());

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (isPlainObject(v)) return 'an object';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Checks value against type, reporting each problem under its field path. null counts as "not set". */
export function checkShape(value: unknown, type: FieldType, path: string, sink: ProblemSink): void {
  if (value === undefined || value === null) return;
  switch (type.kind) {
    case 'any':
      return;
    case 'string': {
      if (typeof value !== 'string') return sink.add(path, `must be a string, got ${describe(value)}`);
      if (type.enum) {
        const ok = type.caseInsensitive
          ? type.enum.some((e) => e.toLowerCase() === value.toLowerCase())
          : type.enum.includes(value);
        if (!ok && !(value === '' && !type.required)) {
          sink.add(path, `must be one of ${type.enum.join(', ')}, got ${JSON.stringify(value)}`);
        }
      }
      if (type.format && value !== '') {
        const reason = FORMATS[type.format](value);
        if (reason) sink.add(path, reason);
      }
      return;
    }
    case 'bool':
      if (typeof value !== 'boolean') sink.add(path, `must be true or false, got ${describe(value)}`);
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value))
        sink.add(path, `must be a number, got ${describe(value)}`);
      return;
    case 'int': {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        return sink.add(path, `must be an integer, got ${describe(value)}`);
      }
      const { min, max } = type;
      if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
        const range =
          min !== undefined && max !== undefined ? `${min}..${max}` : min !== undefined ? `>= ${min}` : `<= ${max}`;
        sink.add(path, `must be ${range}, got ${value}`);
      }
      return;
    }
    case 'intOrString': {
      if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) {
        return sink.add(path, `must be an integer or a string, got ${describe(value)}`);
      }
      if (type.format) {
        const reason = FORMATS[type.format](value);
        if (reason) sink.add(path, reason);
      }
      return;
    }
    case 'list':
      if (!Array.isArray(value)) return sink.add(path, `must be a list, got ${describe(value)}`);
      value.forEach((item, i) => checkShape(item, type.of, at(path, i), sink));
      return;
    case 'map':
      if (!isPlainObject(value)) return sink.add(path, `must be a map, got ${describe(value)}`);
      for (const [k, v] of Object.entries(value)) checkShape(v, type.of, at(path, k), sink);
      return;
    case 'object': {
      if (!isPlainObject(value)) return sink.add(path, `must be an object, got ${describe(value)}`);
      for (const [k, v] of Object.entries(value)) {
        const ft = type.fields[k];
        if (ft) checkShape(v, ft, at(path, k), sink);
        else if (!type.open) sink.add(at(path, k), 'unknown field');
      }
      for (const [k, ft] of Object.entries(type.fields)) {
        if (ft.required && (value[k] === undefined || value[k] === null || value[k] === '')) {
          sink.add(at(path, k), 'required');
        }
      }
      return;
    }
  }
}
