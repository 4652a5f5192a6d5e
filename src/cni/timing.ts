// Plugin-side phase marks for latency work (CALICO_CNI_TIMING=1): milliseconds since Node's own start, so a bench can
// split an invocation into process start, Node bootstrap, bundle load, checks, the agent round trip and exit.
// Marks are taken with process.hrtime (no module load); `performance` (perf_hooks and a dozen internal modules, ~1 ms
// at first touch) is read only when the report is asked for.
import { builtinNow } from './builtin.js';

const marks: [string, bigint][] = [];

export function markPhase(name: string): void {
  marks.push([name, process.hrtime.bigint()]);
}

/** One stderr line: `calico timing: origin=<epoch ms> bootstrap=<ms> <mark>=<ms> ...`. */
export function phaseReport(): string {
  const performance =
    builtinNow<typeof import('node:perf_hooks')>('node:perf_hooks')?.performance ?? globalThis.performance;
  // One clock read on each side of performance.now() places hrtime marks on its timeline.
  const sinceStart = (t: bigint, now: bigint, nowMs: number): number => nowMs - Number(now - t) / 1e6;
  const hrNow = process.hrtime.bigint();
  const perfNow = performance.now();
  const parts = [`origin=${performance.timeOrigin.toFixed(3)}`];
  parts.push(`bootstrap=${performance.nodeTiming.bootstrapComplete.toFixed(2)}`);
  for (const [name, t] of marks) parts.push(`${name}=${sinceStart(t, hrNow, perfNow).toFixed(2)}`);
  return `calico timing: ${parts.join(' ')}\n`;
}
