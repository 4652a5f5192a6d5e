// Starts the lab's long-running processes inside namespaces, detached from the `calico-lab` command, with output in
// log files, and records each PID in the lab state before anything else happens; stops them by PID.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { updateState } from './state.js';

export interface StartOptions {
  labDir: string;
  role: string;
  netns?: string;
  /** Enter only the network namespace and keep the host's mount namespace (see startProcess). */
  hostMounts?: boolean;
  program: string;
  args: string[];
  env?: Record<string, string>;
  logFile: string;
}

/** Spawns a detached process (in a namespace when given), records it, and returns its PID. */
export function startProcess(opts: StartOptions): number {
  mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const log = openSync(opts.logFile, 'a');
  // Both enter the namespace and exec the program, so the PID we get is the program's own. `ip netns exec` also gives
  // the process a private mount namespace with the namespace's /sys; `nsenter` keeps the host's mount namespace,
  // which a process needs when it creates network namespaces others must see (the lab kubelet's pod namespaces:
  // mounts made under /run/netns from a private mount namespace would be invisible to calico-node).
  const [cmd, args] = !opts.netns
    ? [opts.program, opts.args]
    : opts.hostMounts
      ? ['nsenter', [`--net=/var/run/netns/${opts.netns}`, '--', opts.program, ...opts.args]]
      : ['ip', ['netns', 'exec', opts.netns, opts.program, ...opts.args]];
  const child = spawn(cmd, args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, ...opts.env },
  });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`could not start ${opts.role}: ${opts.program}`);
  const pid = child.pid;
  child.unref();
  updateState(opts.labDir, (s) =>
    s.processes.push({ role: opts.role, pid, netns: opts.netns, startTicks: startTicks(pid) }),
  );
  return pid;
}

/** The process's start time in clock ticks since boot (/proc/PID/stat field 22): tells a recorded PID from a reused one. */
export function startTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

/** True when pid still names the process that was recorded (same start time). */
export function isSameProcess(pid: number, recordedTicks: number | undefined): boolean {
  const now = startTicks(pid);
  return now !== undefined && (recordedTicks === undefined || now === recordedTicks);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
export async function stopProcess(pid: number, graceMs = 2000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}
