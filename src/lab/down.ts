// Takes the lab down: every process it recorded (checked by start time, so a reused PID is never killed), every
// namespace with the lab's prefix (with whatever still runs inside), and the lab directory. Works from the state
// file alone, so it also cleans up after a crash in the middle of `up`.
import { rmSync } from 'node:fs';
import { deleteNetns, listNetns } from './network.js';
import { isSameProcess, stopProcess } from './processes.js';
import { loadState } from './state.js';

export async function labDown(labDir: string, prefix: string): Promise<string[]> {
  const removed: string[] = [];
  const state = loadState(labDir);
  const effectivePrefix = state?.options.prefix ?? prefix;
  for (const p of [...(state?.processes ?? [])].reverse()) {
    if (isSameProcess(p.pid, p.startTicks)) {
      await stopProcess(p.pid, 1500);
      removed.push(`process ${p.role} (${p.pid})`);
    }
  }
  // Pod namespaces first, then nodes, then the underlay (its bridge goes with it).
  const namespaces = new Set([...(state?.netns ?? []), ...(await listNetns(effectivePrefix))]);
  const order = [...namespaces].sort((a, b) => rank(a, effectivePrefix) - rank(b, effectivePrefix));
  for (const ns of order) {
    await deleteNetns(ns);
    removed.push(`netns ${ns}`);
  }
  // Only a directory that holds a lab state is removed: a mistyped --lab-dir must never delete anything else.
  if (state) rmSync(labDir, { recursive: true, force: true });
  return removed;
}

function rank(ns: string, prefix: string): number {
  if (ns === `${prefix}ul`) return 2;
  if (/^n\d+$/.test(ns.slice(prefix.length))) return 1;
  return 0;
}
