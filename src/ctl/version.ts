// calicoctl's version and Calico's client/cluster version comparison (the release numbers without `v` and any
// `-suffix` must be equal; a cluster that has not recorded its version never mismatches).

/** The Calico release whose interfaces this calicoctl follows, with our own build suffix. */
export const CALICOCTL_VERSION = 'v3.29.0-calico-ts';
export const CALICOCTL_GIT_COMMIT = 'calico-ts';

/** "v3.29.0-calico-ts" -> "3.29.0", as Calico compares them. */
export function releaseOf(v: string): string {
  return v.trim().replace(/^v/, '').split('-')[0];
}

export function versionMismatch(client: string, cluster: string): boolean {
  return cluster !== '' && releaseOf(client) !== releaseOf(cluster);
}

/** `calicoctl version` text: client lines, then the cluster's when it could be read. */
export function versionText(cluster?: { calicoVersion?: string; clusterType?: string }): string {
  const lines = [`Client Version:    ${CALICOCTL_VERSION}`, `Git commit:        ${CALICOCTL_GIT_COMMIT}`];
  if (cluster) {
    lines.push(`Cluster Version:   ${cluster.calicoVersion || 'unknown'}`);
    lines.push(`Cluster Type:      ${cluster.clusterType || 'unknown'}`);
  }
  return lines.join('\n') + '\n';
}
