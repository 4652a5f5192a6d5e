// A resident shell that starts short-lived process chains for this process (e.g. `nsenter --net=<pod> sh -c ...`):
// the shell forks them, so Node's own spawn — a fork of a large process that blocks the event loop for milliseconds —
// happens once, not per pod.
// Two kinds of work. Jobs: a script in, its exit code and combined output out, one after another; a job that runs
// longer than the job timeout fails and its shell is killed with all its children, and the jobs queued behind it run
// on a fresh shell. Waiting chains (bash only): a command started now that blocks reading its input from a pipe the
// shell holds; `feed` later writes the input straight into that pipe and the chain reports its exit code and output
// on the shell's stderr, so the chain's process starts overlap whatever the caller does meanwhile (IPAM, say).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, constants, openSync, realpathSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { holdOpen } from './resident-child.js';

export interface LaunchResult {
  code: number;
  output: string;
}

interface Job {
  id: number;
  script: string;
  /** Runs in the shell itself (not a subshell, output not redirected): it sets up or closes a chain's pipe. */
  raw?: boolean;
  resolve(r: LaunchResult): void;
  reject(err: Error): void;
}

/** Quotes a string for sh: single quotes, with each embedded single quote closed, escaped and reopened. */
export const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const MARKER = '@@calico-launcher-job';

/** How long one script may run before the launcher gives up on it (CALICO_CNI_LAUNCHER_TIMEOUT_MS overrides). */
export const DEFAULT_JOB_TIMEOUT_MS = 15_000;

/** A waiting chain not fed within this long is released (the caller then runs its work as a plain job). */
export const CHAIN_IDLE_MS = 120_000;

// The shell-side file descriptors of the chains' pipes: above those bash uses itself for saved descriptors when
// nothing is redirected, below 255 (bash's own).
const FIRST_CHAIN_FD = 20;
const LAST_CHAIN_FD = 250;

/** The chain could not take its input (it had exited, or its shell has): nothing of it ran; run it another way. */
export const NOT_STARTED = Symbol('not-started');

interface ChainState {
  id: number;
  fd: number;
  started: Promise<LaunchResult>;
  /** The start job's outcome once known: true when the shell holds the chain's pipe. */
  startedOk?: boolean;
  fed: boolean;
  closed: boolean;
  /** Input sent before the start job was confirmed, written once it is. */
  queued: string;
  report?: LaunchResult;
  onReport?: (r: LaunchResult) => void;
  onLost?: (why: string) => void;
  idleTimer?: NodeJS.Timeout;
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir.startsWith('/')) continue;
    try {
      return realpathSync(`${dir}/${name}`);
    } catch {
      // not there
    }
  }
  return undefined;
}

class LauncherProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private out = '';
  private err = '';
  private seq = 0;
  private readonly jobs: Job[] = [];
  private watchdog?: NodeJS.Timeout;
  private readonly chains = new Map<number, ChainState>();
  /** Chain fds open in the shell (a new chain or job closes them, so each pipe has one writer: the shell). */
  private readonly openFds = new Set<number>();
  private readonly freeFds: number[] = [];
  private nextFd = FIRST_CHAIN_FD;
  private chainSeq = 0;
  /** Long texts defined once as shell variables (bash reads a pipe byte by byte: long job lines cost). */
  private readonly definitions = new Map<string, string>();
  private readonly reportMarker = `@@calico-chain-${randomBytes(6).toString('hex')}`;
  private chainFunction = false;
  exited = false;

  constructor(
    shellPath: string,
    private readonly jobTimeoutMs: number,
    /** Called with the jobs that had not started when the head job timed out. */
    private readonly onTimedOut: (notStarted: Job[]) => void,
  ) {
    // Its own process group, so a timed-out job's children die with the shell. LC_ALL=C: ${#o} counts bytes.
    const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' };
    delete env.BASH_ENV;
    delete env.ENV;
    this.child = spawn(shellPath, ['-s'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env });
    this.child.stdout.on('data', (d: Buffer) => this.onStdout(d.toString()));
    this.child.stderr.on('data', (d: Buffer) => this.onStderr(d.toString('latin1')));
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
    this.updateRef();
    if (job.raw) {
      this.child.stdin.write(`${job.script}\necho "${MARKER} ${id} $?"\n`);
      return;
    }
    // In a subshell, so a script's `exit` ends only itself; its output (both streams) lands on our stdout,
    // followed by the marker with its exit code. The chains' pipes are not the script's to hold.
    this.child.stdin.write(`( ${this.closeOpenFds()}${job.script}\n) </dev/null 2>&1; echo "${MARKER} ${id} $?"\n`);
  }

  /**
   * Starts `command` (a simple command as shell text; `"$name"` of a definition may appear in it) with its stdin
   * on a pipe this shell holds; its exit code and combined output come back as a report on the shell's stderr.
   */
  startChain(command: string, idleLimit = true): ChainState | undefined {
    if (this.freeFds.length === 0 && this.nextFd > LAST_CHAIN_FD) return undefined; // that many waiting already
    const fd = this.freeFds.pop() ?? this.nextFd++;
    const id = ++this.chainSeq;
    if (!this.chainFunction) {
      // calico_chain ID COMMAND...: runs the command, then reports in one line, so in one write (bash flushes its
      // output at each newline) that other chains' reports cannot split: the output (at most 2,000 bytes of it),
      // backslashes and newlines escaped.
      this.chainFunction = true;
      const fn =
        'calico_chain() { local id=$1 o s; shift; o=$("$@" 2>&1); s=$?; ' +
        "o=${o:0:2000}; o=${o//\\\\/\\\\\\\\}; o=${o//$'\\n'/\\\\n}; " +
        `printf '%s %s %s %s\\n' ${this.reportMarker} "$id" "$s" "$o" >&2; }`;
      this.submit({ id: 0, script: fn, raw: true, resolve: () => {}, reject: () => {} });
    }
    const script = `exec ${fd}> >(${this.closeOpenFds()}calico_chain ${id} ${command})`;
    this.openFds.add(fd);
    const chain: ChainState = {
      id,
      fd,
      started: new Promise((resolve, reject) => this.submit({ id: 0, script, raw: true, resolve, reject })),
      fed: false,
      closed: false,
      queued: '',
    };
    chain.started.then(
      (r) => {
        chain.startedOk = r.code === 0;
        if (chain.startedOk && chain.queued && !this.flush(chain)) this.closeChain(chain);
      },
      () => (chain.startedOk = false),
    );
    this.chains.set(id, chain);
    if (idleLimit) {
      chain.idleTimer = setTimeout(() => this.closeChain(chain), CHAIN_IDLE_MS);
      chain.idleTimer.unref();
    }
    return chain;
  }

  /** A shell variable holding text (defined on first use: later jobs name it instead of repeating it). */
  define(text: string): string {
    let name = this.definitions.get(text);
    if (!name) {
      name = `calico_text_${this.definitions.size + 1}`;
      this.definitions.set(text, name);
      this.submit({ id: 0, script: `${name}=${shQuote(text)}`, raw: true, resolve: () => {}, reject: () => {} });
    }
    return name;
  }

  /** Writes part of the input now, or once the chain is known started; false when the chain cannot take it. */
  send(chain: ChainState, text: string): boolean {
    if (chain.startedOk === false || chain.fed || chain.closed || this.exited || chain.report) return false;
    chain.queued += text;
    if (!chain.startedOk) return true;
    if (this.flush(chain)) return true;
    this.closeChain(chain);
    return false;
  }

  async feed(chain: ChainState, input: string): Promise<LaunchResult | typeof NOT_STARTED> {
    // The input is written in the caller's own turn of the event loop when the chain is known started (the usual
    // case): whatever the caller does next synchronously (a datastore write, say) then runs beside the chain.
    if (chain.startedOk === undefined) await chain.started.catch(() => undefined);
    if (!chain.startedOk || chain.fed || chain.closed || this.exited || chain.report) return NOT_STARTED;
    chain.fed = true;
    clearTimeout(chain.idleTimer);
    chain.queued += input;
    if (!this.flush(chain)) {
      this.closeChain(chain);
      return NOT_STARTED;
    }
    const result = new Promise<LaunchResult>((resolve, reject) => {
      if (chain.report) return resolve(chain.report);
      chain.onReport = resolve;
      chain.onLost = (why) => reject(new Error(why));
    });
    this.closeChain(chain);
    const timer = setTimeout(() => this.timeOut(chain), this.jobTimeoutMs);
    this.updateRef();
    try {
      return await result;
    } finally {
      clearTimeout(timer);
      this.updateRef();
    }
  }

  /** Writes the queued input into the chain's pipe; false if the chain is gone (no reader left, or broken). */
  private flush(chain: ChainState): boolean {
    // The shell's end of the pipe, opened afresh: non-blocking, so a chain that has exited is ENXIO, not a hang.
    let fd: number;
    try {
      fd = openSync(`/proc/${this.child.pid}/fd/${chain.fd}`, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch {
      return false;
    }
    try {
      writeSync(fd, chain.queued);
      chain.queued = '';
      return true;
    } catch {
      return false;
    } finally {
      closeSync(fd);
    }
  }

  /** Closes the shell's end of the chain's pipe: an unfed chain reads end of input and exits. */
  closeChain(chain: ChainState): void {
    if (chain.closed) return;
    chain.closed = true;
    clearTimeout(chain.idleTimer);
    if (this.exited) return;
    this.openFds.delete(chain.fd);
    const fd = chain.fd;
    this.submit({
      id: 0,
      script: `exec ${fd}>&-`,
      raw: true,
      resolve: () => this.freeFds.push(fd),
      reject: () => {},
    });
  }

  close(): void {
    this.child.stdin.end();
  }

  private closeOpenFds(): string {
    return this.openFds.size ? `exec ${[...this.openFds].map((fd) => `${fd}>&-`).join(' ')}; ` : '';
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
    this.updateRef();
  }

  // Chain reports, one line each: `<marker> <id> <code> <output, backslashes and newlines escaped>`; anything else
  // here is the shell's own complaint.
  private onStderr(text: string): void {
    this.err += text;
    for (;;) {
      const at = this.err.indexOf(this.reportMarker);
      if (at < 0) {
        this.err = this.err.slice(-this.reportMarker.length);
        return;
      }
      const end = this.err.indexOf('\n', at);
      if (end < 0) return; // the rest has not arrived yet
      const m = /^ (\d+) (\d+) (.*)$/.exec(this.err.slice(at + this.reportMarker.length, end));
      this.err = this.err.slice(end + 1);
      const chain = m && this.chains.get(Number(m[1]));
      if (!m || !chain) continue;
      const output = Buffer.from(
        m[3]!.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\')),
        'latin1',
      );
      this.chains.delete(chain.id);
      chain.report = { code: Number(m[2]), output: output.toString() };
      chain.onReport?.(chain.report);
      if (!chain.closed) this.closeChain(chain);
    }
  }

  private fail(why: string): void {
    this.exited = true;
    this.disarm();
    for (const j of this.jobs.splice(0)) j.reject(new Error(why));
    this.loseChains(why);
  }

  private loseChains(why: string, culprit?: ChainState, culpritWhy?: string): void {
    for (const c of this.chains.values()) {
      clearTimeout(c.idleTimer);
      c.onLost?.(c === culprit && culpritWhy ? culpritWhy : why);
    }
    this.chains.clear();
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

  /** Kills the shell's group: the head job (or the given fed chain) ran longer than the job timeout. */
  private timeOut(culprit?: ChainState): void {
    const why = `pod-side script ran longer than ${this.jobTimeoutMs} ms and was killed`;
    const jobs = this.jobs.splice(0);
    const head = culprit ? undefined : jobs.shift();
    this.exited = true;
    this.disarm();
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    head?.reject(new Error(why));
    this.loseChains('launcher shell killed', culprit, why);
    // Raw jobs belong to this shell's chains, gone with it; the others run on a fresh shell.
    for (const j of jobs.filter((j) => j.raw)) j.reject(new Error('launcher shell killed'));
    this.onTimedOut(jobs.filter((j) => !j.raw));
  }

  // Idle, the shell must not keep a one-shot plugin process alive; with a job or a fed chain outstanding it must.
  private updateRef(): void {
    const busy = this.jobs.length > 0 || [...this.chains.values()].some((c) => c.fed && !c.report);
    holdOpen(this.child, busy);
  }

  private setRef(on: boolean): void {
    holdOpen(this.child, on);
  }
}

/** A chain started ahead of its input (see ShellLauncher.startChain). */
export interface WaitingChain {
  /**
   * Writes the input (the chain sees its end only once the launcher has closed its end of the pipe, just after:
   * a chain that must not wait for that ends its input with a line of its own) and resolves with the chain's exit code and output; or
   * NOT_STARTED when the chain is gone before reading anything (nothing of it ran).
   */
  feed(input: string): Promise<LaunchResult | typeof NOT_STARTED>;
  /** Writes the first part of the input (now, or once the chain is known started); false if it cannot take it. */
  send(text: string): boolean;
  /** Ends an unfed chain (it reads end of input); harmless after feed. */
  release(): void;
}

export class ShellLauncher {
  private proc?: LauncherProcess;
  private readonly shell: { path: string; bash: boolean };

  constructor(
    private readonly jobTimeoutMs = Number(process.env.CALICO_CNI_LAUNCHER_TIMEOUT_MS) || DEFAULT_JOB_TIMEOUT_MS,
    opts: { shell?: 'bash' | 'sh' } = {},
  ) {
    const bash = opts.shell === 'sh' ? undefined : findOnPath('bash');
    this.shell = bash ? { path: bash, bash: true } : { path: 'sh', bash: false };
  }

  /** True when chains can be started ahead of their input (the resident shell is bash). */
  get chains(): boolean {
    return this.shell.bash;
  }

  run(script: string): Promise<LaunchResult> {
    return new Promise((resolve, reject) => this.submit({ id: 0, script, resolve, reject }));
  }

  /**
   * Starts a command now, blocked reading its input: `command` gets, for each of `definitions` (long texts, defined
   * in the shell once), a double-quoted reference to it. Undefined when the shell cannot hold chains (no bash) or
   * holds as many as it can.
   */
  startChain(
    command: (texts: string[]) => string,
    definitions: string[] = [],
    opts: {
      /** Kept however long it waits (a pool's spare); else released after CHAIN_IDLE_MS. */ spare?: boolean;
    } = {},
  ): WaitingChain | undefined {
    if (!this.shell.bash) return undefined;
    const proc = this.process();
    const texts = definitions.map((d) => `"$${proc.define(d)}"`);
    const chain = proc.startChain(command(texts), !opts.spare);
    if (!chain) return undefined;
    return {
      feed: (input) => proc.feed(chain, input),
      send: (text) => proc.send(chain, text),
      release: () => proc.closeChain(chain),
    };
  }

  close(): void {
    this.proc?.close();
    this.proc = undefined;
  }

  private process(): LauncherProcess {
    if (!this.proc || this.proc.exited) {
      this.proc = new LauncherProcess(this.shell.path, this.jobTimeoutMs, (notStarted) =>
        notStarted.forEach((j) => this.submit(j)),
      );
    }
    return this.proc;
  }

  private submit(job: Job): void {
    this.process().submit(job);
  }
}

let shared: ShellLauncher | undefined;

/** The process-wide launcher. */
export function shellLauncher(): ShellLauncher {
  return (shared ??= new ShellLauncher());
}
