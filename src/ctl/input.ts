// calicoctl's `-f FILE|DIR|-` input: reads the file, every .yaml/.yml/.json file of a directory (all levels with
// -R) or stdin, decodes every document, fills namespaces from -n, and checks the whole input before anything is
// written. Paths in -> resources out, or one error listing every problem of every document of every file.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { decodeDocuments } from '../api/decode.js';
import { formatProblem, ResourceValidationError, type Problem } from '../api/problems.js';
import type { Resource } from '../api/resource.js';
import { lookupKind } from '../api/kinds.js';
import { applyCreateDefaults } from '../api/defaults.js';
import { resourceProblems } from '../api/validate/index.js';

export interface InputSource {
  /** File path, or "-" for stdin. */
  source: string;
  text: string;
}

const RESOURCE_FILE = /\.(ya?ml|json)$/i;

/** Reads `-f` input: stdin for "-", a file, or a directory's resource files (sorted; sub-directories with -R). */
export function readInput(file: string, recursive: boolean, stdin: () => string = readStdin): InputSource[] {
  if (file === '-') return [{ source: '-', text: stdin() }];
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new Error(`open ${file}: no such file or directory`);
  }
  if (!st.isDirectory()) return [{ source: file, text: readFileSync(file, 'utf8') }];
  const out: InputSource[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) {
        if (recursive) walk(full);
      } else if (RESOURCE_FILE.test(entry)) out.push({ source: full, text: readFileSync(full, 'utf8') });
    }
  };
  walk(file);
  return out;
}

function readStdin(): string {
  return readFileSync(0, 'utf8');
}

export interface DecodeOptions {
  /** -n: namespace for namespaced resources that name none; a resource naming another one is an error. */
  namespace?: string;
  /** Command name for read-only refusals ("operation apply is not supported on ClusterInformation(default)"). */
  action?: string;
  /** Skip semantic validation (get/delete only need kind and identity). */
  identityOnly?: boolean;
}

/** libcalico-go's ErrorOperationNotSupported for the kinds Calico manages itself. */
export function readOnlyMessage(action: string, kind: string): string {
  return `operation ${action} is not supported on ${kind}: resource is readonly`;
}

/** A problem attached to the file it came from, when the input has several files. */
export class InputError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.length === 1 ? lines[0] : `${lines.length} problems:\n${lines.map((l) => `  ${l}`).join('\n')}`);
  }
}

/**
 * Decodes and checks every source; throws InputError listing every problem (syntax, validation, namespace, read-only)
 * so that nothing is written when any document is invalid.
 */
export function decodeInput(sources: InputSource[], opts: DecodeOptions = {}): Resource[] {
  const lines: string[] = [];
  const out: Resource[] = [];
  const many = sources.length > 1;
  for (const { source, text } of sources) {
    const problems: Problem[] = [];
    let docs: ReturnType<typeof decodeDocuments>;
    try {
      docs = decodeDocuments(text);
    } catch (e) {
      if (e instanceof ResourceValidationError) problems.push(...e.problems);
      else problems.push({ document: 0, kind: '', name: '', path: '', reason: (e as Error).message });
      docs = [];
    }
    for (const { document, value } of docs.flatMap((d) => expandSequence(d))) {
      const r = value as Resource;
      const info = r && typeof r === 'object' && typeof r.kind === 'string' ? lookupKind(r.kind) : undefined;
      if (info && r.metadata && typeof r.metadata === 'object') {
        const name = String(r.metadata.name ?? '');
        const problem = (path: string, reason: string): void => {
          const ns = info.namespaced ? r.metadata.namespace : undefined;
          problems.push({ document, kind: info.kind, name: ns ? `${ns}/${name}` : name, path, reason });
        };
        if (info.namespaced) {
          if (!r.metadata.namespace) r.metadata.namespace = opts.namespace ?? 'default';
          else if (opts.namespace && r.metadata.namespace !== opts.namespace) {
            problem(
              'metadata.namespace',
              `resource namespace does not match client namespace. ${r.metadata.namespace} != ${opts.namespace}`,
            );
          }
        } else if (opts.namespace && !r.metadata.namespace) {
          problem('', `${info.kind} is not namespaced`);
        }
        if (info.readOnly && opts.action && opts.action !== 'get') {
          problem('', readOnlyMessage(opts.action, info.kind));
        }
      }
      if (opts.identityOnly) problems.push(...identityProblems(r, document));
      else {
        const found = resourceProblems(r, document, { userWrite: true }).problems;
        // The datastore client stores create-time defaults and checks the result: check that form too, so a
        // document that only fails once defaulted is refused here, before anything is written.
        if (!found.length) found.push(...resourceProblems(defaulted(r), document, { userWrite: true }).problems);
        problems.push(...found);
      }
      out.push(r);
    }
    for (const p of problems) lines.push(many ? `${source}: ${formatProblem(p)}` : formatProblem(p));
  }
  if (lines.length) throw new InputError(lines);
  return out;
}

/** A YAML/JSON sequence of objects (what `get` prints for several named resources) is a list of documents. */
function expandSequence(d: { document: number; value: unknown }): { document: number; value: unknown }[] {
  if (!Array.isArray(d.value)) return [d];
  return d.value.flatMap((v: unknown) => {
    const o = v as { kind?: unknown; items?: unknown };
    if (o && typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) {
      return o.items.map((item: unknown) => ({ document: d.document, value: item }));
    }
    return [{ document: d.document, value: v }];
  });
}

function defaulted(r: Resource): Resource {
  try {
    return applyCreateDefaults(r);
  } catch {
    return r;
  }
}

/** The checks get/delete need: a known kind and a name. */
function identityProblems(r: Resource, document: number): Problem[] {
  const problem = (path: string, reason: string): Problem => ({
    document,
    kind: typeof r?.kind === 'string' ? r.kind : '',
    name: typeof r?.metadata?.name === 'string' ? r.metadata.name : '',
    path,
    reason,
  });
  if (!r || typeof r !== 'object') return [problem('', 'a resource must be a mapping with kind and metadata')];
  const out: Problem[] = [];
  if (typeof r.kind !== 'string' || !lookupKind(r.kind))
    out.push(problem('kind', `unknown kind ${JSON.stringify(r.kind)}`));
  if (!r.metadata || typeof r.metadata.name !== 'string' || !r.metadata.name)
    out.push(problem('metadata.name', 'required'));
  return out;
}
