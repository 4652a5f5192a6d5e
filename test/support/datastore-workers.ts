// Spawns test/support/datastore-worker.ts child processes and collects their JSON-line output; kills by PID on stop.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatastoreSettings } from '../../src/datastore/settings.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

export interface WorkerHandle {
  child: ChildProcess;
  /** Parsed JSON lines printed so far. */
  lines: Record<string, any>[];
  /** Resolves when the first line matching pred arrives. */
  waitFor(pred: (line: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  /** Resolves with the exit code and stderr when the process ends. */
  exited: Promise<{ code: number | null; stderr: string }>;
  kill(): void;
}

export function startWorker(settings: DatastoreSettings, job: Record<string, unknown>): WorkerHandle {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(here, 'datastore-worker.ts'), JSON.stringify(settings), JSON.stringify(job)],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: Record<string, any>[] = [];
  const waiters: { pred: (l: Record<string, any>) => boolean; resolve: (l: Record<string, any>) => void }[] = [];
  let buf = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, nl)) as Record<string, any>;
      buf = buf.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pred(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stderr })),
  );
  return {
    child,
    lines,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    waitFor: (pred, timeoutMs = 20000) => {
      const found = lines.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`worker: no matching line within ${timeoutMs} ms; stderr: ${stderr}`)),
          timeoutMs,
        );
        void exited.then(({ code }) => {
          clearTimeout(timer);
          const again = lines.find(pred);
          if (again) resolve(again);
          else reject(new Error(`worker exited (${code}) without a matching line; stderr: ${stderr}`));
        });
        waiters.push({
          pred,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}
