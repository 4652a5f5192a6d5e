// The per-host IPAM lock calico-ipam takes around each operation (netconf `ipam_lock_file`, default
// /var/run/calico/ipam.lock, 90 s timeout). It only spares the datastore needless CAS conflicts between plugin
// processes of one host: correctness rests on the compare-and-swap writes, never on this lock.
// Node has no flock(2), so the lock is an O_EXCL lock file holding the owner's PID; a dead owner's file is taken over.
import { watch } from 'node:fs';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

export const DEFAULT_IPAM_LOCK_FILE = '/var/run/calico/ipam.lock';
export const IPAM_LOCK_TIMEOUT_MS = 90_000;

/** Resolves when the lock file is removed (inotify on its directory) or after ms, whichever comes first. */
function released(file: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      watcher?.close();
      resolve();
    };
    const timer = setTimeout(finish, ms);
    let watcher: ReturnType<typeof watch> | undefined;
    try {
      watcher = watch(path.dirname(file), (_event, name) => {
        if (name === null || name === path.basename(file)) finish();
      });
      watcher.on('error', finish);
    } catch {
      // No inotify: the timer alone paces the retries.
    }
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class HostLock {
  private constructor(private readonly file: string) {}

  /** Waits for the lock up to timeoutMs; throws naming the file and its holder on timeout. */
  static async acquire(file: string, timeoutMs = IPAM_LOCK_TIMEOUT_MS): Promise<HostLock> {
    await mkdir(path.dirname(file), { recursive: true });
    const deadline = Date.now() + timeoutMs;
    let wait = 1;
    for (;;) {
      try {
        const fh = await open(file, 'wx', 0o600);
        await fh.writeFile(String(process.pid));
        await fh.close();
        return new HostLock(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (holder > 0 && !alive(holder)) {
        // The owner died holding the lock: remove its file (only if it is still that owner's) and retry.
        const again = Number((await readFile(file, 'utf8').catch(() => '')).trim());
        if (again === holder) await unlink(file).catch(() => undefined);
        continue;
      }
      if (!holder) {
        // Created but no PID written: a writer that died between open and write leaves it empty for good.
        const st = await stat(file).catch(() => undefined);
        if (st && Date.now() - st.mtimeMs > 2000) {
          await unlink(file).catch(() => undefined);
          continue;
        }
      }
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for the IPAM lock ${file} (held by PID ${holder || '?'})`,
        );
      }
      await released(file, wait);
      wait = Math.min(wait * 2, 50);
    }
  }

  async release(): Promise<void> {
    await unlink(this.file).catch(() => undefined);
  }
}
