// Server-side printing for kubectl: a meta.k8s.io/v1 Table with the columns `kubectl get` shows for each kind,
// returned when the client's Accept header asks for `as=Table`.
import type { KubeObject } from './admission.js';

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  cell: (o: KubeObject, now: number) => string | number;
}

/** kubectl's short age format: 45s, 12m, 5h, 3d. */
export function shortAge(created: string | undefined, now: number): string {
  if (!created) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 3600 * 2) return `${Math.floor(s / 60)}m`;
  if (s < 86400 * 2) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const name: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };
const age: Column = { name: 'Age', type: 'string', cell: (o, now) => shortAge(o.metadata.creationTimestamp, now) };

const COLUMNS: Record<string, Column[]> = {
  Pod: [
    name,
    {
      name: 'Ready',
      type: 'string',
      cell: (o) => {
        const total = (o.spec?.containers ?? []).length;
        const ready = (o.status?.containerStatuses ?? []).filter((c: any) => c.ready).length;
        return `${ready}/${total}`;
      },
    },
    { name: 'Status', type: 'string', cell: (o) => o.status?.phase ?? 'Pending' },
    { name: 'Restarts', type: 'string', cell: () => '0' },
    age,
    { name: 'IP', type: 'string', priority: 1, cell: (o) => o.status?.podIP ?? '<none>' },
    { name: 'Node', type: 'string', priority: 1, cell: (o) => o.spec?.nodeName ?? '<none>' },
  ],
  Namespace: [name, { name: 'Status', type: 'string', cell: (o) => o.status?.phase ?? 'Active' }, age],
  Node: [
    name,
    {
      name: 'Status',
      type: 'string',
      cell: (o) => {
        const ready = (o.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
        return ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
      },
    },
    { name: 'Roles', type: 'string', cell: () => '<none>' },
    age,
    { name: 'Version', type: 'string', cell: (o) => o.status?.nodeInfo?.kubeletVersion ?? '' },
  ],
  ServiceAccount: [name, { name: 'Secrets', type: 'string', cell: (o) => (o.secrets ?? []).length }, age],
  NetworkPolicy: [
    name,
    {
      name: 'Pod-Selector',
      type: 'string',
      cell: (o) => {
        const ml = o.spec?.podSelector?.matchLabels ?? {};
        const s = Object.entries(ml)
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        return s || '<none>';
      },
    },
    age,
  ],
  Lease: [name, { name: 'Holder', type: 'string', cell: (o) => o.spec?.holderIdentity ?? '' }, age],
};

export function wantsTable(accept: string | undefined): boolean {
  return /as=Table/.test(accept ?? '');
}

export function renderTable(
  kind: string,
  items: KubeObject[],
  resourceVersion: string,
  continueToken?: string,
): object {
  const cols = COLUMNS[kind] ?? [name, age];
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...(continueToken ? { continue: continueToken } : {}) },
    columnDefinitions: cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: '',
      priority: c.priority ?? 0,
    })),
    rows: items.map((o) => ({
      cells: cols.map((c) => c.cell(o, now)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
