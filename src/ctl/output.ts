// `calicoctl get` output: `-o ps|wide|custom-columns=...` tables, `yaml`/`json` (a `<Kind>List` for lists, the
// object itself for one named resource), `name`, and `go-template=` (Go text/template over the Go objects). Resources in -> text out; what is printed applies back unchanged.
import { stringify } from 'yaml';
import { CALICO_API_VERSION, type Resource } from '../api/resource.js';
import { lookupKind } from '../api/kinds.js';
import { columnsFor, tableRows, type CellContext, type TableFormat } from './columns.js';
import { tabwrite } from './tabwriter.js';
import { goList, goResource } from './go-objects.js';
import { renderTemplate, typedSlice, type GoValue } from './gotemplate/index.js';

export type OutputFormat =
  | TableFormat
  | { type: 'yaml' }
  | { type: 'json' }
  | { type: 'name' }
  | { type: 'go-template'; template: string }
  /** Read by the caller (get.ts) and turned into a go-template before rendering. */
  | { type: 'go-template-file'; file: string };

/** Parses `-o`; names the accepted formats when the value is none of them. */
export function parseOutputFormat(o: string): OutputFormat {
  const v = o.trim();
  if (v === 'ps' || v === 'wide' || v === 'yaml' || v === 'json' || v === 'name') return { type: v };
  if (v === 'yml') return { type: 'yaml' };
  // As calicoctl: split at the first "="; the template itself is taken as written (not trimmed).
  const eq = o.indexOf('=');
  const key = eq < 0 ? v : o.slice(0, eq).trim();
  const value = eq < 0 ? '' : o.slice(eq + 1);
  if (key === 'go-template') {
    if (!value) throw new Error('need to specify a template');
    return { type: 'go-template', template: value };
  }
  if (key === 'go-template-file') {
    if (!value) throw new Error('need to specify a template file');
    return { type: 'go-template-file', file: value };
  }
  const m = /^custom-columns=(.*)$/.exec(v);
  if (m) {
    const columns = m[1]
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    if (!columns.length) throw new Error('need to specify at least one column');
    return { type: 'custom', columns };
  }
  throw new Error(`unrecognized output format '${o}'`);
}

/** One thing `get` found: a single resource (get by name) or a whole list (get without names). */
export type GetResult =
  | { type: 'resource'; kind: string; resource: Resource }
  | { type: 'list'; kind: string; items: Resource[]; revision: number };

export interface RenderOptions {
  /** -A or -n: tables of namespaced kinds get a NAMESPACE column first. */
  printNamespace: boolean;
  /** --export (named gets only): strip namespace, uid, resourceVersion, creationTimestamp. */
  exported: boolean;
}

const EXPORT_STRIPPED = ['namespace', 'uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields'];

/** Object keys in Calico's JSON order at the top (kind, apiVersion, metadata, spec, status), the rest after. */
function ordered(r: Resource, exported: boolean): Record<string, unknown> {
  const metadata: Record<string, unknown> = { ...r.metadata };
  if (exported) for (const f of EXPORT_STRIPPED) delete metadata[f];
  const out: Record<string, unknown> = { kind: r.kind, apiVersion: r.apiVersion || CALICO_API_VERSION, metadata };
  for (const [k, v] of Object.entries(r)) if (!(k in out)) out[k] = v;
  return out;
}

function objectOf(g: GetResult, exported: boolean): Record<string, unknown> {
  if (g.type === 'resource') return ordered(g.resource, exported);
  return {
    kind: `${g.kind}List`,
    apiVersion: CALICO_API_VERSION,
    metadata: { resourceVersion: String(g.revision) },
    items: g.items.map((r) => ordered(r, false)),
  };
}

/**
 * YAML as Go's marshaller writes it: keys sorted, sequences not indented under their key, no line folding, and
 * (YAML 1.1 rules) strings that would read as timestamps, yes/no/on/off or numbers quoted.
 */
export function toYaml(v: unknown): string {
  return stringify(v, { version: '1.1', sortMapEntries: true, indentSeq: false, lineWidth: 0, minContentWidth: 0 });
}

/**
 * As calicoctl's printers: YAML/JSON print the one result as an object (a `<Kind>List` for a list) or several as a
 * sequence; tables print one table per result, each followed by an empty line; `name` prints one name per line.
 */
export function renderGet(results: GetResult[], format: OutputFormat, ctx: CellContext, opts: RenderOptions): string {
  switch (format.type) {
    case 'yaml':
    case 'json': {
      const objs = results.map((g) => objectOf(g, opts.exported));
      const v = objs.length === 1 ? objs[0] : objs;
      return format.type === 'yaml' ? toYaml(v) : JSON.stringify(v, null, 2) + '\n';
    }
    case 'go-template': {
      // calicoctl executes the template over the []runtime.Object of results (one *<Kind>List per list).
      const data = results.map((g): GoValue => {
        if (g.type === 'list') return goList(g.kind, CALICO_API_VERSION, g.items, g.revision);
        const o = ordered(g.resource, opts.exported) as unknown as Resource;
        return goResource(o, true);
      });
      return renderTemplate('get', format.template, typedSlice('[]runtime.Object', data));
    }
    case 'go-template-file':
      throw new Error(`template file ${format.file} was not read`);
    case 'name':
      return results
        .flatMap((g) => (g.type === 'resource' ? [g.resource] : g.items))
        .map((r) => `${r.metadata.name}\n`)
        .join('');
    default:
      return results
        .map((g) => {
          const items = g.type === 'resource' ? [g.resource] : g.items;
          const namespaced = lookupKind(g.kind)?.namespaced ?? false;
          const cols = columnsFor(g.kind, format, opts.printNamespace && namespaced);
          // Calico's row templates end every cell, the last one too, with a tab: all columns are padded.
          return tabwrite(tableRows(g.kind, cols, items, ctx).map((row) => [...row, ''])) + '\n';
        })
        .join('');
  }
}
