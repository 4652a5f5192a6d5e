// The table columns calicoctl prints for each kind (`-o ps`, `-o wide`, `-o custom-columns=`), with Calico's cell
// rules (Never for unset encapsulation modes, `(64512)` for an inherited node AS, lists comma-joined, `-` for
// unset BGPConfiguration fields). Resources in -> rows of cell strings out; the tabwriter aligns them.
import type { Resource } from '../api/resource.js';
import { lookupKind } from '../api/kinds.js';

/** What a cell may need beyond its own resource. */
export interface CellContext {
  /** BGPConfiguration default's asNumber (else 64512): shown in parentheses for nodes that inherit it. */
  globalAsNumber: string;
}

type Cell = (r: Resource, ctx: CellContext) => string;

interface KindColumns {
  ps: string[];
  wide: string[];
  cells: Record<string, Cell>;
}

/** Go's %v of a float64 (strconv 'g', shortest): exponent form when the exponent is < -4 or >= 6 (1e+06). */
export function goFloat(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN';
  if (n === 0) return '0';
  // JavaScript's shortest round-trip digits are the digits Go's shortest formatting chooses.
  const [m, e] = n.toExponential().split('e');
  const exp = Number(e);
  if (exp < -4 || exp >= 6) return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return String(n);
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const spec = (r: Resource): Record<string, any> => (r.spec ?? {}) as Record<string, any>;
const list = (v: unknown): string => (Array.isArray(v) ? v.map(str).join(',') : '');
const goBool = (v: unknown): string => (v === true ? 'true' : 'false');
const orDash = (v: unknown): string => (v === undefined || v === null || v === '' ? '-' : String(v));
/** A *float64 as a Go template prints it: the number, or <nil> when unset. */
const num = (v: unknown): string =>
  typeof v === 'number' ? goFloat(v) : v === undefined || v === null ? '<nil>' : str(v);

/** Calico's joinAndTruncate: comma-joined, cut to maxLen with "..." at the end. */
export function joinAndTruncate(items: unknown, maxLen: number): string {
  const joined = list(items);
  return joined.length > maxLen ? `${joined.slice(0, maxLen - 3)}...` : joined;
}

/** Labels as `k=v` pairs, sorted by key, comma-joined. */
function labels(v: unknown): string {
  if (!v || typeof v !== 'object') return '';
  return Object.entries(v as Record<string, unknown>)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, x]) => `${k}=${str(x)}`)
    .join(',');
}

const name: Cell = (r) => r.metadata.name;
const policyColumns: KindColumns = {
  ps: ['NAME', 'TIER'],
  wide: ['NAME', 'TIER', 'ORDER', 'SELECTOR'],
  cells: {
    NAME: name,
    TIER: (r) => str(spec(r).tier) || 'default',
    ORDER: (r) => num(spec(r).order),
    SELECTOR: (r) => str(spec(r).selector),
  },
};
const setColumns: KindColumns = {
  ps: ['NAME'],
  wide: ['NAME', 'NETS'],
  cells: { NAME: name, NETS: (r) => joinAndTruncate(spec(r).nets, 80) },
};
const nameOnly: KindColumns = { ps: ['NAME'], wide: ['NAME'], cells: { NAME: name } };

const COLUMNS: Record<string, KindColumns> = {
  IPPool: {
    ps: ['NAME', 'CIDR', 'SELECTOR'],
    wide: [
      'NAME',
      'CIDR',
      'NAT',
      'IPIPMODE',
      'VXLANMODE',
      'DISABLED',
      'DISABLEBGPEXPORT',
      'SELECTOR',
      'ASSIGNMENTMODE',
    ],
    cells: {
      NAME: name,
      CIDR: (r) => str(spec(r).cidr),
      NAT: (r) => goBool(spec(r).natOutgoing),
      IPIPMODE: (r) => str(spec(r).ipipMode) || 'Never',
      VXLANMODE: (r) => str(spec(r).vxlanMode) || 'Never',
      DISABLED: (r) => goBool(spec(r).disabled),
      DISABLEBGPEXPORT: (r) => goBool(spec(r).disableBGPExport),
      SELECTOR: (r) => str(spec(r).nodeSelector),
      ASSIGNMENTMODE: (r) => str(spec(r).assignmentMode),
    },
  },
  Node: {
    ps: ['NAME'],
    wide: ['NAME', 'ASN', 'IPV4', 'IPV6'],
    cells: {
      NAME: name,
      ASN: (r, ctx) => {
        const bgp = spec(r).bgp;
        if (!bgp) return '';
        return bgp.asNumber !== undefined && bgp.asNumber !== null && bgp.asNumber !== 0
          ? str(bgp.asNumber)
          : `(${ctx.globalAsNumber})`;
      },
      IPV4: (r) => str(spec(r).bgp?.ipv4Address),
      IPV6: (r) => str(spec(r).bgp?.ipv6Address),
    },
  },
  BGPPeer: {
    ps: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    wide: ['NAME', 'PEERIP', 'NODE', 'ASN'],
    cells: {
      NAME: name,
      PEERIP: (r) => str(spec(r).peerIP),
      NODE: (r) => str(spec(r).node) || str(spec(r).nodeSelector) || '(global)',
      ASN: (r) => str(spec(r).asNumber ?? 0),
    },
  },
  BGPConfiguration: {
    ps: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    wide: ['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'],
    cells: {
      NAME: name,
      LOGSEVERITY: (r) => orDash(spec(r).logSeverityScreen),
      MESHENABLED: (r) => orDash(spec(r).nodeToNodeMeshEnabled),
      ASNUMBER: (r) => orDash(spec(r).asNumber),
    },
  },
  NetworkPolicy: policyColumns,
  GlobalNetworkPolicy: policyColumns,
  StagedNetworkPolicy: policyColumns,
  StagedGlobalNetworkPolicy: policyColumns,
  StagedKubernetesNetworkPolicy: nameOnly,
  WorkloadEndpoint: {
    ps: ['WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE'],
    wide: ['NAME', 'WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE', 'PROFILES', 'NATS'],
    cells: {
      NAME: name,
      WORKLOAD: (r) => str(spec(r).workload) || str(spec(r).pod),
      NODE: (r) => str(spec(r).node),
      NETWORKS: (r) => list(spec(r).ipNetworks),
      INTERFACE: (r) => str(spec(r).interfaceName),
      PROFILES: (r) => list(spec(r).profiles),
      ORCHESTRATOR: (r) => str(spec(r).orchestrator),
      // Go prints each IPNAT struct as {internalIP externalIP}.
      NATS: (r) =>
        Array.isArray(spec(r).ipNATs)
          ? (spec(r).ipNATs as { internalIP?: string; externalIP?: string }[])
              .map((n) => `{${str(n.internalIP)} ${str(n.externalIP)}}`)
              .join(',')
          : '',
    },
  },
  HostEndpoint: {
    ps: ['NAME', 'NODE'],
    wide: ['NAME', 'NODE', 'INTERFACE', 'IPS', 'PROFILES'],
    cells: {
      NAME: name,
      NODE: (r) => str(spec(r).node),
      INTERFACE: (r) => str(spec(r).interfaceName),
      IPS: (r) => list(spec(r).expectedIPs),
      PROFILES: (r) => list(spec(r).profiles),
    },
  },
  Profile: {
    ps: ['NAME'],
    wide: ['NAME', 'LABELS'],
    cells: { NAME: name, LABELS: (r) => labels(spec(r).labelsToApply) },
  },
  Tier: {
    ps: ['NAME', 'ORDER'],
    wide: ['NAME', 'ORDER'],
    cells: { NAME: name, ORDER: (r) => num(spec(r).order) },
  },
  NetworkSet: setColumns,
  GlobalNetworkSet: setColumns,
  IPReservation: {
    ps: ['NAME'],
    wide: ['NAME', 'CIDRS'],
    cells: { NAME: name, CIDRS: (r) => list(spec(r).reservedCIDRs) },
  },
  ClusterInformation: {
    ps: ['NAME', 'CLUSTERGUID', 'CLUSTERTYPE', 'CALICOVERSION', 'DATASTOREREADY'],
    wide: ['NAME', 'CLUSTERGUID', 'CLUSTERTYPE', 'CALICOVERSION', 'DATASTOREREADY'],
    cells: {
      NAME: name,
      CLUSTERGUID: (r) => str(spec(r).clusterGUID),
      CLUSTERTYPE: (r) => str(spec(r).clusterType),
      CALICOVERSION: (r) => str(spec(r).calicoVersion),
      DATASTOREREADY: (r) => str(spec(r).datastoreReady),
    },
  },
  FelixConfiguration: nameOnly,
  KubeControllersConfiguration: nameOnly,
  BGPFilter: nameOnly,
  IPAMConfiguration: {
    ps: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS', 'MAXBLOCKSPERHOST'],
    wide: ['NAME', 'STRICTAFFINITY', 'AUTOALLOCATEBLOCKS', 'MAXBLOCKSPERHOST'],
    cells: {
      NAME: name,
      STRICTAFFINITY: (r) => goBool(spec(r).strictAffinity),
      AUTOALLOCATEBLOCKS: (r) => goBool(spec(r).autoAllocateBlocks),
      MAXBLOCKSPERHOST: (r) => str(spec(r).maxBlocksPerHost ?? 0),
    },
  },
  BlockAffinity: {
    ps: ['NAME', 'CIDR', 'NODE', 'STATE'],
    wide: ['NAME', 'CIDR', 'NODE', 'STATE', 'DELETED'],
    cells: {
      NAME: name,
      CIDR: (r) => str(spec(r).cidr),
      NODE: (r) => str(spec(r).node),
      STATE: (r) => str(spec(r).state),
      DELETED: (r) => goBool(spec(r).deleted === true || spec(r).deleted === 'true'),
    },
  },
};

export type TableFormat = { type: 'ps' } | { type: 'wide' } | { type: 'custom'; columns: string[] };

/** The column headings for a kind in a format; custom columns must be known headings of that kind. */
export function columnsFor(kind: string, format: TableFormat, namespaceColumn: boolean): string[] {
  const k = COLUMNS[kind] ?? nameOnly;
  let cols: string[];
  if (format.type === 'custom') {
    const known = Object.keys(k.cells);
    if (lookupKind(kind)?.namespaced) known.push('NAMESPACE');
    const unknown = format.columns.find((c) => !known.includes(c.toUpperCase()));
    if (unknown) throw new Error(`Unknown heading ${unknown}, valid values are: ${[...known].sort().join(', ')}`);
    cols = format.columns.map((c) => c.toUpperCase());
  } else cols = format.type === 'wide' ? k.wide : k.ps;
  if (namespaceColumn && !cols.includes('NAMESPACE')) cols = ['NAMESPACE', ...cols];
  return cols;
}

/** Rows (header first) for the resources of one kind. */
export function tableRows(kind: string, columns: string[], resources: Resource[], ctx: CellContext): string[][] {
  const k = COLUMNS[kind] ?? nameOnly;
  const cell = (c: string, r: Resource): string =>
    c === 'NAMESPACE' ? str(r.metadata.namespace) : (k.cells[c]?.(r, ctx) ?? '');
  return [columns, ...resources.map((r) => columns.map((c) => cell(c, r)))];
}
