// The heavy half of the calico / calico-ipam executable: the handlers that touch the datastore, IPAM, Kubernetes and
// the kernel. Bundled apart (dist/bin/calico-plugin-core) and loaded only when a request runs in-process, so the
// common path — validate, hand off to calico-node — starts no faster than Node itself allows.
// Each part's modules are evaluated at its first call (esbuild keeps a dynamic import inside the bundle, deferred):
// a calico-ipam exec never initialises the calico plugin's Kubernetes client, TLS and dataplane modules (~15 ms).
import type { PluginHandlers } from './skel/types.js';
import { lazyHandlers } from './lazy-handlers.js';

export interface PluginCore {
  calico: PluginHandlers;
  ipam: PluginHandlers;
  /** `calico -t`. */
  testConnection(stdin: string, env: Record<string, string | undefined>): Promise<string>;
}

export const pluginCore: PluginCore = {
  calico: lazyHandlers(async () => (await import('./plugin/handlers.js')).calicoPluginHandlers),
  ipam: lazyHandlers(async () => (await import('../ipam/plugin/index.js')).ipamPluginHandlers),
  testConnection: async (stdin, env) => (await import('./plugin/connection.js')).testDatastoreConnection(stdin, env),
};
