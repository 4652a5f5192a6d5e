// Runs a CNI network configuration list the way libcni does for kubelet: ADD calls each plugin in order, passing the
// previous plugin's result as prevResult; DEL calls them in reverse order with the cached ADD result. Plugins are
// found on CNI_PATH, called with the CNI environment and the per-plugin config on stdin.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runStatus } from '../common/exec.js';

export interface ConfList {
  cniVersion: string;
  name: string;
  plugins: Record<string, unknown>[];
}

export interface CniRuntime {
  containerId: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs, e.g. IgnoreUnknown=1;K8S_POD_NAMESPACE=..;K8S_POD_NAME=..;K8S_POD_INFRA_CONTAINER_ID=.. */
  args: string;
  cniPath: string[];
  /** Extra environment for the plugins (the node's host-path overrides). */
  env?: Record<string, string>;
  /** Runtime capability arguments (portMappings, bandwidth, ...), given only to plugins that declare them. */
  capabilityArgs?: Record<string, unknown>;
}

export class CniCallError extends Error {
  constructor(
    readonly plugin: string,
    readonly command: string,
    readonly code: number | undefined,
    message: string,
  ) {
    super(`CNI ${command} of plugin "${plugin}" failed: ${message}`);
  }
}

function findPlugin(type: string, cniPath: string[]): string {
  for (const dir of cniPath) {
    const candidate = path.join(dir, type);
    if (existsSync(candidate)) return candidate;
  }
  throw new CniCallError(type, 'lookup', undefined, `not found on CNI_PATH ${cniPath.join(':')}`);
}

function pluginConfig(list: ConfList, plugin: Record<string, unknown>, rt: CniRuntime, prevResult?: unknown) {
  const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  const caps = plugin.capabilities as Record<string, boolean> | undefined;
  if (caps && rt.capabilityArgs) {
    const runtimeConfig: Record<string, unknown> = {};
    for (const [cap, enabled] of Object.entries(caps)) {
      if (enabled && rt.capabilityArgs[cap] !== undefined) runtimeConfig[cap] = rt.capabilityArgs[cap];
    }
    if (Object.keys(runtimeConfig).length) conf.runtimeConfig = runtimeConfig;
  }
  if (prevResult !== undefined) conf.prevResult = prevResult;
  return conf;
}

async function invoke(
  command: string,
  list: ConfList,
  plugin: Record<string, unknown>,
  rt: CniRuntime,
  prev?: unknown,
) {
  const type = String(plugin.type);
  const exe = findPlugin(type, rt.cniPath);
  const env = {
    ...process.env,
    ...rt.env,
    CNI_COMMAND: command,
    CNI_CONTAINERID: rt.containerId,
    CNI_NETNS: rt.netns,
    CNI_IFNAME: rt.ifName,
    CNI_ARGS: rt.args,
    CNI_PATH: rt.cniPath.join(':'),
  };
  const out = await runStatus(exe, [], {
    env,
    input: JSON.stringify(pluginConfig(list, plugin, rt, prev)),
    timeoutMs: 60_000,
  });
  if (out.code !== 0) {
    let code: number | undefined;
    let msg = out.stdout.trim() || out.stderr.trim();
    try {
      const err = JSON.parse(out.stdout) as { code?: number; msg?: string; details?: string };
      code = err.code;
      msg = [err.msg, err.details].filter(Boolean).join(': ');
    } catch {
      // not JSON: keep the raw text
    }
    throw new CniCallError(type, command, code, msg);
  }
  return out.stdout.trim() ? (JSON.parse(out.stdout) as unknown) : undefined;
}

export async function cniAdd(list: ConfList, rt: CniRuntime): Promise<unknown> {
  let result: unknown;
  for (const plugin of list.plugins) result = await invoke('ADD', list, plugin, rt, result);
  return result;
}

/** Calls DEL on every plugin (reverse order) and reports the first failure after trying all. */
export async function cniDel(list: ConfList, rt: CniRuntime, cachedResult?: unknown): Promise<void> {
  let first: Error | undefined;
  for (const plugin of [...list.plugins].reverse()) {
    try {
      await invoke('DEL', list, plugin, rt, cachedResult);
    } catch (e) {
      first ??= e as Error;
    }
  }
  if (first) throw first;
}

/** The IPs of a CNI 1.0 result, without prefix lengths. */
export function resultIps(result: unknown): string[] {
  const ips = (result as { ips?: { address?: string }[] } | undefined)?.ips ?? [];
  return ips.map((i) => String(i.address ?? '').split('/')[0]!).filter(Boolean);
}
