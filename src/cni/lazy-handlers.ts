// The CNI command table (ADD, DEL, CHECK, GC, STATUS -> handler) over a module loaded at the first command: the
// dispatch both the calico executable (program.ts) and its in-process core (core.ts) route through. Type imports only,
// so it adds nothing to either bundle's start-up.
import type { PluginHandlers } from './skel/types.js';

/** Handlers that import their module (via load) only when a command actually runs, once per process. */
export function lazyHandlers(load: () => Promise<PluginHandlers>): PluginHandlers {
  let loaded: Promise<PluginHandlers> | undefined;
  const get = () => (loaded ??= load());
  return {
    add: async (req) => (await get()).add(req),
    del: async (req) => (await get()).del(req),
    check: async (req) => (await get()).check?.(req),
    gc: async (req) => (await get()).gc?.(req),
    status: async (req) => (await get()).status?.(req),
  };
}
