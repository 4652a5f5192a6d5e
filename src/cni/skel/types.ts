// The contract between the CNI dispatcher (src/cni/skel, libcni's skel) and the plugins it runs: `calico`
// (src/cni/plugin) and `calico-ipam` (src/ipam/plugin). The dispatcher validates the request in skel's order and
// only then calls a handler; handlers never read process.env or stdin themselves, so the same handler serves a CNI
// exec and a request handed over the calico-node agent socket.

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'GC' | 'STATUS';

/** The decoded network configuration (stdin). Plugin-specific fields are read by the plugin. */
export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  ipam?: { type?: string; [k: string]: unknown };
  prevResult?: Record<string, unknown>;
  runtimeConfig?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface CniRequest {
  command: CniCommand;
  containerId: string;
  /** Absent for DEL when the runtime no longer has a network namespace. */
  netns?: string;
  ifName: string;
  /** CNI_ARGS parsed as key=value pairs (`IgnoreUnknown`, `K8S_POD_NAMESPACE`, ...). */
  args: Record<string, string>;
  /** Set when CNI_ARGS did not parse (`args` is then empty): the handler step reports it, as Calico's does. */
  argsError?: string;
  /** CNI_PATH split on ':'. */
  path: string[];
  config: NetConf;
  /** The raw stdin bytes (delegation to another plugin passes them on unchanged). */
  stdin: string;
  /** The plugin's environment (for delegation and the few env settings Calico reads). */
  env: Record<string, string | undefined>;
}

export interface PluginHandlers {
  /** Returns the result object already shaped for config.cniVersion. */
  add(req: CniRequest): Promise<Record<string, unknown>>;
  del(req: CniRequest): Promise<void>;
  check?(req: CniRequest): Promise<void>;
  gc?(req: CniRequest): Promise<void>;
  status?(req: CniRequest): Promise<void>;
}

/** CNI error codes (spec §Error): 1 incompatible version, 2 unsupported field, 3 unknown container, 4 invalid env,
 *  5 I/O failure, 6 decode failure, 7 invalid network config, 11 try again later, 50 plugin not available,
 *  51 limited connectivity, 100+ plugin-specific. */
export class CniError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: string,
  ) {
    super(message);
    this.name = 'CniError';
  }

  toJSON(cniVersion: string): Record<string, unknown> {
    const out: Record<string, unknown> = { cniVersion, code: this.code, msg: this.message };
    if (this.details) out.details = this.details;
    return out;
  }
}
