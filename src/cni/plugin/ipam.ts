// Delegation to the configured IPAM plugin (spec §Delegation): calico-ipam runs in-process (same handlers as the
// `calico-ipam` program), any other type (host-local, ...) is executed from CNI_PATH with the whole netconf on stdin.
// In: the request and the (possibly rewritten) netconf; out: a normalised result, or a CniError from the plugin.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { normaliseResult, type CniResult } from '../skel/result.js';
import { asCniError } from '../skel/dispatch.js';
import { CniError, type CniCommand, type CniRequest, type NetConf, type PluginHandlers } from '../skel/types.js';
import type { KubernetesLookup } from '../../ipam/plugin/index.js';

export interface IpamCall {
  command: CniCommand;
  config: NetConf;
  /** Extra CNI_ARGS pairs, e.g. { IP: '10.0.0.7' } for a specific address. */
  extraArgs?: Record<string, string>;
  /**
   * The pod and namespace this request's ADD has just read from the API server: calico-ipam in-process answers its
   * own lookups from them instead of reading both again (an exec'd IPAM plugin reads them itself).
   */
  kubernetes?: KubernetesLookup;
}

export interface IpamDelegate {
  invoke(req: CniRequest, call: IpamCall): Promise<CniResult | undefined>;
}

function findPlugin(type: string, dirs: string[]): string {
  for (const dir of dirs) {
    const candidate = path.join(dir, type);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw new CniError(999, `failed to find plugin "${type}" in path [${dirs.join(' ')}]`);
}

function execPlugin(
  binary: string,
  env: Record<string, string | undefined>,
  stdin: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [], { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const argsString = (args: Record<string, string>): string =>
  Object.entries(args)
    .map(([k, v]) => `${k}=${v}`)
    .join(';');

export class PluginIpamDelegate implements IpamDelegate {
  constructor(
    private readonly loadCalicoIpam: (req: CniRequest, known?: KubernetesLookup) => Promise<PluginHandlers>,
    private readonly log: (line: string) => void = () => {},
  ) {}

  async invoke(req: CniRequest, call: IpamCall): Promise<CniResult | undefined> {
    const type = String(call.config.ipam?.type ?? '');
    const args = { ...req.args, ...(call.extraArgs ?? {}) };
    const stdin = JSON.stringify(call.config);
    const env: Record<string, string | undefined> = {
      ...req.env,
      CNI_COMMAND: call.command,
      // As Calico (AddIgnoreUnknownArgs): the IPAM plugin must not refuse the Kubernetes pairs it does not know.
      CNI_ARGS: argsString({ IgnoreUnknown: '1', ...args }),
    };
    if (type === 'calico-ipam' && req.env.CALICO_CNI_IPAM_EXEC !== '1') {
      const handlers = await this.loadCalicoIpam(req, call.kubernetes);
      const sub: CniRequest = { ...req, command: call.command, args, config: call.config, stdin, env };
      try {
        switch (call.command) {
          case 'ADD':
            return normaliseResult(await handlers.add(sub));
          case 'DEL':
            await handlers.del(sub);
            return undefined;
          case 'CHECK':
            await handlers.check?.(sub);
            return undefined;
          case 'GC':
            await handlers.gc?.(sub);
            return undefined;
          case 'STATUS':
            await handlers.status?.(sub);
            return undefined;
          default:
            return undefined;
        }
      } catch (err) {
        throw asCniError(err);
      }
    }
    const binary = findPlugin(type, req.path);
    this.log(`exec IPAM ${binary} ${call.command}`);
    const r = await execPlugin(binary, env, stdin);
    if (r.code !== 0) {
      let parsed: { code?: number; msg?: string; details?: string } = {};
      try {
        parsed = JSON.parse(r.stdout);
      } catch {
        // not JSON
      }
      throw new CniError(
        typeof parsed.code === 'number' ? parsed.code : 999,
        parsed.msg ?? `IPAM plugin ${type} ${call.command} failed: ${(r.stdout + r.stderr).trim()}`,
        parsed.details,
      );
    }
    if (call.command !== 'ADD') return undefined;
    try {
      return normaliseResult(JSON.parse(r.stdout) as Record<string, unknown>);
    } catch (err) {
      throw new CniError(999, `IPAM plugin ${type} printed an unreadable result: ${(err as Error).message}`);
    }
  }
}
