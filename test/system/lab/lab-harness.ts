// Drives a lab for system tests through the built `calico-lab` program, exactly as a user would, in a lab directory
// and with a namespace prefix of its own so it never meets a user's lab.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { probeMatrix } from '../../../src/lab/probe.js';
import { matrixDifferences, formatMatrix, type Matrix } from '../../../src/lab/matrix.js';
import { listPodRecords } from '../../../src/lab/pod-record.js';
import type { Probe } from './netpol-world.js';

export const CALICO_LAB = path.resolve(
  import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname),
  '../../../dist/bin/calico-lab',
);

export class TestLab {
  readonly labDir: string;
  constructor(readonly prefix: string) {
    this.labDir = mkdtempSync(path.join(tmpdir(), `${prefix}lab-`));
  }

  run(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
    const r = spawnSync(CALICO_LAB, args, {
      input,
      env: { ...process.env, CALICO_LAB_DIR: this.labDir },
      encoding: 'utf8',
      timeout: 240_000,
    });
    return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  mustRun(args: string[], input?: string): string {
    const r = this.run(args, input);
    if (r.code !== 0) throw new Error(`calico-lab ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  up(extra: string[]): void {
    this.mustRun(['up', '--lab-dir', this.labDir, '--prefix', this.prefix, ...extra]);
  }

  down(): string {
    return this.run(['down', '--lab-dir', this.labDir, '--prefix', this.prefix]).stdout;
  }

  apply(yaml: string): void {
    this.mustRun(['apply', '-f', '-', '--lab-dir', this.labDir], yaml);
  }

  delete(yaml: string): void {
    this.mustRun(['delete', '-f', '-', '--lab-dir', this.labDir], yaml);
  }

  pods() {
    return listPodRecords(this.labDir);
  }

  async waitForPods(count: number, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pods().filter((p) => p.ips.length > 0).length < count) {
      if (Date.now() > deadline)
        throw new Error(`only ${this.pods().filter((p) => p.ips.length).length} of ${count} pods got addresses`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Probes until every probe's matrix equals its expectation; returns the time taken, or throws with the differences. */
  async waitForMatrices(
    expect: { probe: Probe; matrix: Matrix }[],
    timeoutMs = 20_000,
    since = Date.now(),
  ): Promise<number> {
    const started = since;
    let problems: string[] = [];
    let last = '';
    while (Date.now() - started < timeoutMs) {
      // A round observes the dataplane when its packets leave, so its start time is when the matrix held.
      const roundStart = Date.now();
      problems = [];
      for (const { probe, matrix } of expect) {
        const actual = await probeMatrix(this.labDir, { port: probe.port, protocol: probe.protocol, timeoutMs: 250 });
        const diff = matrixDifferences(matrix, actual);
        if (diff.length) {
          problems.push(...diff.map((d) => `${probe.protocol}/${probe.port} ${d}`));
          last = `${probe.protocol}/${probe.port}:\n${formatMatrix(actual)}`;
          break;
        }
      }
      if (problems.length === 0) return roundStart - started;
    }
    throw new Error(`matrix not as expected after ${timeoutMs} ms:\n  ${problems.join('\n  ')}\nlast matrix ${last}`);
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
}
