// Defensive readers for already shape-checked input: the field-table walk reports wrong types, so kind
// validators read values through these and simply skip what has the wrong type.
import { selectorFactsOf } from '../formats.js';
import { isPlainObject } from '../schema.js';

export const asString = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
export const asNumber = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
export const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const asObject = (v: unknown): Record<string, unknown> => (isPlainObject(v) ? v : {});
export const isSet = (v: unknown): boolean =>
  v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);

/** True/false when the selector parses and does/doesn't use global(); undefined when it does not parse. */
export function selectorUsesGlobal(text: string): boolean | undefined {
  const facts = selectorFactsOf(text);
  return facts.syntax ? undefined : facts.usesGlobal;
}
