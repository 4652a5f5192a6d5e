// A resident helper process (ip -batch, the launcher shell) must keep the event loop alive while it owes an answer,
// and must not hold a one-shot plugin process open when idle.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';

interface Refable {
  ref?(): void;
  unref?(): void;
}

/** ref (on) or unref (off) the child and its three pipes. */
export function holdOpen(child: ChildProcessWithoutNullStreams, on: boolean): void {
  for (const h of [child.stdin, child.stdout, child.stderr, child] as unknown as Refable[]) {
    if (on) h.ref?.();
    else h.unref?.();
  }
}
