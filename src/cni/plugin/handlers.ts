// The calico CNI plugin's handlers (ADD, DEL, CHECK, GC, STATUS); served in-process or by the calico-node agent.
import { CniError, type PluginHandlers } from '../skel/types.js';

const notYet = async (): Promise<never> => {
  throw new CniError(50, 'calico plugin handlers are being built (issue 6)');
};
export const calicoPluginHandlers: PluginHandlers = { add: notYet, del: notYet };
