// Loads the calico-ipam handlers (src/ipam/plugin) for the `calico-ipam` program name, lazily.
import type { PluginHandlers } from './skel/types.js';

export async function loadIpamHandlers(): Promise<PluginHandlers> {
  return (await import('../ipam/plugin/index.js')).ipamPluginHandlers;
}
