// ADD (cni.md §B.5): config and identity -> readiness gate -> pod/namespace from Kubernetes -> addresses (IPAM, or the
// ipAddrs / ipAddrsNoIpam annotations) -> veth pair and routes -> WorkloadEndpoint -> optional policy wait -> result.
// Every step that changed something pushes its undo; a failure part-way runs them in reverse and rethrows.
// Test-only fault points: env CALICO_CNI_FAULT_INJECT=after-ipam|after-veth|after-endpoint fails ADD right there.
import { CALICO_API_VERSION } from '../../api/resource.js';
import { isIp } from '../../net/ip.js';
import { substitutePodCidr } from './host-local.js';
import { waitForReadinessGates } from './readiness.js';
import type { CniResult, CniRoute } from '../skel/result.js';
import { CniError, type CniRequest } from '../skel/types.js';
import { podInfo, annotationList, ANNOTATION, type PodInfo } from '../k8s/pod.js';
import { parseCalicoConfig, requireNodenameFile, resolveMtu, resolveNodename, type CalicoConfig } from './config.js';
import { createPodInterface, hostLinkExists, randomPodMac, removePodInterface } from './dataplane.js';
import type { PluginDeps } from './deps.js';
import { EndpointStore, type WorkloadEndpoint } from './endpoints.js';
import { waitForPolicy } from './policy-wait.js';
import { workloadIdentity, type WorkloadIdentity } from './workload.js';

const isV6 = (a: string): boolean => a.includes(':');
const hostPrefix = (addr: string): string => `${addr.split('/')[0]}/${isV6(addr) ? 128 : 32}`;

function faultPoint(req: CniRequest, point: string): void {
  if (req.env.CALICO_CNI_FAULT_INJECT === point) {
    throw new CniError(999, `fault injected at ${point} (CALICO_CNI_FAULT_INJECT)`);
  }
}

/** The result a repeated ADD returns, rebuilt from the endpoint the first ADD wrote. */
export function resultFromEndpoint(wep: WorkloadEndpoint, req: CniRequest, mtu: number): CniResult {
  return {
    interfaces: [{ name: wep.spec.interfaceName }, { name: req.ifName, mac: wep.spec.mac, mtu, sandbox: req.netns }],
    ips: wep.spec.ipNetworks.map((address) => ({ address, interface: 1 })),
    routes: defaultRoutes(wep.spec.ipNetworks),
    dns: {},
  };
}

function defaultRoutes(addresses: string[]): CniRoute[] {
  const routes: CniRoute[] = [];
  if (addresses.some((a) => !isV6(a))) routes.push({ dst: '0.0.0.0/0' });
  if (addresses.some(isV6)) routes.push({ dst: '::/0' });
  return routes;
}

/** Parses and checks an address annotation: a JSON list, at most one address per family. */
function addressAnnotation(info: PodInfo, name: string): string[] | undefined {
  const list = annotationList(info.annotations, name);
  if (list === undefined) return undefined;
  if (list.length === 0) throw new CniError(999, `annotation ${name}: the list is empty`);
  const seen = new Set<string>();
  for (const a of list) {
    if (!isIp(a)) {
      throw new CniError(999, `annotation ${name}: "${a}" is not an IP address`);
    }
    const fam = isV6(a) ? '6' : '4';
    if (seen.has(fam)) throw new CniError(999, `annotation ${name}: more than one IPv${fam} address`);
    seen.add(fam);
  }
  return list;
}

/** ipam section rewritten from the pool annotations (pod wins over namespace), as Calico does before exec. */
function ipamConfigFor(conf: CalicoConfig, info: PodInfo | undefined): CniRequest['config'] {
  const config = structuredClone(conf.raw);
  if (!info || conf.ipamType !== 'calico-ipam') return config;
  const ipam = { ...(config.ipam ?? {}) } as Record<string, unknown>;
  for (const [ann, field] of [
    [ANNOTATION.ipv4pools, 'ipv4_pools'],
    [ANNOTATION.ipv6pools, 'ipv6_pools'],
  ] as const) {
    const v = annotationList(info.annotations, ann) ?? annotationList(info.namespaceAnnotations, ann);
    if (v) ipam[field] = v;
  }
  const families =
    annotationList(info.annotations, ANNOTATION.ipFamilies) ??
    annotationList(info.namespaceAnnotations, ANNOTATION.ipFamilies);
  if (families) {
    for (const f of families) {
      if (f !== 'IPv4' && f !== 'IPv6')
        throw new CniError(999, `annotation ${ANNOTATION.ipFamilies}: unknown family "${f}" (IPv4, IPv6)`);
    }
    ipam.assign_ipv4 = families.includes('IPv4') ? 'true' : 'false';
    ipam.assign_ipv6 = families.includes('IPv6') ? 'true' : 'false';
  }
  config.ipam = ipam as CniRequest['config']['ipam'];
  return config;
}

export async function cmdAdd(req: CniRequest, deps: PluginDeps): Promise<CniResult> {
  const conf = parseCalicoConfig(req.config, req.env);
  requireNodenameFile(conf);
  const mtu = resolveMtu(conf);
  const node = resolveNodename(conf);
  const id = workloadIdentity(req, node, conf.name);
  if (!req.netns) throw new CniError(4, 'CNI_NETNS is required for ADD');
  const marks: [string, number][] = [['start', performance.now()]];
  const mark = (what: string) => marks.push([what, performance.now()]);
  if (conf.readinessGates.length) await waitForReadinessGates(conf.readinessGates);
  const { ds, release } = await deps.datastore(req);
  mark('datastore');
  const undo: { what: string; run: () => Promise<unknown> }[] = [];
  try {
    const store = new EndpointStore(ds);
    await store.requireReady();

    let info: PodInfo | undefined;
    if (id.orchestrator === 'k8s' && conf.kubeconfig) {
      const kube = await deps.kube(conf.kubeconfig);
      const [pod, ns] = await Promise.all([kube.getPod(id.namespace, id.pod!), kube.getNamespace(id.namespace)]);
      info = podInfo(pod, ns);
    }

    const existing = await store.get(id.namespace, id.wepName);
    mark('lookups');
    if (
      existing &&
      existing.spec.containerID === req.containerId &&
      existing.spec.endpoint === req.ifName &&
      hostLinkExists(existing.spec.interfaceName)
    ) {
      deps.log(`ADD ${req.containerId}: endpoint ${id.wepName} already set up; returning its result`);
      return resultFromEndpoint(existing, req, mtu);
    }

    // Addresses.
    const ipamConfig = ipamConfigFor(conf, info);
    if (conf.ipamType === 'host-local' && JSON.stringify(ipamConfig.ipam ?? {}).includes('usePodCidr')) {
      // host-local's magic subnets come from the Kubernetes Node's podCIDRs.
      if (!conf.kubeconfig) throw new CniError(7, 'ipam usePodCidr needs kubernetes.kubeconfig to read the Node');
      const nodeName = conf.k8sNodeName ?? node;
      const k8sNode = await (await deps.kube(conf.kubeconfig)).getNode(nodeName);
      const cidrs = (k8sNode.spec?.podCIDRs as string[] | undefined) ?? [k8sNode.spec?.podCIDR].filter(Boolean);
      ipamConfig.ipam = substitutePodCidr(ipamConfig.ipam ?? {}, cidrs as string[], `Node ${nodeName}`);
    }
    const ipAddrs = info ? addressAnnotation(info, ANNOTATION.ipAddrs) : undefined;
    const noIpam = info ? addressAnnotation(info, ANNOTATION.ipAddrsNoIpam) : undefined;
    if (ipAddrs && noIpam) {
      throw new CniError(999, `can't have both annotations: ${ANNOTATION.ipAddrs} and ${ANNOTATION.ipAddrsNoIpam}`);
    }
    let addresses: string[];
    if (noIpam) {
      if (conf.ipamType !== 'calico-ipam')
        throw new CniError(999, `${ANNOTATION.ipAddrsNoIpam} requires ipam.type calico-ipam`);
      if (!conf.ipAddrsNoIpam) {
        throw new CniError(
          999,
          `${ANNOTATION.ipAddrsNoIpam} is disabled: set feature_control.ip_addrs_no_ipam: true in the CNI config`,
        );
      }
      addresses = noIpam.map(hostPrefix);
    } else {
      if (ipAddrs && conf.ipamType !== 'calico-ipam')
        throw new CniError(999, `${ANNOTATION.ipAddrs} requires ipam.type calico-ipam`);
      if (ipAddrs && existing && existing.spec.containerID && existing.spec.containerID !== req.containerId) {
        // The pod's fixed addresses may still be held by its previous sandbox: release those first (as Calico).
        const prev = existing.spec.containerID;
        deps.log(
          `ADD ${req.containerId}: releasing addresses of the previous sandbox ${prev} for ${ANNOTATION.ipAddrs}`,
        );
        await deps.ipam.invoke(
          { ...req, containerId: prev, env: { ...req.env, CNI_CONTAINERID: prev } },
          { command: 'DEL', config: ipamConfig },
        );
      }
      undo.push({
        what: `release IPAM handle ${id.handleId}`,
        run: () => deps.ipam.invoke(req, { command: 'DEL', config: ipamConfig }),
      });
      const results: CniResult[] = [];
      for (const ip of ipAddrs ?? [undefined]) {
        const r = await deps.ipam.invoke(req, {
          command: 'ADD',
          config: ipamConfig,
          extraArgs: ip ? { IP: ip } : undefined,
        });
        if (r) results.push(r);
      }
      addresses = results.flatMap((r) => (r.ips ?? []).map((ip) => hostPrefix(ip.address)));
      if (addresses.length === 0) throw new CniError(999, `IPAM plugin ${conf.ipamType} returned no IP addresses`);
    }
    mark('ipam');
    faultPoint(req, 'after-ipam');

    // Floating IPs (validated before the dataplane is touched).
    let ipNATs: { internalIP: string; externalIP: string }[] | undefined;
    const floating = info ? annotationList(info.annotations, ANNOTATION.floatingIPs) : undefined;
    if (floating) {
      if (!conf.floatingIps) {
        throw new CniError(
          999,
          `${ANNOTATION.floatingIPs} is disabled: set feature_control.floating_ips: true in the CNI config`,
        );
      }
      ipNATs = floating.map((ext) => {
        const internal = addresses.find((a) => isV6(a) === isV6(ext));
        if (!internal) throw new CniError(999, `floating IP ${ext}: the pod has no address of its family`);
        return { internalIP: internal.split('/')[0]!, externalIP: ext };
      });
    }
    const annotatedMac = info?.annotations[ANNOTATION.hwAddr];
    if (annotatedMac !== undefined && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(annotatedMac)) {
      throw new CniError(999, `annotation ${ANNOTATION.hwAddr}: "${annotatedMac}" is not a MAC address`);
    }
    const mac = annotatedMac?.toLowerCase() ?? randomPodMac();

    // Dataplane and WorkloadEndpoint are independent once the addresses and MAC are known: both run at once, and
    // both are awaited before any rollback so nothing is left half-done.
    const wep = buildEndpoint(conf, id, req, info, addresses, mac, ipNATs);
    let written: Awaited<ReturnType<EndpointStore['write']>> | undefined;
    undo.push({
      what: `delete ${id.hostVeth}`,
      run: () => removePodInterface({ netns: req.netns, ifName: req.ifName, hostVeth: id.hostVeth }),
    });
    undo.push({
      what: `remove endpoint ${id.wepName}`,
      run: async () => {
        if (!written) return;
        if (written.previous) await store.restore(written.previous);
        else await store.deleteOwned(id.namespace, id.wepName, req.containerId);
      },
    });
    const [linkDone, wepDone] = await Promise.allSettled([
      createPodInterface({
        netns: req.netns,
        ifName: req.ifName,
        hostVeth: id.hostVeth,
        mtu,
        numQueues: conf.numQueues,
        addresses,
        mac,
        allowIpForwarding: conf.allowIpForwarding,
        hostRoutes: true,
      }).then(() => mark('dataplane')),
      (async () => {
        if (conf.policyType !== 'k8s') await store.ensureNetworkProfile(conf.name, id.orchestrator);
        written = await store.write(wep);
      })(),
    ]);
    if (linkDone.status === 'rejected') throw linkDone.reason;
    faultPoint(req, 'after-veth');
    if (wepDone.status === 'rejected') throw wepDone.reason;
    mark('endpoint');
    faultPoint(req, 'after-endpoint');

    if (conf.policySetupTimeoutSeconds > 0) {
      const ok = await waitForPolicy(conf.endpointStatusDir, id.namespace, id.wepName, conf.policySetupTimeoutSeconds);
      if (!ok)
        deps.log(
          `ADD ${req.containerId}: policy for ${id.wepName} not reported programmed within ${conf.policySetupTimeoutSeconds}s`,
        );
    }

    return {
      interfaces: [{ name: id.hostVeth }, { name: req.ifName, mac, mtu, sandbox: req.netns }],
      ips: addresses.map((address) => ({ address, interface: 1 })),
      // The pod's real routes (default via the link-local gateway), so a repeated ADD can rebuild the same result.
      routes: defaultRoutes(addresses),
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
    await release();
    if (req.env.CALICO_CNI_TIMING === '1') {
      const steps = marks.slice(1).map(([w, t], i) => `${w} ${(t - marks[i]![1]).toFixed(1)}`);
      deps.log(`ADD ${req.containerId} timing (ms): ${steps.join(', ')}`);
    }
  }
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
  const prefixes = info ? annotationList(info.annotations, ANNOTATION.allowedSourcePrefixes) : undefined;
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
