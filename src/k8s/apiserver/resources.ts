// The resources this API server serves: group, version, plural, kind, scope, short names, verbs and subresources —
// the table discovery is rendered from and requests are routed by. Adding a resource starts here.

export interface ServedResource {
  group: string; // '' for the core group
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Field labels accepted in fieldSelector besides metadata.name and metadata.namespace. */
  fields?: string[];
  subresources?: { name: string; kind: string; verbs: string[] }[];
  /** Whether updates to the main resource keep the stored status (status subresource semantics). */
  hasStatus?: boolean;
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const SERVED_RESOURCES: readonly ServedResource[] = [
  {
    group: '',
    version: 'v1',
    plural: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    fields: ['status.phase'],
    hasStatus: true,
    subresources: [{ name: 'status', kind: 'Namespace', verbs: ['get', 'patch', 'update'] }],
  },
  {
    group: '',
    version: 'v1',
    plural: 'pods',
    singular: 'pod',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    fields: [
      'spec.nodeName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.nominatedNodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
    ],
    hasStatus: true,
    subresources: [{ name: 'status', kind: 'Pod', verbs: ['get', 'patch', 'update'] }],
  },
  {
    group: '',
    version: 'v1',
    plural: 'serviceaccounts',
    singular: 'serviceaccount',
    kind: 'ServiceAccount',
    namespaced: true,
    shortNames: ['sa'],
    subresources: [{ name: 'token', kind: 'TokenRequest', verbs: ['create'] }],
  },
  {
    group: '',
    version: 'v1',
    plural: 'nodes',
    singular: 'node',
    kind: 'Node',
    namespaced: false,
    shortNames: ['no'],
    fields: ['spec.unschedulable'],
    hasStatus: true,
    subresources: [{ name: 'status', kind: 'Node', verbs: ['get', 'patch', 'update'] }],
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'networkpolicies',
    singular: 'networkpolicy',
    kind: 'NetworkPolicy',
    namespaced: true,
    shortNames: ['netpol'],
  },
  { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', singular: 'lease', kind: 'Lease', namespaced: true },
];

export const ALL_VERBS = VERBS;

export const apiVersionOf = (r: ServedResource): string => (r.group ? `${r.group}/${r.version}` : r.version);

export function findResource(group: string, version: string, plural: string): ServedResource | undefined {
  return SERVED_RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export const GROUPS: readonly { name: string; version: string }[] = [
  ...new Map(
    SERVED_RESOURCES.filter((r) => r.group).map((r) => [r.group, { name: r.group, version: r.version }] as const),
  ).values(),
];
