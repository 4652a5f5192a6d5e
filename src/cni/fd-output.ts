// Output for the plugin process straight to file descriptors 1 and 2. Creating process.stdout/stderr builds a stream
// (about a millisecond of start-up per invocation); a CNI plugin writes one small document, so a write(2) loop does.
import { writeSync } from 'node:fs';

const pause = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `text` to `fd`, waiting out EAGAIN when the runtime handed us a non-blocking pipe. */
export function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text);
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}
