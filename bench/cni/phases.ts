// Timed plugin calls for the CNI benches: a spawn timed from the parent's side, and the plugin's own phase marks
// (its `calico timing:` line, CALICO_CNI_TIMING=1) turned into sequential phase durations in ms.
import { spawn } from 'node:child_process';

export interface Timed {
  ms: number;
  code: number;
  out: string;
  stderr: string;
  /** Wall-clock epoch ms at spawn and at exit, to place the plugin's own marks (CALICO_CNI_TIMING) in time. */
  spawnAt: number;
  exitAt: number;
}

export function timeSpawn(cmd: string[], env: Record<string, string>, stdin: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const spawnAt = performance.timeOrigin + performance.now();
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
      }),
    );
    // A program that exits without reading its stdin must not crash us with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
}

/** The plugin's own phases from its `calico timing:` line, as durations in ms. */
export function pluginPhases(t: Timed): Record<string, number> | undefined {
  const m = /calico timing: (.*)/.exec(t.stderr);
  if (!m) return undefined;
  const v: Record<string, number> = {};
  for (const kv of m[1]!.trim().split(' ')) {
    const [name, value] = kv.split('=');
    v[name!] = Number(value);
  }
  const { origin, bootstrap, entry, checked, sent, reply, done } = v;
  if ([origin, bootstrap, entry, checked, sent, reply, done].some((x) => x === undefined || Number.isNaN(x)))
    return undefined;
  return {
    'exec to Node start': origin! - t.spawnAt,
    'Node bootstrap': bootstrap!,
    'bundle load': entry! - bootstrap!,
    'checks (env, stdin, config)': checked! - entry!,
    'socket set-up, connect, send': sent! - checked!,
    'agent round trip': reply! - sent!,
    'result out': done! - reply!,
    'exit to reaped': t.exitAt - (origin! + done!),
  };
}
