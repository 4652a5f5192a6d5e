// What every controller offers the runner: start (after its informers have synced), stop, a full resync against the
// Calico datastore, and idle() for tests. The settings each controller gets from KubeControllersConfiguration.
export interface Controller {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Compares everything the controller owns in the datastore with the Kubernetes state again. */
  resync(): Promise<void>;
  /** Resolves when no reconciliation is queued or running. */
  idle(): Promise<void>;
}

export const keyOf = (name: string, namespace?: string): string => (namespace ? `${namespace}/${name}` : name);

export function splitKey(key: string): { name: string; namespace?: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
