// The per-host IPAM lock calico-ipam takes around each operation (netconf `ipam_lock_file`, default
// /var/run/calico/ipam.lock, 90 s timeout). It only spares the datastore needless CAS conflicts between plugin
// processes of one host: correctness rests on the compare-and-swap writes, never on this lock.
// Node has no flock(2), so the lock is an O_EXCL lock file holding the owner's PID; a dead owner's file is taken over.
// The file operations are synchronous (a few microseconds on the runtime directory's tmpfs, where each would otherwise
// be a thread-pool round trip), and a waiter watches the directory from before its first attempt, so a release
// between a failed attempt and the wait is never missed.
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, watch, writeSync } from 'node:fs';
import path from 'node:path';

export const DEFAULT_IPAM_LOCK_FILE = '/var/run/calico/ipam.lock';
export const IPAM_LOCK_TIMEOUT_MS = 90_000;
/** Longest pause between attempts when no release is seen (inotify missing, or a holder that died). */
const MAX_POLL_MS = 50;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True if this call created the lock file (and wrote its PID into it); false if it already exists. */
function tryCreate(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    writeSync(fd, String(process.pid));
  } finally {
    closeSync(fd);
  }
  return true;
}

const holderOf = (file: string): number => {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return 0;
  }
};

/** Removes a lock file its holder can no longer release; true if the caller should try again at once. */
function clearStale(file: string, holder: number): boolean {
  if (holder > 0 && !alive(holder)) {
    // The owner died holding the lock: remove its file (only if it is still that owner's).
    if (holderOf(file) === holder) unlinkQuietly(file);
    return true;
  }
  if (!holder) {
    // Created but no PID written: a writer that died between open and write leaves it empty for good.
    try {
      if (Date.now() - statSync(file).mtimeMs > 2000) {
        unlinkQuietly(file);
        return true;
      }
    } catch {
      return true; // gone meanwhile
    }
  }
  return false;
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/** Wakes a waiter when anything changes in the lock's directory; changes that come between waits are kept. */
class DirectoryChanges {
  private changed = false;
  private wake?: () => void;
  private readonly watcher?: ReturnType<typeof watch>;

  constructor(dir: string, name: string) {
    try {
      this.watcher = watch(dir, { persistent: false }, (_event, changedName) => {
        if (changedName === null || changedName === name) this.signal();
      });
      this.watcher.on('error', () => this.signal());
    } catch {
      // No inotify: the timer alone paces the retries.
    }
  }

  private signal(): void {
    this.changed = true;
    this.wake?.();
  }

  /** Resolves at the next change (at once if one came since the last call) or after ms. */
  next(ms: number): Promise<void> {
    if (this.changed) {
      this.changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        this.changed = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  close(): void {
    this.watcher?.close();
  }
}

export class HostLock {
  private constructor(private readonly file: string) {}

  /** Waits for the lock up to timeoutMs; throws naming the file and its holder on timeout. */
  static async acquire(file: string, timeoutMs = IPAM_LOCK_TIMEOUT_MS): Promise<HostLock> {
    mkdirSync(path.dirname(file), { recursive: true });
    if (tryCreate(file)) return new HostLock(file);
    const changes = new DirectoryChanges(path.dirname(file), path.basename(file));
    try {
      const deadline = Date.now() + timeoutMs;
      let poll = 1;
      let clearedJustNow = false;
      for (;;) {
        if (tryCreate(file)) return new HostLock(file);
        const holder = holderOf(file);
        // One immediate retry after clearing a stale file; a file that cannot be removed is waited on like any other.
        if (!clearedJustNow && clearStale(file, holder)) {
          clearedJustNow = true;
          continue;
        }
        clearedJustNow = false;
        if (Date.now() > deadline) {
          throw new Error(
            `timed out after ${timeoutMs} ms waiting for the IPAM lock ${file} (held by PID ${holder || '?'})`,
          );
        }
        await changes.next(poll);
        poll = Math.min(poll * 2, MAX_POLL_MS);
      }
    } finally {
      changes.close();
    }
  }

  async release(): Promise<void> {
    unlinkQuietly(this.file);
  }
}
