// Discovery documents rendered from the served-resource table: /api (APIVersions), /apis (APIGroupList),
// /apis/<group> (APIGroup) and the APIResourceList of each group version, plus /version.
import { ALL_VERBS, GROUPS, SERVED_RESOURCES, type ServedResource } from './resources.js';

export const SERVER_VERSION = {
  major: '1',
  minor: '30',
  gitVersion: 'v1.30.0-calico-ts',
  gitCommit: '',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'node' + process.versions.node,
  compiler: 'tsc',
  platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

export function apiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(g: { name: string; version: string }): object {
  const gv = { groupVersion: `${g.name}/${g.version}`, version: g.version };
  return { name: g.name, versions: [gv], preferredVersion: gv };
}

export const apiGroupList = (): object => ({ kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.map(groupDoc) });

export function apiGroup(name: string): object | undefined {
  const g = GROUPS.find((x) => x.name === name);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g) } : undefined;
}

export function apiResourceList(group: string, version: string): object | undefined {
  const served = SERVED_RESOURCES.filter((r) => r.group === group && r.version === version);
  if (served.length === 0) return undefined;
  const resources: object[] = [];
  for (const r of served) {
    resources.push(entry(r, r.plural, r.kind, ALL_VERBS, r.shortNames));
    for (const s of r.subresources ?? []) {
      const kindGroup = s.kind === 'TokenRequest' ? { group: 'authentication.k8s.io', version: 'v1' } : {};
      resources.push({ ...entry(r, `${r.plural}/${s.name}`, s.kind, s.verbs), singularName: '', ...kindGroup });
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}

function entry(r: ServedResource, name: string, kind: string, verbs: string[], shortNames?: string[]): object {
  return {
    name,
    singularName: r.singular,
    namespaced: r.namespaced,
    kind,
    verbs,
    ...(shortNames ? { shortNames } : {}),
    storageVersionHash: Buffer.from(`${r.group}/${r.version}/${r.kind}`).toString('base64').slice(0, 11),
  };
}
