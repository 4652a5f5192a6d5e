// calico-ipam: the CNI IPAM plugin's ADD and DEL (dispatch, VERSION and result shapes are src/cni/skel's). Like
// Calico's, it registers no CHECK handler: skel answers CHECK with success and empty output after its version checks.
// ADD assigns under handle `<network name>.<containerID>` (a specific address from CNI_ARGS `IP` or the pod's ipAddrs
// annotation, else auto-assignment honouring the pool annotations and ipam config) and returns `<ip>/<block prefix>`;
// DEL releases by handle, then by the legacy handle, and is idempotent. Never opens CNI_NETNS.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Datastore } from '../../datastore/types.js';
import { datastoreSettingsFromNetConf } from '../../datastore/settings.js';
import { CniError, type CniRequest, type PluginHandlers } from '../../cni/skel/types.js';
import { IpamClient } from '../client.js';
import { HandleNotFoundError, NoFreeAddressesError } from '../errors.js';
import {
  ANNOTATION_IP_ADDRS,
  ANNOTATION_IP_FAMILIES,
  parseIpAddrs,
  parseIpFamilies,
  resolvePoolLists,
  type AnnotationSource,
} from '../core/annotations.js';
import { cidrContainsIp, formatIp, parseCidr, parseIp } from '../../net/ip.js';
import { handleKey } from '../../datastore/keys.js';
import { decodeHandle } from '../core/records.js';
import { DEFAULT_IPAM_LOCK_FILE, HostLock } from './lock.js';
import type { IpamClientCache } from './clients.js';

export const DEFAULT_NODENAME_FILE = '/var/lib/calico/nodename';

/** What the plugin may learn from Kubernetes about the pod (the CNI component owns the API client). */
export interface KubernetesLookup {
  pod(namespace: string, name: string): Promise<{ annotations: Record<string, string> } | undefined>;
  namespace(name: string): Promise<{ labels: Record<string, string>; annotations: Record<string, string> } | undefined>;
}

export interface IpamPluginDeps {
  /** Opens the datastore named by the netconf/env (default: openDatastore with Calico's settings). */
  openDatastore(req: CniRequest): Promise<Datastore>;
  kubernetes?: KubernetesLookup;
  now(): Date;
  /**
   * Long-lived clients by datastore handle (calico-node's hand-off server keeps one per datastore, so its ADDs use
   * the allocator's cached context); without it each request gets a client of its own.
   */
  clients?: IpamClientCache;
}

async function defaultOpen(req: CniRequest): Promise<Datastore> {
  const { openDatastore } = await import('../../datastore/open.js');
  // One process per CNI request: etcd's JSON gateway spares loading gRPC and rpc.proto (~130 ms of CPU per exec).
  return openDatastore(datastoreSettingsFromNetConf(req.config, req.env), { timeoutMs: 10_000, etcdTransport: 'json' });
}

/** Calico's nodename: netconf `nodename`, else the nodename file, else the host name. */
export function nodenameOf(req: CniRequest): string {
  const conf = req.config as Record<string, unknown>;
  if (typeof conf.nodename === 'string' && conf.nodename) return conf.nodename;
  const file =
    (typeof conf.nodename_file === 'string' && conf.nodename_file) ||
    req.env.CALICO_NODENAME_FILE ||
    DEFAULT_NODENAME_FILE;
  try {
    const name = readFileSync(file, 'utf8').trim();
    if (name) return name;
  } catch {
    // No nodename file: fall back to the host name, as Calico does.
  }
  return hostname();
}

/**
 * Go's time.Time.UTC().String() form Calico records: `2026-01-02 15:04:05.12 +0000 UTC` (layout
 * `.999999999`: trailing zeros of the fraction cut, no fraction at all on a whole second).
 */
export function goUtcTimestamp(d: Date): string {
  const [whole, frac] = d.toISOString().replace('T', ' ').replace('Z', '').split('.');
  const digits = (frac ?? '').replace(/0+$/, '');
  return `${whole}${digits ? `.${digits}` : ''} +0000 UTC`;
}

export const handleIdOf = (req: CniRequest): string => `${req.config.name}.${req.containerId}`;

/** ADD's result for the addresses it assigned, each `<ip>/<block prefix>` and each also a route (cni.md §B.8). */
export function calicoIpamResult(addresses: string[]): { ips: { address: string }[]; routes: { dst: string }[] } {
  return { ips: addresses.map((address) => ({ address })), routes: addresses.map((dst) => ({ dst })) };
}

/**
 * Each of `addresses` (any prefix) inside one of `blockCidrs` (a handle record's blocks) as `<ip>/<block prefix>`;
 * addresses in none of them are left out. Pure.
 */
export function withBlockPrefixes(addresses: string[], blockCidrs: string[]): string[] {
  const blocks = blockCidrs.flatMap((c) => {
    try {
      return [parseCidr(c)];
    } catch {
      return [];
    }
  });
  return addresses.flatMap((a) => {
    const ip = parseIp(a.split('/')[0]!);
    const block = blocks.find((b) => cidrContainsIp(b, ip));
    return block ? [`${formatIp(ip)}/${block.prefix}`] : [];
  });
}

/**
 * calico-ipam's ADD result for addresses its handle already holds, read back without assigning anything (a repeated
 * ADD of the calico plugin rebuilds its result from it): one read of the handle record, whose blocks give the
 * prefixes. Addresses the handle holds no block for (not from IPAM) are left out.
 */
export async function heldAddressesResult(
  ds: Datastore,
  handleId: string,
  addresses: string[],
): Promise<{ ips: { address: string }[]; routes: { dst: string }[] }> {
  const kv = await ds.get(handleKey(handleId));
  const blocks = kv ? Object.keys(decodeHandle(kv.value).block) : [];
  return calicoIpamResult(withBlockPrefixes(addresses, blocks));
}

interface PodIdentity {
  namespace: string;
  name: string;
}

function podOf(req: CniRequest): PodIdentity | undefined {
  const namespace = req.args.K8S_POD_NAMESPACE;
  const name = req.args.K8S_POD_NAME;
  return namespace && name ? { namespace, name } : undefined;
}

async function withIpam<T>(deps: IpamPluginDeps, req: CniRequest, fn: (ipam: IpamClient) => Promise<T>): Promise<T> {
  const ipamConf = (req.config.ipam ?? {}) as Record<string, unknown>;
  const lockFile =
    (typeof ipamConf.ipam_lock_file === 'string' && ipamConf.ipam_lock_file) ||
    (typeof req.config.ipam_lock_file === 'string' && (req.config.ipam_lock_file as string)) ||
    DEFAULT_IPAM_LOCK_FILE;
  const ds = await deps.openDatastore(req);
  try {
    const lock = await HostLock.acquire(lockFile);
    try {
      return await fn(
        deps.clients ? deps.clients.clientFor(ds, { now: deps.now }) : new IpamClient(ds, { now: deps.now }),
      );
    } finally {
      await lock.release();
    }
  } finally {
    await ds.close();
  }
}

/**
 * Without an injected lookup, a netconf naming `kubernetes.kubeconfig` is enough: the pod and its Namespace are read
 * from the API server (as Calico's calico-ipam fetches the Namespace for pools' namespaceSelector).
 */
async function kubeconfigLookup(req: CniRequest): Promise<KubernetesLookup | undefined> {
  const kubeconfig = (req.config.kubernetes as { kubeconfig?: unknown } | undefined)?.kubeconfig;
  if (typeof kubeconfig !== 'string' || !kubeconfig) return undefined;
  const [{ KubeReader, KubeApiError }, { loadKubeconfig }] = await Promise.all([
    import('../../cni/k8s/client.js'),
    import('../../cni/k8s/kubeconfig.js'),
  ]);
  const reader = new KubeReader(await loadKubeconfig(kubeconfig));
  const get = async (apiPath: string) => {
    try {
      return await reader.get(apiPath);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return undefined;
      throw e;
    }
  };
  return {
    pod: async (ns, name) => {
      const o = await get(`/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`);
      return o ? { annotations: o.metadata.annotations ?? {} } : undefined;
    },
    namespace: async (name) => {
      const o = await get(`/api/v1/namespaces/${encodeURIComponent(name)}`);
      return o ? { labels: o.metadata.labels ?? {}, annotations: o.metadata.annotations ?? {} } : undefined;
    },
  };
}

export function createIpamPluginHandlers(overrides: Partial<IpamPluginDeps> = {}): PluginHandlers {
  const deps: IpamPluginDeps = { openDatastore: defaultOpen, now: () => new Date(), ...overrides };

  async function add(req: CniRequest): Promise<Record<string, unknown>> {
    const ipamConf = (req.config.ipam ?? {}) as Record<string, unknown>;
    const node = nodenameOf(req);
    const handleId = handleIdOf(req);
    const pod = podOf(req);
    const attrs: Record<string, string> = { node, timestamp: goUtcTimestamp(deps.now()) };
    const sources: AnnotationSource[] = [];
    let namespace: { name: string; labels: Record<string, string> } | undefined;
    if (pod) {
      attrs.namespace = pod.namespace;
      attrs.pod = pod.name;
      const kubernetes = deps.kubernetes ?? (await kubeconfigLookup(req));
      if (kubernetes) {
        const p = await kubernetes.pod(pod.namespace, pod.name);
        const ns = await kubernetes.namespace(pod.namespace);
        if (p) sources.push({ owner: `pod ${pod.namespace}/${pod.name}`, annotations: p.annotations ?? {} });
        if (ns) sources.push({ owner: `namespace ${pod.namespace}`, annotations: ns.annotations ?? {} });
        namespace = { name: pod.namespace, labels: ns?.labels ?? {} };
      } else namespace = { name: pod.namespace, labels: {} };
    }
    // Everything the request asks for is parsed before the first datastore write.
    let specific = (req.args.IP ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        try {
          return parseIp(s);
        } catch {
          throw new CniError(7, `CNI_ARGS IP: "${s}" is not an IP address`);
        }
      });
    const podSource = sources.find((s) => s.owner.startsWith('pod '));
    if (!specific.length && podSource?.annotations[ANNOTATION_IP_ADDRS] !== undefined) {
      specific = parseIpAddrs(podSource.owner, podSource.annotations[ANNOTATION_IP_ADDRS]);
    }
    let assign4 = ipamConf.assign_ipv4 !== 'false' && ipamConf.assign_ipv4 !== false;
    let assign6 = ipamConf.assign_ipv6 === 'true' || ipamConf.assign_ipv6 === true;
    const famSource = sources.find((s) => s.annotations[ANNOTATION_IP_FAMILIES] !== undefined);
    if (famSource) {
      const f = parseIpFamilies(famSource.owner, famSource.annotations[ANNOTATION_IP_FAMILIES]);
      assign4 = f.ipv4;
      assign6 = f.ipv6;
    }
    const pools = resolvePoolLists(sources, ipamConf as { ipv4_pools?: unknown; ipv6_pools?: unknown });

    const addresses = await withIpam(deps, req, async (ipam) => {
      if (specific.length) {
        const out: string[] = [];
        try {
          for (const ip of specific) {
            out.push(await ipam.assignIp({ ip: formatIp(ip), handleId, attrs, hostname: node }));
          }
        } catch (e) {
          if (out.length) await ipam.releaseByHandle(handleId).catch(() => undefined);
          throw e;
        }
        return out;
      }
      try {
        const r = await ipam.autoAssign({
          num4: assign4 ? 1 : 0,
          num6: assign6 ? 1 : 0,
          handleId,
          attrs,
          hostname: node,
          ipv4Pools: pools.ipv4Pools,
          ipv6Pools: pools.ipv6Pools,
          namespace,
          intendedUse: 'Workload',
        });
        return [...r.ipv4, ...r.ipv6];
      } catch (e) {
        // Calico's plugin words a shortfall this way; kubelet events and users' alerts match on it.
        if (e instanceof NoFreeAddressesError) {
          throw new CniError(999, `failed to request IPv${e.family} addresses: ${e.message}`);
        }
        throw e;
      }
    });
    return { cniVersion: req.config.cniVersion, ...calicoIpamResult(addresses) };
  }

  async function del(req: CniRequest): Promise<void> {
    const pod = podOf(req);
    const legacy = pod ? `${pod.namespace}.${pod.name}` : req.containerId;
    await withIpam(deps, req, async (ipam) => {
      for (const h of [handleIdOf(req), legacy]) {
        await ipam.releaseByHandle(h).catch((e) => {
          if (!(e instanceof HandleNotFoundError)) throw e;
        });
      }
    });
  }

  return { add, del };
}

/** The handlers `calico` runs when invoked as `calico-ipam` (Kubernetes through the netconf's kubeconfig). */
export const ipamPluginHandlers: PluginHandlers = createIpamPluginHandlers();
