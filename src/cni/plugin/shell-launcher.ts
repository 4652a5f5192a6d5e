// A resident `sh` that runs short scripts for this process (e.g. `nsenter --net=<pod> sh -c ...`): the shell forks
// them, so Node's own spawn — a fork of a large process that blocks the event loop for milliseconds — happens once,
// not per pod. In: a script; out: its exit code and combined output. Scripts run one after another. A script that
// runs longer than the job timeout (a hung nsenter, say) fails, and its shell is killed with all its children; the
// scripts queued behind it, not started yet, run on a fresh shell — a hung pod never stalls the others.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { holdOpen } from './resident-child.js';

export interface LaunchResult {
  code: number;
  output: string;
}

interface Job {
  id: number;
  script: string;
  resolve(r: LaunchResult): void;
  reject(err: Error): void;
}

/** Quotes a string for sh: single quotes, with each embedded single quote closed, escaped and reopened. */
export const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const MARKER = '@@calico-launcher-job';

/** How long one script may run before the launcher gives up on it (CALICO_CNI_LAUNCHER_TIMEOUT_MS overrides). */
export const DEFAULT_JOB_TIMEOUT_MS = 15_000;

class LauncherProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private out = '';
  private seq = 0;
  private readonly jobs: Job[] = [];
  private watchdog?: NodeJS.Timeout;
  exited = false;

  constructor(
    private readonly jobTimeoutMs: number,
    /** Called with the jobs that had not started when the head job timed out. */
    private readonly onTimedOut: (notStarted: Job[]) => void,
  ) {
    // Its own process group, so a timed-out job's children die with the shell.
    this.child = spawn('sh', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child.stdout.on('data', (d: Buffer) => this.onStdout(d.toString()));
    this.child.stderr.resume(); // the shell's own complaints; a job's go to stdout
    this.child.stdin.on('error', () => {}); // reported by 'close'
    this.child.on('error', (e) => this.fail(`launcher shell ended: ${e.message}`));
    this.child.on('close', (code, signal) => this.fail(`launcher shell ended: exit ${code ?? signal}`));
    this.setRef(false);
  }

  submit(job: Job): void {
    if (this.exited) return job.reject(new Error('launcher shell ended'));
    const id = ++this.seq;
    this.jobs.push({ ...job, id });
    if (this.jobs.length === 1) this.arm();
    this.setRef(true);
    // In a subshell, so a script's `exit` ends only itself; its output (both streams) lands on our stdout,
    // followed by the marker with its exit code.
    this.child.stdin.write(`( ${job.script}\n) </dev/null 2>&1; echo "${MARKER} ${id} $?"\n`);
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
      this.arm();
    }
    this.out = this.out.slice(consumed);
    if (this.jobs.length === 0) this.setRef(false);
  }

  private fail(why: string): void {
    this.exited = true;
    this.disarm();
    for (const j of this.jobs.splice(0)) j.reject(new Error(why));
  }

  /** The head job's deadline: set when a job reaches the head of the queue. */
  private arm(): void {
    this.disarm();
    if (this.jobs.length === 0) return;
    this.watchdog = setTimeout(() => this.timeOut(), this.jobTimeoutMs);
  }

  private disarm(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private timeOut(): void {
    const [head, ...notStarted] = this.jobs.splice(0);
    this.exited = true;
    this.disarm();
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    head?.reject(new Error(`pod-side script ran longer than ${this.jobTimeoutMs} ms and was killed`));
    this.onTimedOut(notStarted);
  }

  // Idle, the shell must not keep a one-shot plugin process alive; with a job outstanding it must.
  private setRef(on: boolean): void {
    holdOpen(this.child, on);
  }
}

export class ShellLauncher {
  private proc?: LauncherProcess;

  constructor(
    private readonly jobTimeoutMs = Number(process.env.CALICO_CNI_LAUNCHER_TIMEOUT_MS) || DEFAULT_JOB_TIMEOUT_MS,
  ) {}

  run(script: string): Promise<LaunchResult> {
    return new Promise((resolve, reject) => this.submit({ id: 0, script, resolve, reject }));
  }

  close(): void {
    this.proc?.close();
    this.proc = undefined;
  }

  private submit(job: Job): void {
    if (!this.proc || this.proc.exited) {
      this.proc = new LauncherProcess(this.jobTimeoutMs, (notStarted) => notStarted.forEach((j) => this.submit(j)));
    }
    this.proc.submit(job);
  }
}

let shared: ShellLauncher | undefined;

/** The process-wide launcher. */
export function shellLauncher(): ShellLauncher {
  return (shared ??= new ShellLauncher());
}
