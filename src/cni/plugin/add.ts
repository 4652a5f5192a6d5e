// ADD (cni.md §B.5): config and identity -> readiness gate -> pod/namespace from Kubernetes (while the kernel makes the
// veth pair) -> addresses (IPAM, or the ipAddrs / ipAddrsNoIpam annotations) -> addresses and routes -> WorkloadEndpoint
// -> optional policy wait -> result. The pod-side processes are started first and fed once the addresses are known.
// Every step that changed something pushes its undo; a failure part-way runs them in reverse and rethrows.
// Test-only fault points: env CALICO_CNI_FAULT_INJECT=after-ipam|after-veth|after-endpoint fails ADD right there.
import { CALICO_API_VERSION } from '../../api/resource.js';
import {
  addressSourceOf,
  allowedSourcePrefixes,
  assignAddresses,
  floatingIpNats,
  ipamConfigFor,
  podMac,
  type Undo,
} from './addresses.js';
import { waitForReadinessGates } from './readiness.js';
import type { CniResult, CniRoute } from '../skel/result.js';
import { CniError, type CniRequest } from '../skel/types.js';
import { podInfo, provisionalPodInfo, sameIpamInputs, type PodInfo } from '../k8s/pod.js';
import { mtuSetting, parseCalicoConfig, requireNodenameFile, resolveNodename, type CalicoConfig } from './config.js';
import { hostLinkExists, removePodInterface, startPodInterface } from './dataplane.js';
import { PodSideChain } from './pod-side.js';
import type { PluginDeps } from './deps.js';
import { EndpointStore, type WorkloadEndpoint } from './endpoints.js';
import { waitForPolicy } from './policy-wait.js';
import { workloadIdentity, type WorkloadIdentity } from './workload.js';
import { podRouteDestinations } from './pod-routes.js';
import { repeatedAddRoutes } from './result-routes.js';

function faultPoint(req: CniRequest, point: string): void {
  if (req.env.CALICO_CNI_FAULT_INJECT === point) {
    throw new CniError(999, `fault injected at ${point} (CALICO_CNI_FAULT_INJECT)`);
  }
}

/** The result a repeated ADD returns, rebuilt from the endpoint the first ADD wrote and that ADD's result routes. */
export function resultFromEndpoint(
  wep: WorkloadEndpoint,
  req: CniRequest,
  mtu: number | undefined,
  routes: CniRoute[],
): CniResult {
  return {
    interfaces: [{ name: wep.spec.interfaceName }, { name: req.ifName, mac: wep.spec.mac, mtu, sandbox: req.netns }],
    ips: wep.spec.ipNetworks.map((address) => ({ address, interface: 1 })),
    routes,
    dns: {},
  };
}

export async function cmdAdd(req: CniRequest, deps: PluginDeps): Promise<CniResult> {
  const conf = parseCalicoConfig(req.config, req.env);
  requireNodenameFile(conf);
  // Calico's result names the MTU only when the config or the MTU file set one; the veth gets 1500 otherwise.
  const mtuSet = mtuSetting(conf);
  const mtu = mtuSet ?? 1500;
  const node = resolveNodename(conf);
  const id = workloadIdentity(req, node, conf.name);
  const podRoutes = podRouteDestinations(req.config, id.orchestrator);
  if (!req.netns) throw new CniError(4, 'CNI_NETNS is required for ADD');
  const t0 = performance.now();
  const marks: string[] = [];
  const mark = (what: string) => marks.push(`${what} ${(performance.now() - t0).toFixed(1)}`);
  if (conf.readinessGates.length) await waitForReadinessGates(conf.readinessGates);
  const { ds, release } = await deps.datastore(req);
  mark('datastore');
  // The pod side's processes start now (in the pod's namespace, waiting for the addresses) and overlap the lookups,
  // the veth and IPAM; released unfed in `finally` when the ADD ends before feeding them.
  const podSide = new PodSideChain({ netns: req.netns, ifName: req.ifName, allowIpForwarding: conf.allowIpForwarding });
  const undo: Undo[] = [];
  try {
    const store = new EndpointStore(ds);
    const lookupPod = async (): Promise<PodInfo | undefined> => {
      if (id.orchestrator !== 'k8s' || !conf.kubeconfig) return undefined;
      const kube = await deps.kube(conf.kubeconfig);
      const [pod, ns] = await Promise.all([kube.getPod(id.namespace, id.pod!), kube.getNamespace(id.namespace)]);
      return podInfo(pod, ns);
    };
    // The pod and its namespace are read from the API server while the datastore answers and the kernel makes the
    // veth (the pod is read fresh for every ADD, as Calico does: kubelet made it just before the sandbox).
    const podLookup = lookupPod();
    podLookup.catch(() => {}); // awaited below, after the veth is started
    const [, existing] = await Promise.all([store.requireReady(), store.get(id.namespace, id.wepName)]);
    mark('datastore lookups');
    if (
      existing &&
      existing.spec.containerID === req.containerId &&
      existing.spec.endpoint === req.ifName &&
      hostLinkExists(existing.spec.interfaceName)
    ) {
      deps.log(`ADD ${req.containerId}: endpoint ${id.wepName} already set up; returning its result`);
      const routes = await repeatedAddRoutes({
        source: addressSourceOf(await podLookup),
        ipamType: conf.ipamType,
        config: req.config,
        ds,
        handleId: id.handleId,
        addresses: existing.spec.ipNetworks,
      });
      return resultFromEndpoint(existing, req, mtuSet, routes);
    }

    // The veth pair needs neither addresses nor the pod's annotations: the kernel makes it while the Kubernetes
    // lookups and IPAM run; an annotated MAC (hwAddr) is set in the pod before the link goes up.
    const link = startPodInterface({
      netns: req.netns,
      ifName: req.ifName,
      hostVeth: id.hostVeth,
      mtu,
      numQueues: conf.numQueues,
      allowIpForwarding: conf.allowIpForwarding,
      podSide,
      podRoutes,
    });
    undo.push({
      what: `delete ${id.hostVeth}`,
      run: async () => {
        await link.abandon();
        // Only what this ADD made: an interface that was already in the pod is not ours to delete.
        if (link.linkMade || hostLinkExists(id.hostVeth))
          await removePodInterface({ netns: req.netns, ifName: req.ifName, hostVeth: id.hostVeth });
      },
    });
    void link.created().then(
      () => mark('veth'),
      () => {}, // reported by finish()
    );
    // Kubernetes with calico-ipam and the namespace already known (calico-node's namespace watch): IPAM allocates
    // while the pod's GET runs, as it does for a pod without IPAM annotations. The pod, once read, decides whether
    // that allocation stands (no IPAM annotations, the namespace unchanged) or is released and made from it.
    const provisional = await provisionalInfo(id, conf, existing, deps);
    const early = provisional
      ? assignAddresses({ req, conf, id, node, info: provisional, existing, deps, undo }).catch(() => undefined)
      : undefined;
    let info: PodInfo | undefined;
    try {
      info = await podLookup;
    } catch (err) {
      await early; // settled before the rollback releases what it allocated
      throw err;
    }
    mark('lookups');
    const mac = podMac(info, link.mac);
    link.useMac(mac);

    let assigned = await early;
    if (assigned && !(info && sameIpamInputs(provisional!, info))) {
      deps.log(`ADD ${req.containerId}: the pod's IPAM annotations ask for other addresses than allocated ahead`);
      await deps.ipam.invoke(req, { command: 'DEL', config: ipamConfigFor(conf, provisional) });
      assigned = undefined;
    }
    const { addresses, routes } =
      assigned ?? (await assignAddresses({ req, conf, id, node, info, existing, deps, undo }));
    mark('ipam');
    faultPoint(req, 'after-ipam');

    // Validated before the dataplane is finished.
    const ipNATs = floatingIpNats(conf, info, addresses);

    // Dataplane and WorkloadEndpoint are independent once the addresses and MAC are known: both run at once, and
    // both are awaited before any rollback so nothing is left half-done.
    const wep = buildEndpoint(conf, id, req, info, addresses, mac, ipNATs);
    let written: Awaited<ReturnType<EndpointStore['write']>> | undefined;
    undo.push({
      what: `remove endpoint ${id.wepName}`,
      run: async () => {
        if (!written) return;
        if (written.previous) await store.restore(written.previous);
        else await store.deleteOwned(id.namespace, id.wepName, req.containerId);
      },
    });
    const [linkDone, wepDone] = await Promise.allSettled([
      link.finish(addresses, true).then(() => mark('dataplane')),
      (async () => {
        if (conf.policyType !== 'k8s') await store.ensureNetworkProfile(conf.name, id.orchestrator);
        // After the veth exists, so the pod side (fed as soon as it does) starts first: a datastore write blocks
        // this event loop (SQLite commits synchronously), and then does so while the pod's processes work.
        await link.created();
        // The endpoint read above is the CAS base: no second read.
        written = await store.write(wep, existing ?? null);
        mark('endpoint');
      })(),
    ]);
    if (linkDone.status === 'rejected') throw linkDone.reason;
    faultPoint(req, 'after-veth');
    if (wepDone.status === 'rejected') throw wepDone.reason;
    faultPoint(req, 'after-endpoint');

    if (conf.policySetupTimeoutSeconds > 0) {
      const ok = await waitForPolicy(conf.endpointStatusDir, id.namespace, id.wepName, conf.policySetupTimeoutSeconds);
      if (!ok)
        deps.log(
          `ADD ${req.containerId}: policy for ${id.wepName} not reported programmed within ${conf.policySetupTimeoutSeconds}s`,
        );
    }

    return {
      interfaces: [{ name: id.hostVeth }, { name: req.ifName, mac, mtu: mtuSet, sandbox: req.netns }],
      ips: addresses.map((address) => ({ address, interface: 1 })),
      // The IPAM result's routes, informational (cni.md §B.11); the pod's own are its gateway routes.
      routes,
      dns: {},
    };
  } catch (err) {
    for (const step of undo.reverse()) {
      try {
        await step.run();
      } catch (undoErr) {
        deps.log(`ADD ${req.containerId}: rollback step "${step.what}" failed: ${(undoErr as Error).message}`);
      }
    }
    throw err;
  } finally {
    podSide.release();
    await release();
    if (req.env.CALICO_CNI_TIMING === '1') {
      mark('total');
      deps.log(`ADD ${req.containerId} timing (ms since start): ${marks.join(', ')}`);
    }
  }
}

/** The pod as IPAM may see it before it is read, when allocating ahead is sound; else undefined. */
async function provisionalInfo(
  id: WorkloadIdentity,
  conf: CalicoConfig,
  existing: WorkloadEndpoint | undefined,
  deps: PluginDeps,
): Promise<PodInfo | undefined> {
  // An existing endpoint (a previous sandbox) may hold fixed addresses the pod's ipAddrs ask for: no guessing then.
  if (id.orchestrator !== 'k8s' || !conf.kubeconfig || conf.ipamType !== 'calico-ipam' || existing) return undefined;
  const namespace = (await deps.kube(conf.kubeconfig)).watchedNamespace(id.namespace);
  return namespace && provisionalPodInfo(namespace);
}

function buildEndpoint(
  conf: CalicoConfig,
  id: WorkloadIdentity,
  req: CniRequest,
  info: PodInfo | undefined,
  addresses: string[],
  mac: string,
  ipNATs: { internalIP: string; externalIP: string }[] | undefined,
): WorkloadEndpoint {
  const labels: Record<string, string> = { ...(info?.labels ?? {}) };
  labels['projectcalico.org/namespace'] = id.namespace;
  labels['projectcalico.org/orchestrator'] = id.orchestrator;
  let profiles = [conf.name];
  let serviceAccountName: string | undefined;
  if (id.orchestrator === 'k8s') {
    serviceAccountName = info?.serviceAccountName;
    if (serviceAccountName && serviceAccountName.length < 63)
      labels['projectcalico.org/serviceaccount'] = serviceAccountName;
    if (conf.policyType === 'k8s') {
      profiles = [`kns.${id.namespace}`];
      if (serviceAccountName) profiles.push(`ksa.${id.namespace}.${serviceAccountName}`);
    }
  }
  const spec: WorkloadEndpoint['spec'] = {
    orchestrator: id.orchestrator,
    node: id.node,
    containerID: req.containerId,
    endpoint: req.ifName,
    ipNetworks: addresses,
    profiles,
    interfaceName: id.hostVeth,
    mac,
  };
  if (id.orchestrator === 'k8s') spec.pod = id.pod;
  else spec.workload = id.workload;
  if (serviceAccountName) spec.serviceAccountName = serviceAccountName;
  if (info?.ports.length) spec.ports = info.ports.map((p) => ({ ...p, protocol: p.protocol }));
  if (ipNATs?.length) spec.ipNATs = ipNATs;
  const prefixes = allowedSourcePrefixes(info);
  if (prefixes?.length) spec.allowSpoofedSourcePrefixes = prefixes;
  return {
    apiVersion: CALICO_API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: {
      name: id.wepName,
      namespace: id.namespace,
      labels,
      ...(info?.generateName ? { generateName: info.generateName } : {}),
    },
    spec,
  };
}
