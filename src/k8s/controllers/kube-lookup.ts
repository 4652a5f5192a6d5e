// Direct reads from the Kubernetes API, for decisions that must not rest on an informer that may be behind:
// before removing Calico state because its pod or node is gone, the controllers ask the API server itself.
import { ApiException, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

export interface KubeLookup {
  /** The pod's node ('' when not scheduled), or undefined when the pod does not exist. */
  podNode(namespace: string, name: string): Promise<string | undefined>;
  nodeExists(name: string): Promise<boolean>;
}

const notFound = (err: unknown): boolean =>
  (err instanceof ApiException && err.code === 404) || (err as { code?: number })?.code === 404;

export function apiLookup(kc: KubeConfig): KubeLookup {
  const core = kc.makeApiClient(CoreV1Api);
  const exists = async (read: () => Promise<unknown>): Promise<boolean> => {
    try {
      await read();
      return true;
    } catch (err) {
      if (notFound(err)) return false;
      throw err;
    }
  };
  return {
    podNode: async (namespace, name) => {
      try {
        return (await core.readNamespacedPod({ namespace, name })).spec?.nodeName ?? '';
      } catch (err) {
        if (notFound(err)) return undefined;
        throw err;
      }
    },
    nodeExists: (name) => exists(() => core.readNode({ name })),
  };
}
