// The heavy half of the calico / calico-ipam executable: the handlers that touch the datastore, IPAM, Kubernetes and
// the kernel. Bundled apart (dist/bin/calico-plugin-core) and loaded only when a request runs in-process, so the
// common path — validate, hand off to calico-node — starts no faster than Node itself allows.
// Each part's modules are evaluated at its first call (esbuild keeps a dynamic import inside the bundle, deferred):
// a calico-ipam exec never initialises the calico plugin's Kubernetes client, TLS and dataplane modules (~15 ms).
import type { PluginHandlers } from './skel/types.js';

export interface PluginCore {
  calico: PluginHandlers;
  ipam: PluginHandlers;
  /** `calico -t`. */
  testConnection(stdin: string, env: Record<string, string | undefined>): Promise<string>;
}

/** Handlers that load their module at the first call (program.ts's lazyHandlers, kept out of this bundle). */
function loadedOnFirstCall(load: () => Promise<PluginHandlers>): PluginHandlers {
  let loaded: Promise<PluginHandlers> | undefined;
  const get = () => (loaded ??= load());
  return {
    add: async (req) => (await get()).add(req),
    del: async (req) => (await get()).del(req),
    check: async (req) => (await get()).check?.(req),
    gc: async (req) => (await get()).gc?.(req),
    status: async (req) => (await get()).status?.(req),
  };
}

export const pluginCore: PluginCore = {
  calico: loadedOnFirstCall(async () => (await import('./plugin/handlers.js')).calicoPluginHandlers),
  ipam: loadedOnFirstCall(async () => (await import('../ipam/plugin/index.js')).ipamPluginHandlers),
  testConnection: async (stdin, env) => (await import('./plugin/connection.js')).testDatastoreConnection(stdin, env),
};
