// ReconcileQueue: the work queue behind each controller (client-go's workqueue, simplified). Keys are deduplicated
// while waiting, one worker reconciles them in order, a failed key is retried with capped exponential backoff, and a
// key can be scheduled for later (e.g. after a grace period). Nothing runs after stop().
import type { Logger } from 'pino';

export class ReconcileQueue {
  private readonly waiting = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly name: string,
    private readonly reconcile: (key: string) => Promise<void>,
    private readonly log: Logger,
    private readonly onResult?: (ok: boolean) => void,
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.waiting.add(key);
    void this.drain();
  }

  /** Adds the key after delayMs (an earlier add still runs at once). */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped || this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.add(key);
      }, delayMs),
    );
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.stopped && this.waiting.size) {
        const key = this.waiting.values().next().value as string;
        this.waiting.delete(key);
        try {
          await this.reconcile(key);
          this.failures.delete(key);
          this.onResult?.(true);
        } catch (err) {
          this.onResult?.(false);
          const n = (this.failures.get(key) ?? 0) + 1;
          this.failures.set(key, n);
          const delay = Math.min(100 * 2 ** Math.min(n - 1, 7), 10_000);
          this.log.warn(
            { controller: this.name, key, attempt: n, err: err instanceof Error ? err.message : String(err) },
            `reconcile of ${key} failed; retrying in ${delay} ms`,
          );
          this.addAfter(key, delay);
        }
      }
    } finally {
      this.running = false;
      if (!this.waiting.size) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Resolves when no key is waiting or being reconciled (keys scheduled for later do not count). */
  idle(): Promise<void> {
    if (!this.running && !this.waiting.size) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    this.waiting.clear();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
