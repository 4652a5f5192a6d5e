// CHECK: compares what ADD made with prevResult and the datastore — endpoint, host veth, pod interface, addresses,
// gateway routes, host routes — and fails naming every difference. prevResult's `routes` are the IPAM result's,
// informational (result-routes.ts): not compared, so any result ADD printed passes on an intact pod.
import { CniError, type CniRequest } from '../skel/types.js';
import { normaliseResult } from '../skel/result.js';
import { parseCalicoConfig, requireNodenameFile, resolveNodename } from './config.js';
import { GATEWAY_V4, GATEWAY_V6, hostLinkExists, hostRoutesVia, inspectPodInterface } from './dataplane.js';
import type { PluginDeps } from './deps.js';
import { EndpointStore } from './endpoints.js';
import { workloadIdentity } from './workload.js';
import { podRouteDestinations } from './pod-routes.js';

const sameSet = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x) => b.includes(x));
const bare = (cidr: string): string => cidr.split('/')[0]!;

export async function cmdCheck(req: CniRequest, deps: PluginDeps): Promise<void> {
  const conf = parseCalicoConfig(req.config, req.env);
  requireNodenameFile(conf);
  const id = workloadIdentity(req, resolveNodename(conf), conf.name);
  const { ds, release } = await deps.datastore(req);
  const diffs: string[] = [];
  try {
    const wep = await new EndpointStore(ds).get(id.namespace, id.wepName);
    const prev = req.config.prevResult ? normaliseResult(req.config.prevResult) : undefined;
    const prevIps = (prev?.ips ?? []).map((ip) => ip.address);
    if (!wep) diffs.push(`workload endpoint ${id.namespace}/${id.wepName} does not exist`);
    else {
      if (wep.spec.containerID !== req.containerId) {
        diffs.push(
          `workload endpoint ${id.wepName} belongs to container ${wep.spec.containerID}, not ${req.containerId}`,
        );
      }
      if (prev && !sameSet(prevIps, wep.spec.ipNetworks)) {
        diffs.push(
          `prevResult addresses [${prevIps.join(', ')}] differ from the endpoint's [${wep.spec.ipNetworks.join(', ')}]`,
        );
      }
    }
    const hostVeth = wep?.spec.interfaceName ?? id.hostVeth;
    const want = wep?.spec.ipNetworks ?? prevIps;
    if (!hostLinkExists(hostVeth)) diffs.push(`host interface ${hostVeth} does not exist`);
    else {
      const routes = await hostRoutesVia(hostVeth);
      for (const a of want) {
        if (!routes.some((r) => bare(r) === bare(a))) diffs.push(`host route ${a} via ${hostVeth} is missing`);
      }
    }
    if (!req.netns) diffs.push('CNI_NETNS not given');
    else {
      const pod = await inspectPodInterface(req.netns, req.ifName);
      if (!pod.exists) diffs.push(`interface ${req.ifName} does not exist in ${req.netns}`);
      else {
        if (wep?.spec.mac && pod.mac && wep.spec.mac !== pod.mac)
          diffs.push(`${req.ifName} has MAC ${pod.mac}, endpoint says ${wep.spec.mac}`);
        if (!sameSet(pod.addresses, want)) {
          diffs.push(`${req.ifName} has addresses [${pod.addresses.join(', ')}], expected [${want.join(', ')}]`);
        }
        for (const dst of podRouteDestinations(req.config, id.orchestrator)) {
          const six = dst.includes(':');
          if (!want.some((a) => a.includes(':') === six)) continue;
          const gateway = six ? GATEWAY_V6 : GATEWAY_V4;
          const shown = /^(0\.0\.0\.0|::)\/0$/.test(dst) ? 'default' : dst;
          if (!pod.routes.some((r) => r.dst === shown && r.gateway === gateway)) {
            diffs.push(
              `${shown === 'default' ? 'default route' : `route ${dst}`} via ${gateway} is missing in ${req.netns}`,
            );
          }
        }
      }
    }
    if (diffs.length === 0 && conf.ipamType !== 'calico-ipam') {
      await deps.ipam.invoke(req, { command: 'CHECK', config: req.config });
    }
  } finally {
    await release();
  }
  if (diffs.length) throw new CniError(999, `CHECK of ${id.wepName} found: ${diffs.join('; ')}`);
}
