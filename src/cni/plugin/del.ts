// DEL (cni.md §B.7): idempotent undo of ADD. Removes the WorkloadEndpoint unless a newer container of the same pod
// owns it, the pod interface (and with it the host veth and routes; a vanished netns is fine), and releases the
// addresses through the IPAM plugin by handle once no host route points at the pod. Anything already gone counts as
// done.
import type { CniRequest } from '../skel/types.js';
import { parseCalicoConfig, requireNodenameFile, resolveNodename } from './config.js';
import { hostLinkExists, removeHostRoutes, removePodInterface } from './dataplane.js';
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
    const [, current] = await Promise.all([store.requireReady(), store.get(id.namespace, id.wepName)]);
    mark('lookups');
    const ownedByOther = !!current?.spec.containerID && current.spec.containerID !== req.containerId;
    if (ownedByOther) {
      deps.log(
        `DEL ${req.containerId}: endpoint ${id.wepName} belongs to container ${current!.spec.containerID}; kept`,
      );
    }
    // The host veth name is shared by every sandbox of a pod: only remove it when no newer sandbox owns it.
    const hostVeth = ownedByOther ? undefined : (current?.spec.interfaceName ?? id.hostVeth);
    const hostPresent = hostVeth !== undefined && hostLinkExists(hostVeth);
    // The addresses are released only once no host route points them at this pod, so a new pod given the same
    // address never meets a stale route. With the endpoint's addresses known, those routes go first (a quick
    // netlink call) and the release runs while the kernel tears the veth down; otherwise it waits for the veth.
    const routes = hostPresent && !ownedByOther ? (current?.spec.ipNetworks ?? []) : [];
    const routesGone = routes.length ? removeHostRoutes(hostVeth!, routes) : undefined;
    const linkGone = removePodInterface({
      netns: req.netns,
      ifName: req.ifName,
      hostVeth: hostPresent ? hostVeth : undefined,
    }).then(() => mark('link'));
    const config = structuredClone(req.config);
    if (conf.ipamType === 'host-local' && JSON.stringify(config.ipam ?? {}).includes('usePodCidr')) {
      config.ipam = substitutePodCidr(config.ipam ?? {}, dummyPodCidrs, 'DEL');
    }
    const released = (async () => {
      await (routesGone ?? linkGone);
      await deps.ipam.invoke(req, { command: 'DEL', config });
      mark('ipam');
    })();
    const wepGone = (
      ownedByOther ? Promise.resolve(undefined) : store.deleteOwned(id.namespace, id.wepName, req.containerId)
    ).then(() => mark('endpoint'));
    const outcomes = await Promise.allSettled([wepGone, linkGone, released]);
    for (const o of outcomes) if (o.status === 'rejected') throw o.reason;
  } finally {
    await release();
    if (req.env.CALICO_CNI_TIMING === '1') {
      mark('total');
      deps.log(`DEL ${req.containerId} timing (ms since start): ${marks.join(', ')}`);
    }
  }
}
