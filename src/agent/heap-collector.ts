// A full garbage collection on demand, for after the agent's one-off allocation bursts (a cold start or re-list parses
// and renders the whole datastore): V8 leaves that garbage in the old generation until it reaches a limit sized for
// the burst, so the process would carry tens of MB it no longer uses. Node exposes gc() only behind --expose-gc; the
// flag can be turned on at run time and gc() taken from a fresh context, so the program needs no special start line.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/** Runs a full collection; returns the heap in use before and after (bytes) and how long it took (ms). */
export function collectGarbage(): { beforeBytes: number; afterBytes: number; ms: number } {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  const beforeBytes = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  gc();
  return { beforeBytes, afterBytes: process.memoryUsage().heapUsed, ms: performance.now() - t0 };
}
