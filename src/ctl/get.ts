// `calicoctl get`: by KIND [NAME...] or by the resources named in `-f`, one namespace (-n, default "default"),
// or all (-A); BlockAffinity is read from IPAM's affinity keys. Request in -> printed text and exit code out.
import { readFileSync } from 'node:fs';
import type { Resource } from '../api/resource.js';
import { CALICO_API_VERSION } from '../api/resource.js';
import { lookupKind, type KindInfo } from '../api/kinds.js';
import type { ResourceClient } from '../datastore/resources.js';
import { IpamStore } from '../ipam/store.js';
import type { CommandResult } from './actions.js';
import type { CellContext } from './columns.js';
import { parseOutputFormat, renderGet, type GetResult, type OutputFormat } from './output.js';
import { NotFoundError } from '../datastore/types.js';
import { partialOutput } from './gotemplate/index.js';

export interface GetRequest {
  kind?: string;
  names: string[];
  /** Resources from -f (already decoded); replaces kind and names. */
  fromFile?: Resource[];
  namespace?: string;
  allNamespaces?: boolean;
  output: string;
  export?: boolean;
}

/** Resolves a kind argument (kind, plural or alias, any case) or says it is not supported, as calicoctl. */
export function resolveKind(arg: string): KindInfo {
  const info = lookupKind(arg);
  if (!info) throw new Error(`resource type '${arg}' is not supported`);
  return info;
}

const fail = (message: string): CommandResult => ({
  code: 1,
  stdout: '',
  stderr: `Failed to get resources: ${message}\n`,
});

export async function runGet(client: ResourceClient, req: GetRequest): Promise<CommandResult> {
  let format: OutputFormat;
  try {
    format = parseOutputFormat(req.output);
    if (format.type === 'go-template-file') format = { type: 'go-template', template: readTemplateFile(format.file) };
  } catch (e) {
    return { code: 1, stdout: '', stderr: `${(e as Error).message}\n` };
  }
  const results: GetResult[] = [];
  const errors: string[] = [];
  let named = false;
  try {
    if (req.allNamespaces && req.namespace) {
      return fail('cannot use both --namespace and --all-namespaces flags at the same time');
    }
    const targets: { info: KindInfo; name?: string; namespace?: string }[] = [];
    if (req.fromFile) {
      named = true;
      for (const r of req.fromFile)
        targets.push({ info: resolveKind(r.kind), name: r.metadata.name, namespace: r.metadata.namespace });
    } else {
      if (!req.kind) return fail('resource type not specified');
      const info = resolveKind(req.kind);
      // Calico reports this per resource, without the "Failed to get resources" prefix.
      if (!info.namespaced && (req.namespace || req.allNamespaces)) {
        return { code: 1, stdout: '', stderr: `${info.kind} is not namespaced\n` };
      }
      const ns = info.namespaced && !req.allNamespaces ? (req.namespace ?? 'default') : undefined;
      if (req.names.length) {
        named = true;
        if (info.namespaced && req.allNamespaces) {
          return fail('cannot use --all-namespace flag for getting a single resource');
        }
        for (const name of req.names) targets.push({ info, name, namespace: ns });
      } else targets.push({ info, namespace: ns });
    }
    for (const t of targets) {
      if (t.name === undefined) {
        const listed = await listKind(client, t.info, t.namespace);
        results.push({ type: 'list', kind: t.info.kind, items: listed.items, revision: listed.revision });
        continue;
      }
      try {
        results.push({
          type: 'resource',
          kind: t.info.kind,
          resource: await getOne(client, t.info, t.name, t.namespace),
        });
      } catch (e) {
        if (e instanceof NotFoundError) errors.push((e as Error).message);
        else throw e;
      }
    }
  } catch (e) {
    return fail((e as Error).message);
  }
  const printNamespace = Boolean(req.allNamespaces || req.namespace);
  let stdout = '';
  if (results.length) {
    const ctx = await cellContext(client, results, format);
    try {
      stdout = renderGet(results, format, ctx, { printNamespace, exported: Boolean(req.export && named) });
    } catch (e) {
      // A template that fails while running has already printed what came before the failure (Go streams it).
      return { code: 1, stdout: partialOutput(e), stderr: `${(e as Error).message}\n` };
    }
  }
  return { code: errors.length ? 1 : 0, stdout, stderr: errors.map((e) => `${e}\n`).join('') };
}

/** The template of `-o go-template-file=FILE`, with Go's wording when the file cannot be read. */
function readTemplateFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new Error(`open ${file}: ${reason}`);
  }
}

async function getOne(client: ResourceClient, info: KindInfo, name: string, ns?: string): Promise<Resource> {
  if (info.kind === 'BlockAffinity') {
    const found = (await blockAffinities(client)).items.find((a) => a.metadata.name === name);
    if (!found) throw new NotFoundError(`resource does not exist: BlockAffinity(${name}) with error: <nil>`);
    return found;
  }
  return client.get(info.kind, name, ns);
}

async function listKind(
  client: ResourceClient,
  info: KindInfo,
  ns: string | undefined,
): Promise<{ items: Resource[]; revision: number }> {
  if (info.kind === 'BlockAffinity') return blockAffinities(client);
  return client.list(info.kind, ns);
}

/** IPAM's affinity keys as v3 BlockAffinity objects (name `<node>-<cidr with . and / as ->`, as Calico names them). */
async function blockAffinities(client: ResourceClient): Promise<{ items: Resource[]; revision: number }> {
  const store = new IpamStore(client.datastore);
  const revision = await client.datastore.currentRevision();
  const items = (await store.listAffinities()).map((a): Resource => ({
    apiVersion: CALICO_API_VERSION,
    kind: 'BlockAffinity',
    metadata: {
      name: `${a.host}-${a.cidr.replace(/[./:]/g, '-')}`,
      resourceVersion: String(a.revision),
    },
    spec: {
      node: a.host,
      cidr: a.cidr,
      state: (a.value as { state?: string }).state ?? '',
      deleted: String((a.value as { deleted?: boolean }).deleted === true),
    },
  }));
  items.sort((x, y) => (x.metadata.name < y.metadata.name ? -1 : x.metadata.name > y.metadata.name ? 1 : 0));
  return { items, revision };
}

/** BGPConfiguration default's asNumber, fetched only when a Node table shows the ASN column. */
async function cellContext(client: ResourceClient, groups: GetResult[], format: OutputFormat): Promise<CellContext> {
  const ctx: CellContext = { globalAsNumber: '64512' };
  const needsAs =
    groups.some((g) => g.kind === 'Node') &&
    (format.type === 'wide' || (format.type === 'custom' && format.columns.some((c) => c.toUpperCase() === 'ASN')));
  if (needsAs) {
    const bgp = await client.find('BGPConfiguration', 'default');
    if (bgp?.spec?.asNumber !== undefined && bgp.spec.asNumber !== null) ctx.globalAsNumber = String(bgp.spec.asNumber);
  }
  return ctx;
}
