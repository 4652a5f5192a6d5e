// `calicoctl get`: by KIND [NAME...] or by the resources named in `-f`, one namespace (-n, default "default"),
// or all (-A); BlockAffinity is read from IPAM's affinity keys. Request in -> printed text and exit code out.
import type { Resource } from '../api/resource.js';
import { CALICO_API_VERSION } from '../api/resource.js';
import { lookupKind, type KindInfo } from '../api/kinds.js';
import type { ResourceClient } from '../datastore/resources.js';
import { IpamStore } from '../ipam/store.js';
import type { CommandResult } from './actions.js';
import type { CellContext } from './columns.js';
import { parseOutputFormat, renderGet, type OutputFormat } from './output.js';

export interface GetRequest {
  kind?: string;
  names: string[];
  /** Resources from -f (already decoded); replaces kind and names. */
  fromFile?: Resource[];
  namespace?: string;
  allNamespaces?: boolean;
  output: string;
  export?: boolean;
  /** Print nothing (no header, no empty list) when nothing is found. */
  skipEmpty?: boolean;
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
  } catch (e) {
    return { code: 1, stdout: '', stderr: `${(e as Error).message}\n` };
  }
  const groups: { info: KindInfo; items: Resource[]; single: boolean; revision: number }[] = [];
  try {
    if (req.fromFile) {
      for (const r of req.fromFile) {
        const info = resolveKind(r.kind);
        const found = await getOne(client, info, r.metadata.name, r.metadata.namespace);
        const last = groups[groups.length - 1];
        if (last && last.info.kind === info.kind) last.items.push(found);
        else groups.push({ info, items: [found], single: false, revision: 0 });
      }
      if (groups.length === 1 && groups[0].items.length === 1) groups[0].single = true;
    } else {
      if (!req.kind) return fail('resource type not specified');
      const info = resolveKind(req.kind);
      const ns = info.namespaced ? (req.namespace ?? 'default') : undefined;
      if (req.names.length) {
        const items: Resource[] = [];
        for (const n of req.names) items.push(await getOne(client, info, n, ns));
        groups.push({ info, items, single: items.length === 1, revision: 0 });
      } else {
        const listed = await listKind(client, info, req.allNamespaces ? undefined : ns);
        groups.push({ info, items: listed.items, single: false, revision: listed.revision });
      }
    }
    for (const g of groups) if (!g.revision) g.revision = await client.datastore.currentRevision();
    const ctx = await cellContext(client, groups, format);
    let stdout = '';
    for (const g of groups) {
      if (req.skipEmpty && g.items.length === 0) continue;
      const namespaceColumn = Boolean(req.allNamespaces && g.info.namespaced && !req.fromFile && !req.names.length);
      stdout += renderGet(
        {
          kind: g.info.kind,
          items: g.items,
          single: g.single,
          revision: g.revision,
          namespaceColumn,
          exported: Boolean(req.export),
        },
        format,
        ctx,
      );
    }
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    return fail((e as Error).message);
  }
}

async function getOne(client: ResourceClient, info: KindInfo, name: string, ns?: string): Promise<Resource> {
  if (info.kind === 'BlockAffinity') {
    const found = (await blockAffinities(client)).items.find((a) => a.metadata.name === name);
    if (!found) throw new Error(`resource does not exist: BlockAffinity(${name}) with error: <nil>`);
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
async function cellContext(
  client: ResourceClient,
  groups: { info: KindInfo }[],
  format: OutputFormat,
): Promise<CellContext> {
  const ctx: CellContext = { globalAsNumber: '64512' };
  const needsAs =
    groups.some((g) => g.info.kind === 'Node') &&
    (format.type === 'wide' || (format.type === 'custom' && format.columns.some((c) => c.toUpperCase() === 'ASN')));
  if (needsAs) {
    const bgp = await client.find('BGPConfiguration', 'default');
    if (bgp?.spec?.asNumber !== undefined && bgp.spec.asNumber !== null) ctx.globalAsNumber = String(bgp.spec.asNumber);
  }
  return ctx;
}
