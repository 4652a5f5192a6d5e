// Which addresses a pod gets (cni.md §B.5 steps 9-11, 16-17): the IPAM plugin by delegation — with the pool and family
// annotations written into its config, host-local's usePodCidr filled from the Node — or the pod's ipAddrs /
// ipAddrsNoIpam annotations; then the floating IPs and MAC the annotations ask for. Every IPAM call pushes its undo.
import { canonicalCidr, isIp } from '../../net/ip.js';
import type { CniResult, CniRoute } from '../skel/result.js';
import { CniError, type CniRequest } from '../skel/types.js';
import { annotationList, ANNOTATION, type PodInfo } from '../k8s/pod.js';
import type { CalicoConfig } from './config.js';
import { randomPodMac } from './dataplane.js';
import type { PluginDeps } from './deps.js';
import type { WorkloadEndpoint } from './endpoints.js';
import { substitutePodCidr } from './host-local.js';
import type { WorkloadIdentity } from './workload.js';
import type { KubernetesLookup } from '../../ipam/plugin/index.js';
import { firstAddRoutes, type AddressSource } from './result-routes.js';

export interface Undo {
  what: string;
  run: () => Promise<unknown>;
}

const isV6 = (a: string): boolean => a.includes(':');
export const hostPrefix = (addr: string): string => `${addr.split('/')[0]}/${isV6(addr) ? 128 : 32}`;

/** Parses and checks an address annotation: a JSON list, at most one address per family. */
export function addressAnnotation(info: PodInfo, name: string): string[] | undefined {
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
export function ipamConfigFor(conf: CalicoConfig, info: PodInfo | undefined): CniRequest['config'] {
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

/** calico-ipam's pod and namespace lookups answered from what this ADD read (the same objects, no second GET). */
export function lookupFromPodInfo(info: PodInfo): KubernetesLookup {
  return {
    pod: async () => ({ annotations: info.annotations }),
    namespace: async () => ({ labels: info.namespaceLabels, annotations: info.namespaceAnnotations }),
  };
}

export interface AddressContext {
  req: CniRequest;
  conf: CalicoConfig;
  id: WorkloadIdentity;
  node: string;
  info: PodInfo | undefined;
  existing: WorkloadEndpoint | undefined;
  deps: PluginDeps;
  undo: Undo[];
}

export interface AssignedAddresses {
  /** Each as /32 or /128. */
  addresses: string[];
  source: AddressSource;
  /** The routes of ADD's result (result-routes.ts). */
  routes: CniRoute[];
}

/** Which annotation, if any, chooses the pod's addresses (the checks ADD makes before anything is assigned). */
export function addressSourceOf(info: PodInfo | undefined): AddressSource {
  if (info && addressAnnotation(info, ANNOTATION.ipAddrsNoIpam)) return 'ipAddrsNoIpam';
  if (info && addressAnnotation(info, ANNOTATION.ipAddrs)) return 'ipAddrs';
  return 'ipam';
}

/** The pod's addresses, and the routes ADD's result carries for them. */
export async function assignAddresses(ctx: AddressContext): Promise<AssignedAddresses> {
  const { req, conf, id, node, info, existing, deps, undo } = ctx;
  const ipamConfig = ipamConfigFor(conf, info);
  const kubernetes = info && lookupFromPodInfo(info);
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
    throw new CniError(999, "can't have both annotations: 'ipAddrs' and 'ipAddrsNoIpam' in use at the same time");
  }
  let addresses: string[];
  let results: CniResult[] = [];
  if (noIpam) {
    // Calico's texts (kubelet events and users' alerts match on them).
    if (conf.ipamType !== 'calico-ipam')
      throw new CniError(999, `ipAddrsNoIpam is not compatible with configured IPAM: ${conf.ipamType}`);
    if (!conf.ipAddrsNoIpam) throw new CniError(999, 'requested feature is not enabled: ip_addrs_no_ipam');
    addresses = noIpam.map(hostPrefix);
  } else {
    if (ipAddrs && conf.ipamType !== 'calico-ipam')
      throw new CniError(999, `ipAddrs is not compatible with configured IPAM: ${conf.ipamType}`);
    if (ipAddrs && existing?.spec.containerID) {
      // The pod's fixed addresses may still be held by the endpoint's container — a previous sandbox, or this one
      // when its interface went missing: release those first (as Calico), else asking for them again fails.
      const prev = existing.spec.containerID;
      deps.log(
        `ADD ${req.containerId}: releasing addresses of the endpoint's container ${prev} for ${ANNOTATION.ipAddrs}`,
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
    results = [];
    for (const ip of ipAddrs ?? [undefined]) {
      const r = await deps.ipam.invoke(req, {
        command: 'ADD',
        config: ipamConfig,
        extraArgs: ip ? { IP: ip } : undefined,
        kubernetes,
      });
      if (r) results.push(r);
    }
    addresses = results.flatMap((r) => (r.ips ?? []).map((ip) => hostPrefix(ip.address)));
    if (addresses.length === 0) throw new CniError(999, `IPAM plugin ${conf.ipamType} returned no IP addresses`);
  }
  const source: AddressSource = noIpam ? 'ipAddrsNoIpam' : ipAddrs ? 'ipAddrs' : 'ipam';
  return { addresses, source, routes: firstAddRoutes(source, results) };
}

/** The floatingIPs annotation as WorkloadEndpoint ipNATs (needs feature_control.floating_ips). */
export function floatingIpNats(
  conf: CalicoConfig,
  info: PodInfo | undefined,
  addresses: string[],
): { internalIP: string; externalIP: string }[] | undefined {
  const floating = info ? annotationList(info.annotations, ANNOTATION.floatingIPs) : undefined;
  if (!floating) return undefined;
  if (!conf.floatingIps) throw new CniError(999, 'requested feature is not enabled: floating_ips');
  return floating.map((ext) => {
    // Calico's endpoint validation refuses a non-address externalIP; refused here before anything is written.
    if (!isIp(ext)) throw new CniError(999, `annotation ${ANNOTATION.floatingIPs}: "${ext}" is not an IP address`);
    const internal = addresses.find((a) => isV6(a) === isV6(ext));
    if (!internal) throw new CniError(999, `floating IP ${ext}: the pod has no address of its family`);
    return { internalIP: internal.split('/')[0]!, externalIP: ext };
  });
}

/** The pod interface's MAC: the hwAddr annotation, else `made` (the one the veth got), else a random one. */
export function podMac(info: PodInfo | undefined, made?: string): string {
  const annotated = info?.annotations[ANNOTATION.hwAddr];
  if (annotated !== undefined && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(annotated)) {
    throw new CniError(999, `annotation ${ANNOTATION.hwAddr}: "${annotated}" is not a MAC address`);
  }
  return annotated?.toLowerCase() ?? made ?? randomPodMac();
}

/**
 * The allowedSourcePrefixes annotation as the endpoint's allowSpoofedSourcePrefixes, as Calico's conversion: each entry
 * an address (taken as /32 or /128) or a CIDR (taken as the network it names); anything else refused naming it.
 */
export function allowedSourcePrefixes(info: PodInfo | undefined): string[] | undefined {
  const list = info ? annotationList(info.annotations, ANNOTATION.allowedSourcePrefixes) : undefined;
  return list?.map((prefix) => {
    try {
      return canonicalCidr(prefix.includes('/') ? prefix : hostPrefix(prefix));
    } catch {
      throw new CniError(999, `failed to parse '${prefix}' as an IP address or CIDR`);
    }
  });
}
