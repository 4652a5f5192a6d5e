// The process side of the `calico` / `calico-ipam` executable: chooses the plugin by the program's own name (as
// Calico's one binary does), answers `-v`, wires process stdin/stdout/stderr to the dispatcher and returns the exit
// code. This file and what it imports stay small: the in-process handlers live in the separately bundled
// calico-plugin-core (src/cni/core.ts), loaded only when a request is not handed to the calico-node agent.
// First, so its `loaded` mark is taken when the bundle's modules start running.
import { markPhase, phaseReport } from './timing.js';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { asCniError, printJson, runPlugin, type PluginIo } from './skel/dispatch.js';
import { CURRENT_VERSION } from './skel/versions.js';
import { CniError } from './skel/types.js';
import { CALICO_CNI_VERSION } from './version.js';
import { handoffHandlers } from './handoff/client.js';
import type { PluginCore } from './core.js';
import { builtin } from './builtin.js';
import { lazyHandlers } from './lazy-handlers.js';

export const CORE_FILE = 'calico-plugin-core';

/** The bundled core beside the running executable, or (running from source) src/cni/core.ts. */
export async function loadPluginCore(argv0: string): Promise<PluginCore> {
  const bundled = path.join(path.dirname(argv0), CORE_FILE);
  if (existsSync(bundled)) {
    // node:module only on this path (the hand-off path never needs it), and without Node's ESM loader.
    const { createRequire } = await builtin<typeof import('node:module')>('node:module');
    return (createRequire(bundled)(bundled) as { pluginCore: PluginCore }).pluginCore;
  }
  if (!/\.[cm]?ts$/.test(argv0)) {
    throw new CniError(50, `the calico plugin's in-process part ${bundled} is missing (install it beside ${argv0})`);
  }
  const fromSource = './core.js'; // a variable, so bundlers leave the core out of this file
  return ((await import(fromSource)) as { pluginCore: PluginCore }).pluginCore;
}

export interface ProgramIo {
  argv0: string;
  args: string[];
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
}

export async function runCniProgram(io: ProgramIo): Promise<number> {
  markPhase('entry');
  const code = await runCniCommand(io);
  const timing = io.env.CALICO_CNI_TIMING;
  if (timing === '1' || timing === '2') {
    markPhase('done');
    io.stderr(phaseReport(timing === '2'));
  }
  return code;
}

async function runCniCommand(io: ProgramIo): Promise<number> {
  const name = path.basename(io.argv0);
  const ipam = name === 'calico-ipam' || name.startsWith('calico-ipam.');
  if (io.args.includes('-v') || io.args.includes('--version')) {
    io.stdout(`${CALICO_CNI_VERSION}\n`);
    return 0;
  }
  if (io.args.includes('-t')) {
    // Calico's connection test: netconf on stdin, datastore reachable -> exit 0, else a code-100 error.
    try {
      const core = await loadPluginCore(io.argv0);
      io.stderr(`${await core.testConnection(readFileSync(0, 'utf8'), io.env)}\n`);
      return 0;
    } catch (err) {
      const e = asCniError(err);
      io.stdout(printJson(e.toJSON(CURRENT_VERSION)));
      return 1;
    }
  }
  const pluginIo: PluginIo = {
    env: io.env,
    readStdin: async () => readFileSync(0, 'utf8'),
    stdout: io.stdout,
    stderr: io.stderr,
  };
  const core = lazyHandlers(async () => {
    const c = await loadPluginCore(io.argv0);
    return ipam ? c.ipam : c.calico;
  });
  // Calico's about texts: "Calico CNI plugin <v>" and "Calico CNI IPAM <v>" (ipam_plugin.go).
  if (ipam) return runPlugin(core, pluginIo, { about: `Calico CNI IPAM ${CALICO_CNI_VERSION}` });
  // Calico's plugin prints a config without cniVersion's result as 0.2.0 (its own default), calico-ipam as skel's.
  return runPlugin(handoffHandlers(core), pluginIo, {
    about: `Calico CNI plugin ${CALICO_CNI_VERSION}`,
    unversionedResult: '0.2.0',
  });
}
