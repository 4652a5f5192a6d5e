// Plugin-side phase marks for latency work (CALICO_CNI_TIMING=1): milliseconds since Node's own start, so a bench can
// split an invocation into process start, Node bootstrap, bundle load, checks, the agent round trip and exit.
const marks: [string, number][] = [];

export function markPhase(name: string): void {
  marks.push([name, performance.now()]);
}

/** One stderr line: `calico timing: origin=<epoch ms> bootstrap=<ms> <mark>=<ms> ...`. */
export function phaseReport(): string {
  const parts = [`origin=${performance.timeOrigin.toFixed(3)}`];
  parts.push(`bootstrap=${performance.nodeTiming.bootstrapComplete.toFixed(2)}`);
  for (const [name, t] of marks) parts.push(`${name}=${t.toFixed(2)}`);
  return `calico timing: ${parts.join(' ')}\n`;
}
