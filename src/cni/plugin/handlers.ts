// The calico CNI plugin's handlers (ADD, DEL, CHECK, GC, STATUS) over real dependencies: the datastore the netconf
// names, IPAM by delegation, the Kubernetes API from the kubeconfig. Both `calicoPluginHandlers` (in-process: one
// request, then the program exits) and `agentPluginHandlers()` (calico-node's CNI server) keep their datastore handle
// open and share it with calico-ipam; the agent's stay warm across requests.
import { appendFileSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Datastore } from '../../datastore/types.js';
import type { CniRequest, PluginHandlers } from '../skel/types.js';
import { KubeApiError, KubeReader } from '../k8s/client.js';
import { loadKubeconfig } from '../k8s/kubeconfig.js';
import { createIpamPluginHandlers, type KubernetesLookup } from '../../ipam/plugin/index.js';
import { IpamClientCache } from '../../ipam/plugin/clients.js';
import { cmdAdd } from './add.js';
import { cmdCheck } from './check.js';
import { cmdDel } from './del.js';
import { cmdGc, cmdStatus } from './gc.js';
import type { PluginDeps } from './deps.js';
import { PluginIpamDelegate } from './ipam.js';
import { keepSparePodChains } from './pod-side.js';
import { writeAll } from '../fd-output.js';

/**
 * A process that serves one request (in-process plugin) talks to etcd over its JSON gateway: loading the gRPC client
 * costs ~130 ms of CPU per exec. calico-node's CNI server keeps gRPC, whose start-up it pays once.
 */
async function openFor(req: CniRequest, longLived: boolean): Promise<Datastore> {
  const [{ openDatastore }, { datastoreSettingsFromNetConf }] = await Promise.all([
    import('../../datastore/open.js'),
    import('../../datastore/settings.js'),
  ]);
  const timeoutMs = Number(req.env.CALICO_DATASTORE_TIMEOUT_MS) || 10_000;
  return openDatastore(datastoreSettingsFromNetConf(req.config, req.env), {
    timeoutMs,
    etcdTransport: longLived ? 'grpc' : 'json',
  });
}

/** Logs go to stderr (never stdout) and, when the netconf names one, to log_file_path. */
function logger(): (line: string) => void {
  return (line) => {
    process.stderr.write(`calico: ${line}\n`);
  };
}

export function logToFile(req: CniRequest, line: string): void {
  const file = req.config.log_file_path;
  if (typeof file !== 'string' || !file) return;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    appendFileSync(file, `${new Date().toISOString()} ${line}\n`);
  } catch {
    // logging must never fail a CNI call
  }
}

/** A view of a shared datastore whose close() does nothing (its owner closes it). */
function unclosable(ds: Datastore): Datastore {
  return new Proxy(ds, {
    get(target, prop, receiver) {
      if (prop === 'close') return async () => {};
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

export function createPluginDeps(opts: {
  keepOpen: boolean;
  log?: (line: string) => void;
  /** A long-lived process: Kubernetes readers keep their connections and watch the namespaces. */
  resident?: boolean;
}): PluginDeps {
  const log = opts.log ?? logger();
  const open = new Map<string, Promise<Datastore>>();
  let datastoreModule: Promise<typeof import('../../datastore/index.js')> | undefined;
  const kubes = new Map<string, Promise<KubeReader>>();
  // With shared handles, one IpamClient per handle too (its cached context serves the next ADDs); the view given
  // to calico-ipam is one per handle, so the client cache can key on it.
  const ipamClients = opts.keepOpen ? new IpamClientCache() : undefined;
  const views = new WeakMap<Datastore, Datastore>();
  const sharedView = (ds: Datastore): Datastore => {
    let v = views.get(ds);
    if (!v) views.set(ds, (v = unclosable(ds)));
    return v;
  };
  const deps: PluginDeps = {
    log,
    // calico-ipam in-process shares this plugin's datastore handle and Kubernetes reader.
    ipam: new PluginIpamDelegate(
      async (req, known) =>
        createIpamPluginHandlers({
          openDatastore: async (r) => {
            const h = await deps.datastore(r);
            if (opts.keepOpen) return sharedView(h.ds);
            return h.ds;
          },
          kubernetes: known ?? kubernetesLookup(req, deps),
          clients: ipamClients,
        }),
      log,
    ),
    async datastore(req) {
      if (!opts.keepOpen) {
        const ds = await openFor(req, false);
        return { ds, release: () => ds.close() };
      }
      const { datastoreSettingsFromNetConf } = await (datastoreModule ??= import('../../datastore/index.js'));
      const key = JSON.stringify(datastoreSettingsFromNetConf(req.config, req.env));
      let p = open.get(key);
      if (!p) {
        p = openFor(req, true);
        open.set(key, p);
        p.catch(() => open.delete(key));
      }
      return { ds: await p, release: async () => {} };
    },
    async kube(kubeconfig) {
      const make = async () =>
        new KubeReader(await loadKubeconfig(kubeconfig), undefined, { resident: opts.resident === true });
      if (!opts.keepOpen) return make();
      // Keyed by the file's change time too: calico-node rewrites the kubeconfig when it renews the token.
      let stamp = 0;
      try {
        stamp = statSync(kubeconfig).mtimeMs;
      } catch {
        // missing file: loadKubeconfig reports it
      }
      const key = `${kubeconfig}@${stamp}`;
      let p = kubes.get(key);
      if (!p) {
        for (const [k, old] of kubes) {
          if (!k.startsWith(`${kubeconfig}@`)) continue;
          kubes.delete(k);
          old.then((r) => r.close()).catch(() => {});
        }
        p = make();
        kubes.set(key, p);
        p.catch(() => kubes.delete(key));
      }
      return p;
    },
  };
  return deps;
}

/** The pod/namespace lookup calico-ipam uses for its annotations, through this plugin's Kubernetes reader. */
function kubernetesLookup(req: CniRequest, deps: PluginDeps): KubernetesLookup | undefined {
  const kubeconfig = (req.config.kubernetes as { kubeconfig?: unknown } | undefined)?.kubeconfig;
  if (typeof kubeconfig !== 'string' || !kubeconfig) return undefined;
  const orNothing = async <T>(p: Promise<T>): Promise<T | undefined> => {
    try {
      return await p;
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  };
  return {
    pod: async (ns, name) => {
      const pod = await orNothing((await deps.kube(kubeconfig)).getPod(ns, name));
      return pod && { annotations: pod.metadata.annotations ?? {} };
    },
    namespace: async (name) => {
      const n = await orNothing((await deps.kube(kubeconfig)).getNamespace(name));
      return n && { labels: n.metadata.labels ?? {}, annotations: n.metadata.annotations ?? {} };
    },
  };
}

export function handlersWith(deps: PluginDeps): PluginHandlers {
  // Each request logs to stderr and, when its netconf names one, to log_file_path; never to stdout.
  const withLog = (req: CniRequest): PluginDeps => ({
    ...deps,
    log: (line) => {
      deps.log(line);
      logToFile(req, line);
    },
  });
  const run = async <T>(req: CniRequest, fn: (d: PluginDeps) => Promise<T>): Promise<T> => {
    const d = withLog(req);
    try {
      return await fn(d);
    } catch (err) {
      logToFile(req, `${req.command} ${req.containerId} failed: ${(err as Error).message}`);
      throw err;
    }
  };
  return {
    add: (req) => run(req, async (d) => (await cmdAdd(req, d)) as Record<string, unknown>),
    del: (req) => run(req, (d) => cmdDel(req, d)),
    check: (req) => run(req, (d) => cmdCheck(req, d)),
    gc: (req) => run(req, (d) => cmdGc(req, d)),
    status: (req) => run(req, (d) => cmdStatus(req, d)),
  };
}

/** In-process (one request per process): one datastore handle shared with calico-ipam; the program exits after. */
export const calicoPluginHandlers: PluginHandlers = handlersWith(
  // One short-lived process: straight to fd 2 (no stream to set up; the agent keeps process.stderr's buffering).
  createPluginDeps({ keepOpen: true, log: (line) => writeAll(2, `calico: ${line}\n`) }),
);

/** calico-node's CNI server: warm dependencies, and pod-side chains started ahead of the requests. */
export function agentPluginHandlers(log?: (line: string) => void): PluginHandlers {
  keepSparePodChains();
  return handlersWith(createPluginDeps({ keepOpen: true, log, resident: true }));
}
