// Test world for the CNI system tests: builds the calico plugin bundle, a node namespace (no link to the root
// namespace) with an address on lo, pod namespaces, a SQLite datastore file, and runs the plugin exactly as a
// runtime does (env + stdin, inside the node namespace). Everything is removed by destroy(), also after failures.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

/** Bundles src/bin/calico.ts (as scripts/build.mjs does) into dir/calico and dir/calico-ipam. */
export async function buildPlugin(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const outfile = path.join(dir, 'calico');
  for (const program of ['calico', 'calico-plugin-core']) {
    await build({
      entryPoints: [path.join(ROOT, `src/bin/${program}.ts`)],
      outfile: path.join(dir, program),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['better-sqlite3', 'etcd3', '@kubernetes/client-node', 'pino', 'prom-client', 'node-forge'],
      logLevel: 'warning',
      define: { 'import.meta.url': '__calico_import_meta_url' },
      banner: {
        js: '#!/usr/bin/env node\nconst __calico_import_meta_url = require("url").pathToFileURL(__filename).href;',
      },
    });
    chmodSync(path.join(dir, program), 0o755);
  }
  copyFileSync(outfile, path.join(dir, 'calico-ipam'));
  chmodSync(path.join(dir, 'calico-ipam'), 0o755);
  // External packages resolve from the repository's node_modules.
  if (!existsSync(path.join(dir, 'node_modules'))) {
    execFileSync('ln', ['-s', path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules')]);
  }
  return outfile;
}

export const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
export const inNs = (ns: string, cmd: string[]): string =>
  execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' });
export const tryInNs = (ns: string, cmd: string[]) =>
  spawnSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' });

export interface CniCall {
  command: string;
  containerId?: string;
  netns?: string;
  ifName?: string;
  args?: string;
  config: Record<string, unknown>;
  env?: Record<string, string>;
}

export interface CniOutcome {
  code: number;
  stdout: string;
  stderr: string;
  json?: any;
}

export class CniWorld {
  readonly dir: string;
  readonly nodeNs: string;
  readonly pods: string[] = [];
  readonly binDir: string;
  readonly nodeAddr4 = '10.123.0.1';
  readonly nodeAddr6 = 'fd12:3::1';
  private seq = 0;
  private readonly children = new Set<number>();

  private constructor(readonly prefix: string) {
    this.dir = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
    this.nodeNs = `${prefix}-node`;
    this.binDir = path.join(this.dir, 'bin');
  }

  /** prefix (`tc` unless given) + a short tag unique per test file (namespace and link names start with it). */
  static async create(tag: string, prefix = 'tc'): Promise<CniWorld> {
    const w = new CniWorld(`${prefix}${tag}${process.pid % 10000}`);
    try {
      await buildPlugin(w.binDir);
      ip('netns', 'add', w.nodeNs);
      ip('-n', w.nodeNs, 'link', 'set', 'lo', 'up');
      ip('-n', w.nodeNs, 'addr', 'add', `${w.nodeAddr4}/32`, 'dev', 'lo');
      ip('-n', w.nodeNs, '-6', 'addr', 'add', `${w.nodeAddr6}/128`, 'dev', 'lo');
      inNs(w.nodeNs, ['sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
      writeFileSync(path.join(w.dir, 'nodename'), 'tc-node-1\n');
    } catch (err) {
      await w.destroy();
      throw err;
    }
    return w;
  }

  get nodenameFile(): string {
    return path.join(this.dir, 'nodename');
  }
  get sqlitePath(): string {
    return path.join(this.dir, 'calico.db');
  }
  get socketPath(): string {
    return path.join(this.dir, 'cni-server.sock');
  }

  /** A fresh pod namespace; returns its path. */
  addPod(): { name: string; netns: string } {
    const name = `${this.prefix}-p${++this.seq}`;
    ip('netns', 'add', name);
    ip('-n', name, 'link', 'set', 'lo', 'up');
    this.pods.push(name);
    return { name, netns: `/var/run/netns/${name}` };
  }

  removePod(name: string): void {
    spawnSync('ip', ['netns', 'del', name]);
    const i = this.pods.indexOf(name);
    if (i >= 0) this.pods.splice(i, 1);
  }

  /** A base calico netconf for this world (SQLite datastore, files in the temp dir). */
  netconf(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      cniVersion: '1.0.0',
      name: 'tc-net',
      type: 'calico',
      datastore_type: 'sqlite',
      sqlite_path: this.sqlitePath,
      nodename_file: this.nodenameFile,
      agent_socket: this.socketPath,
      ipam_lock_file: path.join(this.dir, 'ipam.lock'),
      mtu: 1400,
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.124.0.0/24' }]], dataDir: path.join(this.dir, 'host-local') },
      log_file_path: path.join(this.dir, 'cni.log'),
      ...extra,
    };
  }

  /** Runs the plugin in the node namespace as a runtime does. */
  run(call: CniCall, program = 'calico'): Promise<CniOutcome> {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: call.command,
      CNI_PATH: `${this.binDir}:/usr/lib/cni`,
      CALICO_CNI_HANDOFF: 'never',
      ...(call.containerId !== undefined ? { CNI_CONTAINERID: call.containerId } : {}),
      ...(call.netns !== undefined ? { CNI_NETNS: call.netns } : {}),
      ...(call.ifName !== undefined ? { CNI_IFNAME: call.ifName } : {}),
      ...(call.args !== undefined ? { CNI_ARGS: call.args } : {}),
      ...(call.env ?? {}),
    };
    return new Promise((resolve, reject) => {
      const bin = path.isAbsolute(program)
        ? program
        : existsSync(path.join(this.binDir, program))
          ? path.join(this.binDir, program)
          : path.join('/usr/lib/cni', program);
      const child = spawn('nsenter', [`--net=/var/run/netns/${this.nodeNs}`, bin], {
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      this.children.add(child.pid!);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => {
        this.children.delete(child.pid!);
        const out: CniOutcome = { code: code ?? 1, stdout, stderr };
        if (stdout.trim()) {
          try {
            out.json = JSON.parse(stdout);
          } catch {
            // left for the assertion to show
          }
        }
        resolve(out);
      });
      // A program that exits without reading its stdin must not crash us with EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(JSON.stringify(call.config));
    });
  }

  /** Starts a process in the node namespace and remembers its PID for destroy(). */
  spawnInNode(cmd: string[], env: Record<string, string> = {}) {
    const child = spawn('nsenter', [`--net=/var/run/netns/${this.nodeNs}`, ...cmd], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child.pid!);
    child.on('exit', () => this.children.delete(child.pid!));
    return child;
  }

  /** Links in the node namespace whose name starts with `cali`. */
  hostVeths(): string[] {
    const links = JSON.parse(ip('-j', '-n', this.nodeNs, 'link', 'show')) as { ifname: string }[];
    return links.map((l) => l.ifname).filter((n) => n.startsWith('cali'));
  }

  hostRoutes(): string[] {
    const r4 = JSON.parse(ip('-j', '-n', this.nodeNs, 'route', 'show')) as { dst: string; dev: string }[];
    const r6 = JSON.parse(ip('-j', '-n', this.nodeNs, '-6', 'route', 'show')) as { dst: string; dev: string }[];
    return [...r4, ...r6].filter((r) => r.dev?.startsWith('cali')).map((r) => `${r.dst} dev ${r.dev}`);
  }

  async destroy(): Promise<void> {
    for (const pid of this.children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const p of [...this.pods]) this.removePod(p);
    spawnSync('ip', ['netns', 'del', this.nodeNs]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts `cmd` in the world's node namespace and resolves with its stdout once a line matches `ready` (rejects when
 * the process exits or stays silent for `timeoutMs`, with its stderr).
 */
async function startReadyInNode(
  w: CniWorld,
  what: string,
  cmd: string[],
  ready: RegExp,
  timeoutMs: number,
  env: Record<string, string> = {},
): Promise<{ child: ReturnType<CniWorld['spawnInNode']>; match: RegExpExecArray; stderr: () => string }> {
  const child = w.spawnInNode(cmd, env);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${stderr}`)), timeoutMs);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    child.on('exit', (code) => reject(new Error(`${what} exited ${code}: ${stderr}`)));
  });
  return { child, match, stderr: () => stderr };
}

/** Starts the CNI hand-off server in the world's node namespace; resolves once it listens. */
export async function startAgent(
  w: CniWorld,
  env: Record<string, string> = {},
): Promise<{ stop(): Promise<void>; log(): string; pid: number }> {
  const { child, stderr } = await startReadyInNode(
    w,
    'agent',
    ['node', '--import', 'tsx', path.join(ROOT, 'test/system/cni/agent-main.ts'), w.socketPath],
    /ready/,
    20_000,
    env,
  );
  return {
    pid: child.pid!,
    log: stderr,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Starts the lab's Kubernetes API server (test/system/cni/apiserver-main.ts of the tree at `root`) in the node
 * namespace (ended by w.destroy()); resolves with the path of its admin kubeconfig once it serves.
 */
export async function startLabApiServer(w: CniWorld, root = ROOT): Promise<string> {
  const kubeconfig = path.join(w.dir, 'admin.kubeconfig');
  const main = path.join(root, 'test/system/cni/apiserver-main.ts');
  await startReadyInNode(w, 'API server', ['node', '--import', 'tsx', main, kubeconfig], /ready/, 60_000);
  return kubeconfig;
}

/**
 * Starts the fake API server (test/system/cni/fake-apiserver.ts) serving the objects in `dataFile` in the node
 * namespace; resolves with the path of a kubeconfig for it (user `calico`, token `tc-token`).
 */
export async function startFakeApiServer(w: CniWorld, dataFile: string): Promise<string> {
  const caFile = path.join(w.dir, 'fake-ca.crt');
  const main = path.join(ROOT, 'test/system/cni/fake-apiserver.ts');
  const { match } = await startReadyInNode(
    w,
    'fake API server',
    ['node', '--import', 'tsx', main, dataFile, caFile],
    /ready (\d+)/,
    30_000,
  );
  const kubeconfig = path.join(w.dir, 'calico-kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: https://127.0.0.1:${match[1]}\n` +
      `    certificate-authority: ${caFile}\nusers:\n- name: calico\n  user:\n    token: tc-token\ncontexts:\n` +
      `- name: calico-context\n  context:\n    cluster: local\n    user: calico\ncurrent-context: calico-context\n`,
  );
  return kubeconfig;
}

/** Runs a network config list as libcni does: ADD in order passing prevResult, DEL in reverse. */
export async function runConflist(
  w: CniWorld,
  conflist: { name: string; cniVersion: string; plugins: Record<string, unknown>[] },
  command: 'ADD' | 'DEL' | 'CHECK',
  call: Omit<CniCall, 'command' | 'config'>,
  runtimeConfig: Record<string, unknown> = {},
  cached?: unknown,
): Promise<{ result?: any; failures: CniOutcome[] }> {
  const plugins = command === 'DEL' ? [...conflist.plugins].reverse() : conflist.plugins;
  let prev: unknown = command === 'ADD' ? undefined : cached;
  const failures: CniOutcome[] = [];
  for (const p of plugins) {
    const caps = (p.capabilities ?? {}) as Record<string, boolean>;
    const rc: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(runtimeConfig)) if (caps[k]) rc[k] = v;
    const conf: Record<string, unknown> = { ...p, name: conflist.name, cniVersion: conflist.cniVersion };
    delete conf.capabilities;
    if (Object.keys(rc).length) conf.runtimeConfig = rc;
    if (prev !== undefined) conf.prevResult = prev;
    const program = String(p.type);
    const out = await w.run({ ...call, command, config: conf }, program);
    if (out.code !== 0) {
      failures.push(out);
      if (command !== 'DEL') return { failures };
    } else if (command === 'ADD') prev = out.json;
  }
  return { result: prev, failures };
}
