// `calicoctl get` output: `-o ps|wide|custom-columns=...` tables, `yaml`/`json` (a `<Kind>List` for lists, the
// object itself for one named resource), and `name`. Resources in -> text out; what is printed applies back unchanged.
import { stringify } from 'yaml';
import { CALICO_API_VERSION, type Resource } from '../api/resource.js';
import { columnsFor, tableRows, type CellContext, type TableFormat } from './columns.js';
import { tabwrite } from './tabwriter.js';

export type OutputFormat = TableFormat | { type: 'yaml' } | { type: 'json' } | { type: 'name' };

/** Parses `-o`; names the accepted formats when the value is none of them. */
export function parseOutputFormat(o: string): OutputFormat {
  const v = o.trim();
  if (v === 'ps' || v === 'wide' || v === 'yaml' || v === 'json' || v === 'name') return { type: v };
  if (v === 'yml') return { type: 'yaml' };
  const m = /^custom-columns=(.*)$/.exec(v);
  if (m) {
    const columns = m[1]
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    if (!columns.length) throw new Error('output: custom-columns= needs at least one column name');
    return { type: 'custom', columns };
  }
  throw new Error(
    `output: unrecognized output format '${o}'; one of ps, wide, yaml, json, name, custom-columns=<COL>,...`,
  );
}

export interface GetOutput {
  kind: string;
  items: Resource[];
  /** A single named resource: printed as the object, not a list. */
  single: boolean;
  /** Datastore revision of the list (the List's metadata.resourceVersion). */
  revision: number;
  /** -A on a namespaced kind: tables get a NAMESPACE column first. */
  namespaceColumn: boolean;
  /** --export: strip uid, resourceVersion, creationTimestamp. */
  exported: boolean;
}

const EXPORT_STRIPPED = ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields'];

/** Object keys in Calico's JSON order at the top (kind, apiVersion, metadata, spec, status), the rest after. */
function ordered(r: Resource, exported: boolean): Record<string, unknown> {
  const metadata: Record<string, unknown> = { ...r.metadata };
  if (exported) for (const f of EXPORT_STRIPPED) delete metadata[f];
  const out: Record<string, unknown> = { kind: r.kind, apiVersion: r.apiVersion || CALICO_API_VERSION, metadata };
  for (const [k, v] of Object.entries(r)) if (!(k in out)) out[k] = v;
  return out;
}

function listObject(o: GetOutput): Record<string, unknown> {
  return {
    kind: `${o.kind}List`,
    apiVersion: CALICO_API_VERSION,
    metadata: o.exported ? {} : { resourceVersion: String(o.revision) },
    items: o.items.map((r) => ordered(r, o.exported)),
  };
}

/** YAML as Go's marshaller writes it: keys sorted, sequences not indented under their key, no line folding. */
export function toYaml(v: unknown): string {
  return stringify(v, { sortMapEntries: true, indentSeq: false, lineWidth: 0, minContentWidth: 0 });
}

export function renderGet(o: GetOutput, format: OutputFormat, ctx: CellContext): string {
  switch (format.type) {
    case 'yaml':
      return toYaml(o.single ? ordered(o.items[0], o.exported) : listObject(o));
    case 'json':
      return JSON.stringify(o.single ? ordered(o.items[0], o.exported) : listObject(o), null, 2) + '\n';
    case 'name':
      return o.items.map((r) => `${r.metadata.name}\n`).join('');
    default: {
      const cols = columnsFor(o.kind, format, o.namespaceColumn);
      return tabwrite(tableRows(o.kind, cols, o.items, ctx));
    }
  }
}
