// LeaseElector: leader election through a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it.
// Every retry period each replica reads the Lease; the holder renews it, others take it over only once it has not
// changed for leaseDuration (measured on their own clock, so clock skew does not matter). Every write is a
// compare-and-swap on resourceVersion, so two replicas can never both win. A leader that cannot renew within
// renewDeadline stops leading (before the others may take over); stop() releases the Lease for a fast hand-over.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ApiException, CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { errorText } from './controller.js';

export interface LeaseElectorOptions {
  kubeConfig: KubeConfig;
  namespace?: string;
  name?: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: Logger;
  onStartedLeading(): Promise<void> | void;
  onStoppedLeading(): Promise<void> | void;
}

export const DEFAULT_LEASE_NAMESPACE = 'kube-system';
export const DEFAULT_LEASE_NAME = 'calico-kube-controllers';

const code = (err: unknown): number | undefined =>
  err instanceof ApiException ? err.code : (err as { code?: number })?.code;

export class LeaseElector {
  readonly identity: string;
  private readonly api: CoordinationV1Api;
  private readonly namespace: string;
  private readonly name: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private leader = false;
  private stopped = true;
  private timer?: NodeJS.Timeout;
  private lastRenew = 0;
  /** The last Lease record seen and when (our clock) it was first seen. */
  private observed?: { record: string; at: number };
  private transition: Promise<void> = Promise.resolve();
  private loop?: Promise<void>;

  constructor(private readonly opts: LeaseElectorOptions) {
    this.api = opts.kubeConfig.makeApiClient(CoordinationV1Api);
    this.namespace = opts.namespace ?? DEFAULT_LEASE_NAMESPACE;
    this.name = opts.name ?? DEFAULT_LEASE_NAME;
    this.identity = opts.identity ?? `${hostname()}_${process.pid}_${randomBytes(4).toString('hex')}`;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.renewDeadlineMs < this.leaseDurationMs)) {
      throw new Error('leader election: renewDeadline must be shorter than leaseDuration');
    }
  }

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    this.loop = this.round().finally(() => {
      if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.retryPeriodMs);
    });
  }

  private async round(): Promise<void> {
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (err) {
      this.opts.log.warn(
        { lease: `${this.namespace}/${this.name}`, err: errorText(err) },
        'leader election: lease update failed',
      );
    }
    if (this.stopped) return;
    const now = Date.now();
    if (ok) {
      this.lastRenew = now;
      if (!this.leader) this.setLeader(true);
    } else if (this.leader && now - this.lastRenew > this.renewDeadlineMs) {
      this.opts.log.warn(
        { lease: `${this.namespace}/${this.name}` },
        'leader election: could not renew; stepping down',
      );
      this.setLeader(false);
    }
  }

  private setLeader(leader: boolean): void {
    this.leader = leader;
    this.opts.log.info({ identity: this.identity }, leader ? 'became leader' : 'stopped leading');
    this.transition = this.transition.then(async () => {
      try {
        await (leader ? this.opts.onStartedLeading() : this.opts.onStoppedLeading());
      } catch (err) {
        this.opts.log.error({ err: errorText(err) }, `leader election: ${leader ? 'start' : 'stop'} callback failed`);
      }
    });
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const spec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.leaseDurationMs / 1000)),
      renewTime: new V1MicroTime(now),
    };
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ namespace: this.namespace, name: this.name });
    } catch (err) {
      if (code(err) !== 404) throw err;
      try {
        await this.api.createNamespacedLease({
          namespace: this.namespace,
          body: {
            metadata: { name: this.name, namespace: this.namespace },
            spec: { ...spec, acquireTime: new V1MicroTime(now), leaseTransitions: 0 },
          },
        });
        return true;
      } catch (e) {
        if (code(e) === 409) return false;
        throw e;
      }
    }
    const cur = lease.spec ?? {};
    const record = JSON.stringify([cur.holderIdentity, cur.renewTime, cur.leaseDurationSeconds, cur.leaseTransitions]);
    if (this.observed?.record !== record) this.observed = { record, at: now };
    const holder = cur.holderIdentity ?? '';
    const mine = holder === this.identity;
    const durationMs = (cur.leaseDurationSeconds ?? 0) * 1000;
    if (holder && !mine && this.observed.at + durationMs > now) return false; // held by another, not expired
    try {
      await this.api.replaceNamespacedLease({
        namespace: this.namespace,
        name: this.name,
        body: {
          metadata: { ...lease.metadata, name: this.name, namespace: this.namespace },
          spec: {
            ...cur,
            ...spec,
            acquireTime: mine && cur.acquireTime ? new V1MicroTime(cur.acquireTime) : new V1MicroTime(now),
            leaseTransitions: (cur.leaseTransitions ?? 0) + (mine ? 0 : 1),
          },
        },
      });
      return true;
    } catch (err) {
      if (code(err) === 409) return false;
      throw err;
    }
  }

  /** Stops campaigning; a leader stops leading first, then releases the Lease so another replica takes over now. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.loop?.catch(() => undefined);
    const wasLeader = this.leader;
    if (wasLeader) this.setLeader(false);
    await this.transition;
    if (!wasLeader) return;
    try {
      const lease = await this.api.readNamespacedLease({ namespace: this.namespace, name: this.name });
      if (lease.spec?.holderIdentity !== this.identity) return;
      await this.api.replaceNamespacedLease({
        namespace: this.namespace,
        name: this.name,
        body: {
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime(Date.now()) },
        },
      });
    } catch (err) {
      this.opts.log.warn({ err: errorText(err) }, 'leader election: could not release the lease');
    }
  }

  /** Resolves after the pending start/stop callbacks ran (tests). */
  settled(): Promise<void> {
    return this.transition;
  }
}
