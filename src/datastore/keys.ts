// Calico's etcd v3 key layout (reference resources.md §2, ipam.md §3).
import { kindInfo } from '../api/kinds.js';

export const RESOURCE_PREFIX = '/calico/resources/v3/projectcalico.org/';
export const IPAM_PREFIX = '/calico/ipam/v2/';
export const IPAM_CONFIG_KEY = '/calico/ipam/v2/config';

/** Key of a v3 resource; namespace is required for namespaced kinds. */
export function resourceKey(kind: string, name: string, namespace?: string): string {
  const info = kindInfo(kind);
  if (info.namespaced) {
    if (!namespace) throw new Error(`${kind} "${name}" is namespaced: metadata.namespace is required`);
    return `${RESOURCE_PREFIX}${info.plural}/${namespace}/${name}`;
  }
  return `${RESOURCE_PREFIX}${info.plural}/${name}`;
}

/** Prefix of all resources of a kind, optionally within one namespace. */
export function resourcePrefix(kind: string, namespace?: string): string {
  const info = kindInfo(kind);
  return namespace && info.namespaced
    ? `${RESOURCE_PREFIX}${info.plural}/${namespace}/`
    : `${RESOURCE_PREFIX}${info.plural}/`;
}

/** CIDR as it appears in IPAM keys: "10.0.0.0/26" -> "10.0.0.0-26". */
export const cidrKeySegment = (cidr: string): string => cidr.replace('/', '-');

export const blockKey = (cidr: string): string =>
  `${IPAM_PREFIX}assignment/${cidr.includes(':') ? 'ipv6' : 'ipv4'}/block/${cidrKeySegment(cidr)}`;

export const blockAffinityKey = (host: string, cidr: string): string =>
  `${IPAM_PREFIX}host/${host}/${cidr.includes(':') ? 'ipv6' : 'ipv4'}/block/${cidrKeySegment(cidr)}`;

export const handleKey = (handleId: string): string => `${IPAM_PREFIX}handle/${handleId}`;
