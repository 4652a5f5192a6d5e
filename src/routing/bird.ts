// Runs this node's BIRD 2: writes the rendered config into CALICO_BIRD_CONFIG_DIR, checks it with `bird -p` before
// swapping it in, reloads over the control socket (CALICO_BIRD_SOCKET) only when the text changed, and restarts
// BIRD when it exits. In: config text. Out: a running daemon on the one socket both families share.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { runStatus } from '../common/exec.js';
import { birdCommand, birdReplyError } from './bird-socket.js';

export const DEFAULT_BIRD_SOCKET = '/var/run/calico/bird.ctl';
export const DEFAULT_BIRD_CONFIG_DIR = '/etc/calico/confd/config';

export interface BirdDaemonOptions {
  configDir: string;
  socketPath: string;
  /** Network namespace to run BIRD in (tests and the lab run several nodes on one machine). */
  netns?: string;
  /** Delay before restarting a BIRD that exited. */
  restartDelayMs?: number;
  log?: (msg: string) => void;
}

export class BirdConfigError extends Error {}

export class BirdDaemon {
  private child?: ChildProcess;
  private stopped = false;
  private restartTimer?: NodeJS.Timeout;
  private applied?: string;
  /** How many times BIRD exited and was started again. */
  restarts = 0;

  constructor(private readonly opts: BirdDaemonOptions) {}

  get configFile(): string {
    return path.join(this.opts.configDir, 'bird.cfg');
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Validates and installs a new configuration. Returns false when the text is what BIRD already runs.
   * An invalid config throws BirdConfigError naming BIRD's complaint; the running config is left in place.
   */
  async apply(text: string): Promise<boolean> {
    if (text === this.applied) return false;
    mkdirSync(this.opts.configDir, { recursive: true });
    const onDisk =
      this.applied === undefined && existsSync(this.configFile) && readFileSync(this.configFile, 'utf8') === text;
    if (!onDisk) {
      const candidate = `${this.configFile}.new`;
      writeFileSync(candidate, text);
      const check = await runStatus('bird', ['-p', '-c', candidate]);
      if (check.code !== 0) {
        rmSync(candidate, { force: true });
        throw new BirdConfigError(`rendered BIRD config rejected by bird -p: ${(check.stderr || check.stdout).trim()}`);
      }
      renameSync(candidate, this.configFile);
    }
    if (!this.child) {
      await this.start();
    } else {
      const reply = await birdCommand(this.opts.socketPath, 'configure', 10_000);
      const err = birdReplyError(reply);
      if (err) throw new BirdConfigError(`birdc configure failed: ${err}`);
    }
    this.applied = text; // only once BIRD runs it, so a failed reload is retried by the next apply
    return !onDisk;
  }

  /** First start: ends a BIRD left on our socket by an earlier calico-node, then starts ours and waits for it. */
  private async start(): Promise<void> {
    try {
      await birdCommand(this.opts.socketPath, 'down', 1000);
      this.opts.log?.(`stopped a BIRD left running on ${this.opts.socketPath}`);
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => setTimeout(r, 50));
        if (
          !(await birdCommand(this.opts.socketPath, 'show status', 500).then(
            () => true,
            () => false,
          ))
        )
          break;
      }
    } catch {
      // nothing answered: no BIRD of ours is running
    }
    this.spawnBird();
    await this.waitReady();
  }

  /** Resolves when the control socket answers (BIRD started and parsed its config). */
  async waitReady(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await birdCommand(this.opts.socketPath, 'show status', 1000);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  private spawnBird(): void {
    if (this.stopped) return;
    mkdirSync(path.dirname(this.opts.socketPath), { recursive: true });
    const birdArgs = ['-f', '-c', this.configFile, '-s', this.opts.socketPath];
    const [cmd, args] = this.opts.netns
      ? ['ip', ['netns', 'exec', this.opts.netns, 'bird', ...birdArgs]]
      : ['bird', birdArgs];
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    this.child = child;
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.stopped) return;
      this.restarts++;
      this.opts.log?.(`BIRD exited (${signal ?? `code ${code}`}) ${stderr.trim()}; restarting`);
      this.restartTimer = setTimeout(() => this.spawnBird(), this.opts.restartDelayMs ?? 1000);
    });
  }

  /** Stops supervising and ends BIRD (SIGTERM, SIGKILL after 3 s). BIRD's kernel routes stay (`persist`). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
