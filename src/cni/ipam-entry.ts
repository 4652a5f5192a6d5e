// Loads the calico-ipam handlers (src/ipam/plugin) lazily: as the `calico-ipam` program, or in-process for the calico
// plugin's IPAM delegation with the plugin's datastore and Kubernetes lookups handed in.
import type { Datastore } from '../datastore/types.js';
import type { KubernetesLookup } from '../ipam/plugin/index.js';
import type { CniRequest, PluginHandlers } from './skel/types.js';

export async function loadIpamHandlers(): Promise<PluginHandlers> {
  return (await import('../ipam/plugin/index.js')).ipamPluginHandlers;
}

export async function ipamHandlersWith(deps: {
  openDatastore(req: CniRequest): Promise<Datastore>;
  kubernetes?: KubernetesLookup;
}): Promise<PluginHandlers> {
  return (await import('../ipam/plugin/index.js')).createIpamPluginHandlers(deps);
}

/** A view of a shared datastore whose close() does nothing (the owner closes it). */
export function unclosable(ds: Datastore): Datastore {
  return new Proxy(ds, {
    get(target, prop, receiver) {
      if (prop === 'close') return async () => {};
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
