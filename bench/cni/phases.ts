// Timed plugin calls for the CNI benches: a spawn timed from the parent's side, and the plugin's own phase marks
// (its `calico timing:` line, CALICO_CNI_TIMING=1) turned into sequential phase durations in ms.
import { spawn } from 'node:child_process';

export interface Timed {
  ms: number;
  code: number;
  out: string;
  stderr: string;
  /** Wall-clock epoch ms at spawn and at exit, to place a plugin's marks in the older epoch format in time. */
  spawnAt: number;
  exitAt: number;
  /** CLOCK_MONOTONIC ms (process.hrtime) at spawn and at exit: the plugin's marks are on this clock. */
  spawnHr: number;
  exitHr: number;
}

const hrMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export function timeSpawn(cmd: string[], env: Record<string, string>, stdin: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const spawnAt = performance.timeOrigin + performance.now();
    const spawnHr = hrMs();
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd[0]!, cmd.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        ms: Number(process.hrtime.bigint() - t0) / 1e6,
        code: code ?? 1,
        out: out + stderr,
        stderr,
        spawnAt,
        exitAt: performance.timeOrigin + performance.now(),
        spawnHr,
        exitHr: hrMs(),
      }),
    );
    // A program that exits without reading its stdin must not crash us with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}

/**
 * The plugin's own phases from its `calico timing:` line, as durations in ms. This tree's plugin marks on
 * CLOCK_MONOTONIC from Node's start (`start`, `loaded` when the bundle's modules begin to run; `bootstrap` only with
 * CALICO_CNI_TIMING=2); an older tree's on the epoch clock (`origin`, `bootstrap`), where the report itself loaded
 * perf_hooks after `done` (~1-1.5 ms counted in "exit to reaped").
 */
export function pluginPhases(t: Timed): Record<string, number> | undefined {
  const m = /calico timing: (.*)/.exec(t.stderr);
  if (!m) return undefined;
  const v: Record<string, number> = {};
  for (const kv of m[1]!.trim().split(' ')) {
    const [name, value] = kv.split('=');
    v[name!] = Number(value);
  }
  const { entry, checked, sent, reply, done } = v;
  if ([entry, checked, sent, reply, done].some((x) => x === undefined || Number.isNaN(x))) return undefined;
  const tail = {
    'checks (env, stdin, config)': checked! - entry!,
    'socket set-up, connect, send': sent! - checked!,
    'agent round trip': reply! - sent!,
    'result out': done! - reply!,
  };
  if (v.start !== undefined && v.loaded !== undefined) {
    return {
      'exec to Node start': v.start - t.spawnHr,
      'Node start to entry': entry!,
      '  of which the modules run': entry! - v.loaded,
      ...tail,
      'exit to reaped': t.exitHr - (v.start + done!),
    };
  }
  const { origin, bootstrap } = v;
  if (origin === undefined || bootstrap === undefined) return undefined;
  return {
    'exec to Node start': origin - t.spawnAt,
    'Node start to entry': entry!,
    '  of which after bootstrapComplete': entry! - bootstrap,
    ...tail,
    'exit to reaped': t.exitAt - (origin + done!),
  };
}
