// The values a Go template sees, modelled on what Go's reflection shows text/template: structs with Go field names
// (embedded structs promote their fields), maps, slices, ints, float64s, strings, bools and nil; how fmt's %v prints
// each; and Go's truth rule for if/with/and/or.
import { goFloat } from '../columns.js';

/** A struct (or pointer to struct). `nil`: a nil pointer — prints <nil>, is false, its fields read as zero values. */
export class GoStruct {
  constructor(
    readonly typeName: string,
    readonly fields: ReadonlyMap<string, GoValue>,
    /** Names of embedded fields, whose own fields are reachable from this struct too (Go's promotion). */
    readonly embedded: readonly string[] = [],
    readonly nil = false,
  ) {}
}

/** A map[string]T; `zero` is T's zero value (what `index` returns for a missing key). */
export class GoMap {
  constructor(
    readonly typeName: string,
    readonly entries: ReadonlyMap<string, GoValue>,
    readonly zero: GoValue,
  ) {}
}

/** A float64 (plain JavaScript numbers are Go ints). */
export class GoFloat {
  constructor(readonly value: number) {}
}

/** What a missing map key yields through field syntax (`.Labels.nothere`): prints "<no value>". */
export const NO_VALUE: unique symbol = Symbol('no value');

export type GoValue = null | typeof NO_VALUE | string | number | boolean | GoFloat | GoStruct | GoMap | GoValue[];

const SLICE_TYPE = Symbol('slice type');

/** Marks an array with its Go slice type (e.g. `[]runtime.Object`), which error messages name. */
export function typedSlice(typeName: string, items: GoValue[]): GoValue[] {
  return Object.assign(items, { [SLICE_TYPE]: typeName });
}

/** Go's type name of a value, for error messages. */
export function typeOf(v: GoValue): string {
  if (v === null) return 'nil';
  if (v === NO_VALUE) return 'invalid';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'int';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoFloat) return 'float64';
  if (v instanceof GoStruct || v instanceof GoMap) return v.typeName;
  return (v as GoValue[] & { [SLICE_TYPE]?: string })[SLICE_TYPE] ?? '[]interface {}';
}

/** fmt's %v. */
export function formatValue(v: GoValue): string {
  if (v === null) return '<nil>';
  if (v === NO_VALUE) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof GoFloat) return goFloat(v.value);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(' ')}]`;
  if (v instanceof GoMap) {
    const keys = [...v.entries.keys()].sort();
    return `map[${keys.map((k) => `${k}:${formatValue(v.entries.get(k)!)}`).join(' ')}]`;
  }
  if (v.nil) return '<nil>';
  return `{${[...v.fields.values()].map(formatValue).join(' ')}}`;
}

/** text/template's truth: false, 0, nil, and empty strings, slices and maps are false; structs are true. */
export function isTrue(v: GoValue): boolean {
  if (v === null || v === NO_VALUE) return false;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'boolean') return v;
  if (v instanceof GoFloat) return v.value !== 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof GoMap) return v.entries.size > 0;
  return !v.nil;
}

/** A struct field, own or promoted from an embedded struct; undefined when the type has no such field. */
export function structField(s: GoStruct, name: string): GoValue | undefined {
  if (s.fields.has(name)) return s.fields.get(name)!;
  for (const e of s.embedded) {
    const inner = s.fields.get(e);
    if (inner instanceof GoStruct) {
      const found = structField(inner, name);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
