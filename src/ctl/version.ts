// calicoctl's version and Calico's client/cluster version comparison (major.minor must agree; a cluster that has
// not recorded its version never mismatches).

/** The Calico release whose interfaces this calicoctl follows, with our own build suffix. */
export const CALICOCTL_VERSION = 'v3.29.0-calico-ts';
export const CALICOCTL_GIT_COMMIT = 'calico-ts';

function majorMinor(v: string): string | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(v.trim());
  return m ? `${m[1]}.${m[2]}` : undefined;
}

export function versionMismatch(client: string, cluster: string): boolean {
  if (!cluster) return false;
  const a = majorMinor(client);
  const b = majorMinor(cluster);
  return a !== undefined && b !== undefined && a !== b;
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
