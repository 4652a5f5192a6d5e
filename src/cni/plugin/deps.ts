// What the calico plugin's commands need from the outside world, behind one interface so the agent can hand in
// warm instances (open datastore, loaded IPAM) while the in-process path opens them per call.
import type { Datastore } from '../../datastore/types.js';
import type { CniRequest } from '../skel/types.js';
import type { KubeReader } from '../k8s/client.js';
import type { IpamDelegate } from './ipam.js';

export interface PluginDeps {
  /** The datastore the netconf/env name; `release` is called when the command is done with it. */
  datastore(req: CniRequest): Promise<{ ds: Datastore; release(): Promise<void> }>;
  ipam: IpamDelegate;
  kube(kubeconfig: string): Promise<KubeReader>;
  log(line: string): void;
}
