// Go text/template for calicoctl's `-o go-template=` and `-o go-template-file=`: parse (syntax errors name line and
// column) then execute over GoValues. Template source + data in -> text out, or a TemplateError with Go's wording
// and, for execution errors, the output printed before the failure.
import { executeTemplate, FUNCTION_NAMES } from './exec.js';
import { parseTemplate, TemplateError } from './parse.js';
import type { GoValue } from './values.js';

export { TemplateError } from './parse.js';
export { GoFloat, GoMap, GoStruct, NO_VALUE, formatValue, typedSlice, type GoValue } from './values.js';

/** Output printed before an execution error (Go writes it to stdout as it goes). */
export function partialOutput(err: unknown): string {
  return err instanceof TemplateError ? String((err as TemplateError & { partial?: string }).partial ?? '') : '';
}

/** Parses and runs a template named `name` (calicoctl's is "get") over data. */
export function renderTemplate(name: string, src: string, data: GoValue): string {
  const nodes = parseTemplate(name, src, FUNCTION_NAMES);
  return executeTemplate(name, src, nodes, data);
}
