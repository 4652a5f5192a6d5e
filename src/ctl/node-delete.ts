// `calicoctl delete node`: as Calico's clientv3 Node delete, removing the Node also removes what only made sense for
// it — its workload endpoints (and their addresses), node-specific BGPPeers, `node.<name>` Felix and BGP
// configurations — and its IPAM state (tunnel addresses, block affinities, IPAM host marker).
import { IpamClient } from '../ipam/client.js';
import type { Resource } from '../api/resource.js';
import { NotFoundError } from '../datastore/types.js';
import type { ResourceClient } from '../datastore/resources.js';

/** IPAM side of a node deletion; the default uses IpamClient on the same datastore. */
export interface NodeCleanup {
  releaseIps(ips: string[]): Promise<void>;
  removeIpamHost(node: string): Promise<void>;
}

export function ipamNodeCleanup(client: ResourceClient): NodeCleanup {
  const ipam = new IpamClient(client.datastore);
  return {
    releaseIps: async (ips) => {
      if (ips.length) await ipam.releaseIps(ips.map((ip) => ({ ip })));
    },
    removeIpamHost: (node) => ipam.removeIpamHost(node),
  };
}

async function ignoreMissing(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e;
  }
}

/** Deletes the Node (compare-and-swap when resourceVersion is given), then its dependants; returns the Node. */
export async function deleteNodeCascade(
  client: ResourceClient,
  name: string,
  resourceVersion?: string,
  cleanup: NodeCleanup = ipamNodeCleanup(client),
): Promise<Resource> {
  const node = await client.delete('Node', name, undefined, resourceVersion || undefined);

  const weps = (await client.list('WorkloadEndpoint')).items.filter((w) => w.spec?.node === name);
  for (const wep of weps) {
    const nets: string[] = Array.isArray(wep.spec?.ipNetworks) ? (wep.spec.ipNetworks as string[]) : [];
    await cleanup.releaseIps(nets.map((n) => n.split('/')[0]));
    await ignoreMissing(client.delete('WorkloadEndpoint', wep.metadata.name, wep.metadata.namespace));
  }
  for (const peer of (await client.list('BGPPeer')).items) {
    if (peer.spec?.node === name) await ignoreMissing(client.delete('BGPPeer', peer.metadata.name));
  }
  await ignoreMissing(client.delete('FelixConfiguration', `node.${name}`));
  await ignoreMissing(client.delete('BGPConfiguration', `node.${name}`));
  await cleanup.removeIpamHost(name);
  return node;
}
