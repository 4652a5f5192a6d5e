// A resident `sh` that runs short scripts for this process (e.g. `nsenter --net=<pod> sh -c ...`): the shell forks
// them, so Node's own spawn — a fork of a large process that blocks the event loop for milliseconds — happens once,
// not per pod. In: a script; out: its exit code and combined output. Scripts run one after another.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export interface LaunchResult {
  code: number;
  output: string;
}

interface Job {
  id: number;
  resolve(r: LaunchResult): void;
  reject(err: Error): void;
}

/** Quotes a string for sh: single quotes, with each embedded single quote closed, escaped and reopened. */
export const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const MARKER = '@@calico-launcher-job';

class LauncherProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private out = '';
  private seq = 0;
  private readonly jobs: Job[] = [];
  exited = false;

  constructor() {
    this.child = spawn('sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d: Buffer) => this.onStdout(d.toString()));
    this.child.stderr.resume(); // the shell's own complaints; a job's go to stdout
    this.child.stdin.on('error', () => {}); // reported by 'close'
    const fail = (why: string) => {
      this.exited = true;
      for (const j of this.jobs.splice(0)) j.reject(new Error(`launcher shell ended: ${why}`));
    };
    this.child.on('error', (e) => fail(e.message));
    this.child.on('close', (code, signal) => fail(`exit ${code ?? signal}`));
    this.setRef(false);
  }

  run(script: string): Promise<LaunchResult> {
    return new Promise((resolve, reject) => {
      const id = ++this.seq;
      this.jobs.push({ id, resolve, reject });
      this.setRef(true);
      // In a subshell, so a script's `exit` ends only itself; its output (both streams) lands on our stdout,
      // followed by the marker with its exit code.
      this.child.stdin.write(`( ${script}\n) </dev/null 2>&1; echo "${MARKER} ${id} $?"\n`);
    });
  }

  close(): void {
    this.child.stdin.end();
  }

  private onStdout(text: string): void {
    this.out += text;
    const marker = new RegExp(`${MARKER} (\\d+) (\\d+)\\n`, 'g');
    let consumed = 0;
    for (let m = marker.exec(this.out); m; m = marker.exec(this.out)) {
      const output = this.out.slice(consumed, m.index);
      consumed = marker.lastIndex;
      const job = this.jobs.shift();
      if (job && job.id === Number(m[1])) job.resolve({ code: Number(m[2]), output });
    }
    this.out = this.out.slice(consumed);
    if (this.jobs.length === 0) this.setRef(false);
  }

  // Idle, the shell must not keep a one-shot plugin process alive; with a job outstanding it must.
  private setRef(on: boolean): void {
    for (const h of [this.child.stdin, this.child.stdout, this.child.stderr, this.child] as unknown as Refable[]) {
      if (on) h.ref?.();
      else h.unref?.();
    }
  }
}

interface Refable {
  ref?(): void;
  unref?(): void;
}

export class ShellLauncher {
  private proc?: LauncherProcess;

  run(script: string): Promise<LaunchResult> {
    if (!this.proc || this.proc.exited) this.proc = new LauncherProcess();
    return this.proc.run(script);
  }

  close(): void {
    this.proc?.close();
    this.proc = undefined;
  }
}

let shared: ShellLauncher | undefined;

/** The process-wide launcher. */
export function shellLauncher(): ShellLauncher {
  return (shared ??= new ShellLauncher());
}
