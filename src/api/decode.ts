// Decodes resource text as calicoctl reads it: multi-document YAML (`---`), a JSON object, a JSON array, or
// concatenated JSON objects; `kind: List` / `kind: <Kind>List` documents are expanded into their items.
// Text in -> plain objects out, each tagged with its 1-based document number. Syntax errors name the document.
import { parseAllDocuments } from 'yaml';
import { ResourceValidationError, type Problem } from './problems.js';
import { isPlainObject } from './schema.js';

export interface DecodedDocument {
  /** 1-based number of the document in the text (items of a List share their List's number). */
  document: number;
  /** Set for an item of a List: its index in `items`. */
  item?: number;
  value: unknown;
}

function syntaxProblem(document: number, reason: string): Problem {
  return { document, kind: '', name: '', path: '', reason };
}

/** Splits a stream of concatenated JSON values ("{..}{..}" or one per line); undefined when it is not JSON. */
function splitJsonStream(text: string): unknown[] | undefined {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth < 0) return undefined;
      if (depth === 0) {
        try {
          out.push(JSON.parse(text.slice(start, i + 1)));
        } catch {
          return undefined;
        }
      }
    } else if (depth === 0 && !/\s/.test(c)) return undefined;
  }
  return depth === 0 ? out : undefined;
}

function isListKind(v: Record<string, unknown>): boolean {
  return typeof v.kind === 'string' && /List$/.test(v.kind) && Array.isArray(v.items);
}

/** Decodes every document; throws ResourceValidationError listing every syntax error. Empty documents are skipped. */
export function decodeDocuments(text: string): DecodedDocument[] {
  const raw: { document: number; value: unknown }[] = [];
  const problems: Problem[] = [];
  const trimmed = text.trim();
  const json = trimmed.startsWith('{') || trimmed.startsWith('[') ? splitJsonStream(trimmed) : undefined;
  if (json) {
    let n = 0;
    for (const v of json) {
      // A top-level JSON array is a list of documents, as calicoctl accepts.
      if (Array.isArray(v)) for (const item of v) raw.push({ document: ++n, value: item });
      else raw.push({ document: ++n, value: v });
    }
  } else {
    const docs = parseAllDocuments(text, { prettyErrors: false });
    const list = Array.isArray(docs) ? docs : [docs];
    list.forEach((doc, i) => {
      if (doc.errors.length > 0) {
        for (const e of doc.errors)
          problems.push(syntaxProblem(i + 1, `YAML syntax error: ${e.message.split('\n')[0]}`));
        return;
      }
      try {
        raw.push({ document: i + 1, value: doc.toJS({ maxAliasCount: 100 }) });
      } catch (e) {
        // e.g. an alias whose anchor is not defined, or an alias bomb
        problems.push(syntaxProblem(i + 1, `YAML error: ${(e as Error).message}`));
      }
    });
  }
  if (problems.length > 0) throw new ResourceValidationError(problems);

  const out: DecodedDocument[] = [];
  for (const { document, value } of raw) {
    if (value === null || value === undefined) continue;
    if (isPlainObject(value) && isListKind(value)) {
      (value.items as unknown[]).forEach((item, i) => out.push({ document, item: i, value: item }));
    } else {
      out.push({ document, value });
    }
  }
  return out;
}
