// The heavy half of the calico / calico-ipam executable: the handlers that touch the datastore, IPAM, Kubernetes and
// the kernel. Bundled apart (dist/bin/calico-plugin-core) and loaded only when a request runs in-process, so the
// common path — validate, hand off to calico-node — starts no faster than Node itself allows.
import type { PluginHandlers } from './skel/types.js';
import { calicoPluginHandlers } from './plugin/handlers.js';
import { ipamPluginHandlers } from '../ipam/plugin/index.js';

import { testDatastoreConnection } from './plugin/connection.js';

export interface PluginCore {
  calico: PluginHandlers;
  ipam: PluginHandlers;
  /** `calico -t`. */
  testConnection(stdin: string, env: Record<string, string | undefined>): Promise<string>;
}

export const pluginCore: PluginCore = {
  calico: calicoPluginHandlers,
  ipam: ipamPluginHandlers,
  testConnection: testDatastoreConnection,
};
