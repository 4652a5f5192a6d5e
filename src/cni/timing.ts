// Plugin-side phase marks for latency work (CALICO_CNI_TIMING=1): milliseconds since Node's own start, so a bench can
// split an invocation into process start, Node's start with the bundle's compile, the bundle's run, checks, the agent
// round trip and exit. Marks are process.hrtime reads (CLOCK_MONOTONIC, the clock a parent bench reads too); the start
// comes from process.uptime(). `performance` (perf_hooks and a dozen internal modules, ~1-1.5 ms at first touch, which
// the report used to pay after the `done` mark and so inside "exit") is read only with CALICO_CNI_TIMING=2, for
// Node's own bootstrapComplete.
import { builtinNow } from './builtin.js';

// Evaluated when the bundle starts running its modules (program.ts imports this module first).
const marks: [string, bigint][] = [['loaded', process.hrtime.bigint()]];

export function markPhase(name: string): void {
  marks.push([name, process.hrtime.bigint()]);
}

/**
 * One stderr line: `calico timing: clock=monotonic start=<ms> loaded=<ms> <mark>=<ms> ...`: `start` is Node's
 * start on CLOCK_MONOTONIC, each mark ms since then. With `detail` (CALICO_CNI_TIMING=2) also `bootstrap=<ms>`,
 * perf_hooks' bootstrapComplete.
 */
export function phaseReport(detail = false): string {
  const now = process.hrtime.bigint();
  const start = now - BigInt(Math.round(process.uptime() * 1e9));
  const since = (t: bigint): string => (Number(t - start) / 1e6).toFixed(2);
  const parts = ['clock=monotonic', `start=${(Number(start) / 1e6).toFixed(3)}`];
  if (detail) {
    const performance =
      builtinNow<typeof import('node:perf_hooks')>('node:perf_hooks')?.performance ?? globalThis.performance;
    parts.push(`bootstrap=${performance.nodeTiming.bootstrapComplete.toFixed(2)}`);
  }
  for (const [name, t] of marks) parts.push(`${name}=${since(t)}`);
  return `calico timing: ${parts.join(' ')}\n`;
}
