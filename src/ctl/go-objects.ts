// What calicoctl's go-template sees: the `get` results as the Go objects Calico's calicoctl passes to text/template
// — a []runtime.Object of *v3.<Kind> (named gets) or *v3.<Kind>List (`.Items`), with Go struct field names
// (`.ObjectMeta.Name`, `.Spec.CIDR`, `.Spec.IPNetworks`; TypeMeta/ObjectMeta fields also promoted: `.Name`).
// Fields the kind's schema knows but the object leaves unset read as Go's zero values. Resources in -> GoValue out.
import { KIND_SCHEMAS, isCalicoKind, metadataFields } from '../api/v3/index.js';
import type { FieldTable, FieldType } from '../api/schema.js';
import type { Resource } from '../api/resource.js';
import { GoFloat, GoMap, GoStruct, typedSlice, type GoValue } from './gotemplate/index.js';

/** A lower-case leading word that Go spells as an initialism (ipipMode -> IPIPMode, ipv4Address -> IPv4Address). */
const INITIALISMS: Record<string, string> = {
  api: 'API',
  as: 'AS',
  aws: 'AWS',
  bgp: 'BGP',
  bpf: 'BPF',
  cidr: 'CIDR',
  cidrs: 'CIDRs',
  cnx: 'CNX',
  dns: 'DNS',
  http: 'HTTP',
  icmp: 'ICMP',
  id: 'ID',
  ip: 'IP',
  ipam: 'IPAM',
  ipip: 'IPIP',
  ips: 'IPs',
  ipsec: 'IPSec',
  ipv4: 'IPv4',
  ipv6: 'IPv6',
  mac: 'MAC',
  mtu: 'MTU',
  nat: 'NAT',
  nftables: 'NFTables',
  sctp: 'SCTP',
  tcp: 'TCP',
  ttl: 'TTL',
  udp: 'UDP',
  uid: 'UID',
  url: 'URL',
  vxlan: 'VXLAN',
  xdp: 'XDP',
};
/** JSON names whose Go field name the leading-word rule does not give. */
const SPECIAL: Record<string, string> = { qosControls: 'QoSControls' };

/** The Go struct field name behind a JSON field name of Calico's API. */
export function goFieldName(json: string): string {
  if (SPECIAL[json]) return SPECIAL[json]!;
  const lead = /^[a-z0-9]+/.exec(json)?.[0] ?? '';
  const rest = json.slice(lead.length);
  return (INITIALISMS[lead] ?? lead.charAt(0).toUpperCase() + lead.slice(1)) + rest;
}

/** time.Time's String(), which metav1.Time prints with: "2026-01-02 03:04:05 +0000 UTC". */
function goTime(v: unknown): string {
  const d = typeof v === 'string' ? new Date(v) : undefined;
  if (!d || Number.isNaN(d.getTime())) return '0001-01-01 00:00:00 +0000 UTC';
  return `${d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '')} +0000 UTC`;
}

/** Any JSON value without a schema: objects as map[string]interface{}, whole numbers as ints. */
function untyped(v: unknown): GoValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? v : new GoFloat(v);
  if (Array.isArray(v)) return v.map(untyped);
  const entries = new Map<string, GoValue>(
    Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, untyped(x)]),
  );
  return new GoMap('map[string]interface {}', entries, null);
}

function zeroOf(t: FieldType): GoValue {
  switch (t.kind) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'list':
      return [];
    case 'map':
      return new GoMap(`map[string]${elemTypeName(t.of)}`, new Map(), zeroOf(t.of));
    default:
      return null; // pointers (most optional numbers and structs in Calico's API) and interfaces
  }
}

function elemTypeName(t: FieldType): string {
  return t.kind === 'string' ? 'string' : t.kind === 'bool' ? 'bool' : t.kind === 'int' ? 'int' : 'interface {}';
}

function typed(v: unknown, t: FieldType, typeName: string): GoValue {
  if (v === undefined || v === null) {
    return t.kind === 'object' ? struct(undefined, t.fields, typeName) : zeroOf(t);
  }
  switch (t.kind) {
    case 'number':
      return typeof v === 'number' ? new GoFloat(v) : untyped(v);
    case 'list':
      return Array.isArray(v) ? v.map((x) => typed(x, t.of, typeName)) : untyped(v);
    case 'map': {
      if (typeof v !== 'object' || Array.isArray(v)) return untyped(v);
      const entries = new Map<string, GoValue>(
        Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, typed(x, t.of, typeName)]),
      );
      return new GoMap(`map[string]${elemTypeName(t.of)}`, entries, zeroOf(t.of));
    }
    case 'object':
      return typeof v === 'object' && !Array.isArray(v)
        ? struct(v as Record<string, unknown>, t.fields, typeName)
        : untyped(v);
    default:
      return untyped(v);
  }
}

/** A struct of a field table; absent (undefined value) gives a nil pointer whose fields read as zero values. */
function struct(v: Record<string, unknown> | undefined, table: FieldTable, typeName: string): GoStruct {
  const fields = new Map<string, GoValue>();
  for (const [json, t] of Object.entries(table)) {
    fields.set(goFieldName(json), typed(v?.[json], t, `v3.${goFieldName(json)}`));
  }
  // Fields outside the table (open objects, newer releases) still show, untyped.
  for (const [json, x] of Object.entries(v ?? {})) if (!(json in table)) fields.set(goFieldName(json), untyped(x));
  return new GoStruct(v === undefined ? `*${typeName}` : typeName, fields, [], v === undefined);
}

function objectMeta(meta: Record<string, unknown>): GoStruct {
  const s = struct(meta, metadataFields, 'v1.ObjectMeta');
  const fields = new Map(s.fields);
  fields.set('CreationTimestamp', goTime(meta.creationTimestamp));
  if (meta.deletionTimestamp) fields.set('DeletionTimestamp', goTime(meta.deletionTimestamp));
  return new GoStruct('v1.ObjectMeta', fields);
}

const typeMeta = (kind: string, apiVersion: string): GoStruct =>
  new GoStruct(
    'v1.TypeMeta',
    new Map<string, GoValue>([
      ['Kind', kind],
      ['APIVersion', apiVersion],
    ]),
  );

/** One resource as Go's v3.<Kind> (pointer: a named get's result). */
export function goResource(r: Resource, pointer: boolean): GoStruct {
  const schema = isCalicoKind(r.kind) ? KIND_SCHEMAS[r.kind] : undefined;
  const fields = new Map<string, GoValue>([
    ['TypeMeta', typeMeta(r.kind, r.apiVersion)],
    ['ObjectMeta', objectMeta((r.metadata ?? {}) as Record<string, unknown>)],
    ['Spec', schema ? struct(r.spec ?? {}, schema.spec, `v3.${r.kind}Spec`) : untyped(r.spec)],
  ]);
  if (schema?.status || r.status !== undefined) {
    fields.set(
      'Status',
      schema?.status
        ? struct((r.status ?? {}) as Record<string, unknown>, schema.status, `v3.${r.kind}Status`)
        : untyped(r.status),
    );
  }
  return new GoStruct(`${pointer ? '*' : ''}v3.${r.kind}`, fields, ['TypeMeta', 'ObjectMeta']);
}

/** A whole list as Go's *v3.<Kind>List: TypeMeta, ListMeta (resourceVersion) and Items. */
export function goList(kind: string, apiVersion: string, items: Resource[], revision: number): GoStruct {
  const listMeta = new GoStruct(
    'v1.ListMeta',
    new Map<string, GoValue>([
      ['SelfLink', ''],
      ['ResourceVersion', String(revision)],
      ['Continue', ''],
      ['RemainingItemCount', null],
    ]),
  );
  const fields = new Map<string, GoValue>([
    ['TypeMeta', typeMeta(`${kind}List`, apiVersion)],
    ['ListMeta', listMeta],
    [
      'Items',
      typedSlice(
        `[]v3.${kind}`,
        items.map((r) => goResource(r, false)),
      ),
    ],
  ]);
  return new GoStruct(`*v3.${kind}List`, fields, ['TypeMeta', 'ListMeta']);
}
