// The process side of the `calico` / `calico-ipam` executable: chooses the plugin by the program's own name (as
// Calico's one binary does), answers `-v`, wires process stdin/stdout/stderr to the dispatcher and returns the
// exit code. Handlers are loaded lazily so that VERSION, errors and the agent hand-off never load heavy modules.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runPlugin, type PluginIo } from './skel/dispatch.js';
import type { PluginHandlers } from './skel/types.js';
import { CALICO_CNI_VERSION } from './version.js';
import { handoffHandlers } from './handoff/client.js';

/** Wraps a loader so the module behind it is imported only when a command actually runs. */
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

/** The in-process calico plugin (the same handlers the agent serves). */
export const inProcessCalicoHandlers = (): PluginHandlers =>
  lazyHandlers(async () => (await import('./plugin/handlers.js')).calicoPluginHandlers);

/** The calico-ipam plugin, in-process. */
export const inProcessIpamHandlers = (): PluginHandlers =>
  lazyHandlers(async () => (await import('./ipam-entry.js')).loadIpamHandlers());

export interface ProgramIo {
  argv0: string;
  args: string[];
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
}

export async function runCniProgram(io: ProgramIo): Promise<number> {
  const name = path.basename(io.argv0);
  const ipam = name === 'calico-ipam' || name.startsWith('calico-ipam.');
  if (io.args.includes('-v') || io.args.includes('--version')) {
    io.stdout(`${CALICO_CNI_VERSION}\n`);
    return 0;
  }
  const pluginIo: PluginIo = {
    env: io.env,
    readStdin: async () => readFileSync(0, 'utf8'),
    stdout: io.stdout,
    stderr: io.stderr,
  };
  if (ipam) {
    return runPlugin(inProcessIpamHandlers(), pluginIo, { about: `Calico CNI IPAM plugin ${CALICO_CNI_VERSION}` });
  }
  return runPlugin(handoffHandlers(inProcessCalicoHandlers()), pluginIo, {
    about: `Calico CNI plugin ${CALICO_CNI_VERSION}`,
  });
}
