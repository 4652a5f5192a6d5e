// The CNI dispatcher, as libcni's skel: environment -> checks in skel's order -> the plugin's handler -> one JSON
// document on stdout (a result or an error with an integer code) and an exit code. `preflight` and
// `invokeHandler` are the two halves, so the calico-node agent validates a handed-over request exactly as stdin.
import { statSync } from 'node:fs';
import { convertResult } from './result.js';
import { markPhase } from '../timing.js';
import { CniError, type CniCommand, type CniRequest, type NetConf, type PluginHandlers } from './types.js';
import { parseCniArgs, validateContainerId, validateInterfaceName, validateNetworkName } from './validate.js';
import { CURRENT_VERSION, SUPPORTED_VERSIONS, configVersion, requireSupported, versionAtLeast } from './versions.js';

export type Env = Record<string, string | undefined>;

export interface PluginInfo {
  /** Printed (with the versions) on stderr when CNI_COMMAND is missing, e.g. `Calico CNI plugin v3.30.0`. */
  about: string;
  supportedVersions?: readonly string[];
  /** The cniVersion an ADD result is printed in when the config names none (Calico's plugin: 0.2.0; default 0.1.0). */
  unversionedResult?: string;
}

export interface PluginIo {
  env: Env;
  /** Reads all of stdin; not called for VERSION. */
  readStdin(): Promise<string>;
  stdout(text: string): void;
  stderr(text: string): void;
}

const KNOWN_COMMANDS: readonly string[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS'];

// skel's table: which variables each command requires, visited in this order.
const ENV_TABLE: { name: string; requiredFor: readonly string[]; validate?: (v: string) => void }[] = [
  { name: 'CNI_COMMAND', requiredFor: [] },
  { name: 'CNI_CONTAINERID', requiredFor: ['ADD', 'CHECK', 'DEL'], validate: validateContainerId },
  { name: 'CNI_NETNS', requiredFor: ['ADD', 'CHECK'] },
  { name: 'CNI_IFNAME', requiredFor: ['ADD', 'CHECK', 'DEL'], validate: validateInterfaceName },
  { name: 'CNI_ARGS', requiredFor: [] },
  { name: 'CNI_PATH', requiredFor: ['ADD', 'CHECK', 'DEL', 'GC', 'STATUS'] },
  { name: 'CNI_NETNS_OVERRIDE', requiredFor: [] },
];

export type Preflight = { kind: 'about' } | { kind: 'version' } | { kind: 'request'; request: CniRequest };

/**
 * Everything skel (containernetworking/cni v1.3.0, which Calico builds against) checks before choosing a handler, in
 * its order: the environment in table order — a present required container ID (4) or interface name (4) is validated
 * as it is met, then every missing required variable is named (4) — then stdin read (5), JSON decode (6), network
 * name (7), and an unknown command (4). `about` when CNI_COMMAND is missing; `version` for VERSION (stdin unread).
 */
export async function preflight(env: Env, readStdin: () => Promise<string>): Promise<Preflight> {
  const command = env.CNI_COMMAND ?? '';
  if (command === '') return { kind: 'about' };
  // skel v1.3.0: variables in table order; an empty required one is collected, a present required one with a
  // validator (container ID, interface name) is validated at once — before missing ones are reported.
  const missing: string[] = [];
  for (const v of ENV_TABLE) {
    const value = env[v.name] ?? '';
    const required = v.name === 'CNI_COMMAND' || v.requiredFor.includes(command);
    if (value === '') {
      if (required) missing.push(v.name);
    } else if (required && v.validate) {
      v.validate(value);
    }
  }
  if (missing.length > 0) throw new CniError(4, `required env variables [${missing.join(',')}] missing`);
  if (command === 'VERSION') return { kind: 'version' };

  let stdin: string;
  try {
    stdin = await readStdin();
  } catch (err) {
    throw new CniError(5, `error reading from stdin: ${(err as Error).message}`);
  }
  let config: NetConf;
  try {
    config = JSON.parse(stdin) as NetConf;
  } catch (err) {
    throw new CniError(6, `error unmarshall network config: ${(err as Error).message}`);
  }
  // JSON null decodes into Go's struct as nothing set: then the missing name (7) is what skel reports.
  if (config === null) config = {} as NetConf;
  if (typeof config !== 'object' || Array.isArray(config)) {
    throw new CniError(6, 'error unmarshall network config: not a JSON object');
  }
  if (config.name !== undefined && typeof config.name !== 'string') {
    throw new CniError(6, 'error unmarshall network config: "name" must be a string');
  }
  validateNetworkName(config.name ?? '');
  if (!KNOWN_COMMANDS.includes(command)) throw new CniError(4, `unknown CNI_COMMAND: ${command}`);

  return {
    kind: 'request',
    request: {
      command: command as CniCommand,
      containerId: env.CNI_CONTAINERID ?? '',
      netns: env.CNI_NETNS || undefined,
      ifName: env.CNI_IFNAME ?? '',
      ...cniArgsOrError(env.CNI_ARGS),
      path: (env.CNI_PATH ?? '').split(':').filter((p) => p !== ''),
      config,
      stdin,
      env: { ...env },
    },
  };
}

/**
 * skel leaves CNI_ARGS alone; Calico's handlers parse it (libcni's LoadArgs) after the version gate, so a malformed
 * pair is their error (code 999, LoadArgs' text), not a preflight one.
 */
function cniArgsOrError(raw: string | undefined): { args: Record<string, string>; argsError?: string } {
  try {
    return { args: parseCniArgs(raw) };
  } catch (err) {
    return { args: {}, argsError: (err as Error).message };
  }
}

/** skel's per-command version gate: CHECK needs >= 0.4.0, GC and STATUS >= 1.1.0; then list membership. */
export function checkCommandVersion(command: CniCommand, version: string, supported: readonly string[]): void {
  const floor = command === 'CHECK' ? '0.4.0' : command === 'GC' || command === 'STATUS' ? '1.1.0' : undefined;
  if (floor) {
    if (!versionAtLeast(version, floor)) {
      throw new CniError(1, `config version does not allow ${command}`);
    }
    if (!supported.some((p) => versionAtLeast(p, version))) {
      throw new CniError(1, `plugin version does not allow ${command}`);
    }
  }
  requireSupported(version, supported);
}

/** Version gate, then the handler. Returns the result in the config version's shape (ADD) or undefined. */
export async function invokeHandler(
  handlers: PluginHandlers,
  req: CniRequest,
  supported: readonly string[] = SUPPORTED_VERSIONS,
  unversionedResult?: string,
): Promise<Record<string, unknown> | undefined> {
  const version = configVersion(req.config);
  checkCommandVersion(req.command, version, supported);
  try {
    if (req.argsError && req.command !== 'GC' && req.command !== 'STATUS') throw new CniError(999, req.argsError);
    switch (req.command) {
      case 'ADD': {
        const declared = typeof req.config.cniVersion === 'string' && req.config.cniVersion !== '';
        return convertResult(await handlers.add(req), declared ? version : (unversionedResult ?? version));
      }
      case 'DEL':
        await handlers.del(req);
        return undefined;
      case 'CHECK':
        await handlers.check?.(req);
        return undefined;
      case 'GC':
        await handlers.gc?.(req);
        return undefined;
      case 'STATUS':
        await handlers.status?.(req);
        return undefined;
      default:
        throw new CniError(4, `unknown CNI_COMMAND: ${String(req.command)}`);
    }
  } catch (err) {
    throw asCniError(err);
  }
}

/** A typed CNI error passes through; anything else becomes code 999 with its message, as skel. */
export function asCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  // A CniError from another bundle (the plugin core is bundled apart) is a different class with the same shape.
  if (err instanceof Error && err.name === 'CniError' && typeof (err as CniError).code === 'number') {
    return new CniError((err as CniError).code, err.message, (err as CniError).details);
  }
  if (err && typeof err === 'object' && typeof (err as CniError).code === 'number' && 'msg' in err) {
    const e = err as unknown as { code: number; msg: string; details?: string };
    return new CniError(e.code, e.msg, e.details);
  }
  return new CniError(999, err instanceof Error ? err.message : String(err));
}

/** skel refuses (code 8) a CNI_NETNS that is the plugin's own network namespace; an unopenable path is accepted. */
function refuseOwnNetns(env: Env): void {
  const override = (env.CNI_NETNS_OVERRIDE ?? '').toLowerCase();
  if (override === '1' || override === 'true' || !env.CNI_NETNS) return;
  try {
    const theirs = statSync(env.CNI_NETNS);
    const ours = statSync('/proc/self/ns/net');
    if (theirs.dev === ours.dev && theirs.ino === ours.ino) {
      throw new CniError(8, "plugin's netns and netns from CNI_NETNS should not be the same");
    }
  } catch (err) {
    if (err instanceof CniError) throw err;
  }
}

export const printJson = (value: unknown): string => JSON.stringify(value, null, 4) + '\n';

/** Runs one CNI invocation end to end; returns the exit code. Output goes only through io. */
export async function runPlugin(handlers: PluginHandlers, io: PluginIo, info: PluginInfo): Promise<number> {
  const supported = info.supportedVersions ?? SUPPORTED_VERSIONS;
  let errorVersion = CURRENT_VERSION;
  try {
    const pre = await preflight(io.env, io.readStdin);
    markPhase('checked');
    if (pre.kind === 'about') {
      io.stderr(`${info.about}\nCNI protocol versions supported: ${supported.join(', ')}\n`);
      return 0;
    }
    if (pre.kind === 'version') {
      // libcni's PluginInfo.Encode: compact JSON and a newline (the other answers are indented, as libcni's Print).
      io.stdout(JSON.stringify({ cniVersion: CURRENT_VERSION, supportedVersions: supported }) + '\n');
      return 0;
    }
    try {
      const v = configVersion(pre.request.config);
      if (supported.includes(v)) errorVersion = v;
    } catch {
      // the version gate below reports it
    }
    const result = await invokeHandler(handlers, pre.request, supported, info.unversionedResult);
    if (pre.request.command === 'ADD' || pre.request.command === 'DEL') refuseOwnNetns(io.env);
    if (result) io.stdout(printJson(result));
    return 0;
  } catch (err) {
    const e = asCniError(err);
    io.stdout(printJson(e.toJSON(errorVersion)));
    return 1;
  }
}
