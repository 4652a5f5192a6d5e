// A resident `ip -force -batch -` in this process's own network namespace: host-side link and route commands go to
// it over a pipe instead of costing a process start each. In: groups of iproute2 batch lines; out: the lines that
// failed with iproute2's message. iproute2 reports `Command failed -:<line>` on stderr for each failing line, so every
// group ends with a sentinel line that always fails: its report means the whole group has been processed.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { holdOpen } from './resident-child.js';

export interface IpFailure {
  command: string;
  message: string;
}

interface Group {
  first: number;
  sentinel: number;
  commands: string[];
  failures: IpFailure[];
  resolve(failures: IpFailure[]): void;
  reject(err: Error): void;
}

// An interface name longer than IFNAMSIZ: never a real device, so this lookup fails on every kernel.
const SENTINEL = 'link show dev calico-batch-sentinel';

/** One `ip -batch` process and the groups written to it that have not been reported yet. */
class BatchProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private line = 0;
  private err = '';
  private readonly groups: Group[] = [];
  exited = false;

  constructor() {
    this.child = spawn('ip', ['-force', '-batch', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.resume(); // batch lines here print nothing we need; never let the pipe fill
    this.child.stderr.on('data', (d: Buffer) => this.onStderr(d.toString()));
    const fail = (why: string) => {
      this.exited = true;
      for (const g of this.groups.splice(0)) g.reject(new Error(`ip -batch ended before answering: ${why}`));
    };
    this.child.on('error', (e) => fail(e.message));
    this.child.on('close', (code, signal) => fail(`exit ${code ?? signal}; ${this.err.trim()}`));
    this.child.stdin.on('error', () => {}); // reported by 'close'
    this.idle();
  }

  run(commands: string[]): Promise<IpFailure[]> {
    return new Promise((resolve, reject) => {
      const first = this.line + 1;
      this.line += commands.length + 1;
      this.groups.push({ first, sentinel: this.line, commands, failures: [], resolve, reject });
      this.busy();
      this.child.stdin.write(`${commands.join('\n')}\n${SENTINEL}\n`);
    });
  }

  close(): void {
    this.child.stdin.end();
  }

  private onStderr(text: string): void {
    this.err += text;
    const marker = /Command failed -:(\d+)\n/g;
    let consumed = 0;
    for (let m = marker.exec(this.err); m; m = marker.exec(this.err)) {
      const lineNo = Number(m[1]);
      const message = this.err.slice(consumed, m.index).trim();
      consumed = marker.lastIndex;
      const g = this.groups[0];
      if (!g) continue;
      if (lineNo === g.sentinel) {
        this.groups.shift();
        g.resolve(g.failures);
      } else if (lineNo >= g.first) {
        g.failures.push({ command: g.commands[lineNo - g.first]!, message });
      }
    }
    this.err = this.err.slice(consumed);
    if (this.groups.length === 0) this.idle();
  }

  // While a group is outstanding the pipes keep the event loop alive; when idle they must not hold a
  // one-shot plugin process open.
  private busy(): void {
    this.setRef(true);
  }
  private idle(): void {
    this.setRef(false);
  }
  private setRef(on: boolean): void {
    holdOpen(this.child, on);
  }
}

/**
 * Host-side iproute2 commands through one resident process. iproute2 caches interface name -> index, so once a
 * link the process has looked up is re-created its cached index is stale (the kernel answers "No such device"):
 * `linkCreated` tells the session about links this process re-creates, and a group failing that way anyway (a link
 * re-created by someone else) is run once more on a fresh process. The old process finishes what it was given.
 */
export class IpBatchSession {
  private proc?: BatchProcess;
  private seen = new Set<string>();
  private stale = false;

  /** Runs the lines in order (a failing line does not stop the rest); resolves with the lines that failed. */
  async run(commands: string[], linkNames: string[]): Promise<IpFailure[]> {
    let failed: IpFailure[];
    try {
      failed = await this.send(commands, linkNames);
    } catch {
      // iproute2 exits on some argument errors (another request's, perhaps): once more, on a process of this group's
      // own so a bad line retried beside it cannot take it down again. Every command we send is safe to repeat (an
      // existing link or route is recognised by the caller).
      this.stale = true;
      return this.send(commands, linkNames);
    }
    if (!failed.some((f) => /No such device/.test(f.message))) return failed;
    this.stale = true;
    return this.send(commands, linkNames);
  }

  /** A link of this name was (re-)created outside the session: a cached index for the name is no longer valid. */
  linkCreated(name: string): void {
    if (this.seen.has(name)) this.stale = true;
  }

  close(): void {
    this.proc?.close();
    this.proc = undefined;
  }

  private send(commands: string[], linkNames: string[]): Promise<IpFailure[]> {
    if (!this.proc || this.proc.exited || this.stale) {
      this.proc?.close();
      this.proc = new BatchProcess();
      this.seen = new Set();
      this.stale = false;
    }
    for (const n of linkNames) this.seen.add(n);
    return this.proc.run(commands);
  }
}

let shared: IpBatchSession | undefined;

/** The process-wide session for this process's own network namespace. */
export function hostIpSession(): IpBatchSession {
  return (shared ??= new IpBatchSession());
}
