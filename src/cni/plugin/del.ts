// DEL (cni.md §B.7): idempotent undo of ADD. Removes the WorkloadEndpoint unless a newer container of the same pod
// owns it, the pod interface (and with it the host veth and routes; a vanished netns is fine), then releases the
// addresses through the IPAM plugin by handle. Anything already gone counts as done.
import type { CniRequest } from '../skel/types.js';
import { parseCalicoConfig, requireNodenameFile, resolveNodename } from './config.js';
import { hostLinkExists, removePodInterface } from './dataplane.js';
import type { PluginDeps } from './deps.js';
import { EndpointStore } from './endpoints.js';
import { dummyPodCidrs, substitutePodCidr } from './host-local.js';
import { workloadIdentity } from './workload.js';

export async function cmdDel(req: CniRequest, deps: PluginDeps): Promise<void> {
  const conf = parseCalicoConfig(req.config, req.env);
  requireNodenameFile(conf);
  const node = resolveNodename(conf);
  const id = workloadIdentity(req, node, conf.name);
  const t0 = performance.now();
  const marks: string[] = [];
  const mark = (what: string) => marks.push(`${what} ${(performance.now() - t0).toFixed(1)}`);
  const { ds, release } = await deps.datastore(req);
  try {
    const store = new EndpointStore(ds);
    await store.requireReady();
    const current = await store.get(id.namespace, id.wepName);
    const ownedByOther = !!current?.spec.containerID && current.spec.containerID !== req.containerId;
    if (ownedByOther) {
      deps.log(
        `DEL ${req.containerId}: endpoint ${id.wepName} belongs to container ${current!.spec.containerID}; kept`,
      );
    }
    // The host veth name is shared by every sandbox of a pod: only remove it when no newer sandbox owns it.
    const hostVeth = ownedByOther ? undefined : (current?.spec.interfaceName ?? id.hostVeth);
    // Endpoint and interface go at once; the addresses are released only after the interface (and its host routes)
    // is gone, so a new pod given the same address never meets a stale route.
    const [wepDone, linkDone] = await Promise.allSettled([
      ownedByOther ? Promise.resolve(undefined) : store.deleteOwned(id.namespace, id.wepName, req.containerId),
      removePodInterface({
        netns: req.netns,
        ifName: req.ifName,
        hostVeth: hostVeth && hostLinkExists(hostVeth) ? hostVeth : undefined,
      }),
    ]);
    if (wepDone.status === 'rejected') throw wepDone.reason;
    if (linkDone.status === 'rejected') throw linkDone.reason;
    mark('dataplane');
    const config = structuredClone(req.config);
    if (conf.ipamType === 'host-local' && JSON.stringify(config.ipam ?? {}).includes('usePodCidr')) {
      config.ipam = substitutePodCidr(config.ipam ?? {}, dummyPodCidrs, 'DEL');
    }
    await deps.ipam.invoke(req, { command: 'DEL', config });
    mark('ipam');
  } finally {
    await release();
    if (req.env.CALICO_CNI_TIMING === '1')
      deps.log(`DEL ${req.containerId} timing (ms, cumulative): ${marks.join(', ')}`);
  }
}
