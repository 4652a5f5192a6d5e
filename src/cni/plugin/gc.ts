// GC (spec 1.1.0) and STATUS. GC removes this node's endpoints, host veths and IPAM handles that belong to no
// attachment in `cni.dev/valid-attachments`, continuing past errors and reporting them all; it is then forwarded to the
// IPAM plugin. STATUS says whether ADD can be served: datastore reachable and ready (else code 50).
import { CniError, type CniRequest } from '../skel/types.js';
import { parseCalicoConfig, resolveNodename } from './config.js';
import { hostLinkExists, removePodInterface } from './dataplane.js';
import type { PluginDeps } from './deps.js';
import { EndpointStore } from './endpoints.js';

interface Attachment {
  containerID: string;
  ifname: string;
}

export async function cmdGc(req: CniRequest, deps: PluginDeps): Promise<void> {
  const conf = parseCalicoConfig(req.config, req.env);
  const node = resolveNodename(conf);
  const rawValid = req.config['cni.dev/valid-attachments'] ?? [];
  if (!Array.isArray(rawValid)) throw new CniError(7, 'cni.dev/valid-attachments: must be a list');
  const valid = rawValid as Attachment[];
  const isValid = (cid: string, ifname: string) => valid.some((a) => a.containerID === cid && a.ifname === ifname);
  const errors: string[] = [];
  const { ds, release } = await deps.datastore(req);
  try {
    const store = new EndpointStore(ds);
    for (const wep of await store.list()) {
      const s = wep.spec;
      if (s.node !== node || !s.containerID || isValid(s.containerID, s.endpoint)) continue;
      // Endpoints of this network only: a cni endpoint names it as profile; k8s endpoints all come from the pod network.
      if (s.orchestrator === 'cni' && !s.profiles.includes(conf.name)) continue;
      try {
        deps.log(
          `GC: removing stale endpoint ${wep.metadata.namespace}/${wep.metadata.name} (container ${s.containerID})`,
        );
        await store.deleteOwned(wep.metadata.namespace!, wep.metadata.name, s.containerID);
        if (hostLinkExists(s.interfaceName))
          await removePodInterface({ ifName: s.endpoint, hostVeth: s.interfaceName });
        const args: Record<string, string> = { IgnoreUnknown: '1' };
        if (s.orchestrator === 'k8s' && s.pod)
          Object.assign(args, { K8S_POD_NAMESPACE: wep.metadata.namespace!, K8S_POD_NAME: s.pod });
        const sub: CniRequest = {
          ...req,
          command: 'DEL',
          containerId: s.containerID,
          ifName: s.endpoint,
          netns: undefined,
          args,
        };
        sub.env = { ...req.env, CNI_CONTAINERID: s.containerID, CNI_IFNAME: s.endpoint, CNI_NETNS: '' };
        await deps.ipam.invoke(sub, { command: 'DEL', config: req.config });
      } catch (err) {
        errors.push(`${wep.metadata.name}: ${(err as Error).message}`);
      }
    }
  } finally {
    await release();
  }
  try {
    await deps.ipam.invoke(req, { command: 'GC', config: req.config });
  } catch (err) {
    const e = err as CniError;
    if (e.code !== 1) errors.push(`IPAM GC: ${e.message}`);
  }
  if (errors.length) throw new CniError(999, `GC finished with errors: ${errors.join('; ')}`);
}

export async function cmdStatus(req: CniRequest, deps: PluginDeps): Promise<void> {
  const conf = parseCalicoConfig(req.config, req.env);
  let handle: Awaited<ReturnType<PluginDeps['datastore']>>;
  try {
    handle = await deps.datastore(req);
  } catch (err) {
    throw new CniError(50, `datastore unavailable: ${(err as Error).message}`);
  }
  try {
    await new EndpointStore(handle.ds).requireReady();
  } catch (err) {
    throw new CniError(50, (err as Error).message);
  } finally {
    await handle.release();
  }
  try {
    await deps.ipam.invoke(req, { command: 'STATUS', config: req.config });
  } catch (err) {
    const e = err as CniError;
    if (e.code !== 1)
      throw new CniError(e.code >= 50 && e.code <= 51 ? e.code : 50, `IPAM plugin ${conf.ipamType}: ${e.message}`);
  }
}
