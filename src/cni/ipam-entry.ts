// Loads the calico-ipam handlers (src/ipam/plugin) for the `calico-ipam` program name, lazily.
import { CniError, type PluginHandlers } from './skel/types.js';

export async function loadIpamHandlers(): Promise<PluginHandlers> {
  throw new CniError(50, 'calico-ipam handlers (src/ipam/plugin) are not in this build yet');
}
