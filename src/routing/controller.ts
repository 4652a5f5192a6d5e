// The routing side of calico-node on one node: follows the datastore (RoutingStateSource) and after every change
// brings three things in line — kernel routes/VXLAN (RouteSync), NAT-outgoing (NatTable) and, with the BIRD
// backend, BIRD's config (BirdDaemon). Changes that arrive while a sync runs are folded into one more sync.
//
//   datastore --watch--> RoutingStateSource --RoutingState--> sync() --+--> planRoutes  -> RouteSync  (ip -batch)
//                                                                      +--> NAT ruleset -> NatTable   (nft -f)
//                                                                      +--> BIRD config -> BirdDaemon (bird -p, configure)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Datastore } from '../datastore/types.js';
import { BirdDaemon } from './bird.js';
import { NatTable } from './nat.js';
import { RouteSync } from './routes.js';
import { RoutingStateSource } from './state-source.js';
import { renderBirdConfig } from './render/bird-config.js';
import { planRoutes, type RoutePlan } from './render/route-plan.js';
import { hostIp, type RoutingState } from './render/state.js';

export type NetworkingBackend = 'bird' | 'vxlan' | 'none';

export interface RoutingControllerOptions {
  nodeName: string;
  backend: NetworkingBackend;
  /** Run every command inside this network namespace (tests and the lab; production runs inside the node). */
  netns?: string;
  birdSocket: string;
  birdConfigDir: string;
  /** Directory of BGP password secrets: `<dir>/<secret name>/<key>` (a mounted Secret's layout). */
  secretsDir?: string;
  routerId?: string;
  /** Called when the pools' encapsulation changes (tunnel addresses and MTU file to update); errors are logged. */
  onEncapsulationChange?: () => Promise<void>;
  /** Full re-read of kernel routes and host interfaces at least this often (default 90 s, Felix's). */
  refreshIntervalMs?: number;
  log?: (msg: string) => void;
}

export const DEFAULT_BGP_SECRETS_DIR = '/etc/calico/bgp-secrets';

export class RoutingController {
  readonly bird?: BirdDaemon;
  private readonly routes: RouteSync;
  private readonly nat: NatTable;
  private readonly source: RoutingStateSource;
  private latest?: RoutingState;
  private running?: Promise<void>;
  private dirty = false;
  private stopped = false;
  /** Last plan applied to the kernel (for status and tests). */
  lastPlan?: RoutePlan;
  /** Last sync error, cleared by the next successful sync. */
  lastError?: string;
  /** Completed syncs; listeners wait on it in tests and benchmarks. */
  syncs = 0;
  private readonly log: (msg: string) => void;

  constructor(
    ds: Datastore,
    private readonly opts: RoutingControllerOptions,
  ) {
    this.log = opts.log ?? (() => {});
    this.routes = new RouteSync(opts.netns, this.log, { refreshIntervalMs: opts.refreshIntervalMs });
    this.nat = new NatTable(opts.netns);
    if (opts.backend === 'bird') {
      this.bird = new BirdDaemon({
        configDir: opts.birdConfigDir,
        socketPath: opts.birdSocket,
        netns: opts.netns,
        log: this.log,
      });
    }
    this.source = new RoutingStateSource(ds, opts.nodeName, (s) => this.onState(s), this.log);
  }

  private refreshTimer?: NodeJS.Timeout;

  async start(): Promise<void> {
    await this.source.start();
    await this.idle();
    this.refreshTimer = setInterval(() => this.resync(), this.opts.refreshIntervalMs ?? 90_000);
    this.refreshTimer.unref();
  }

  /** Re-reads the kernel and repairs drift now (also done every refresh interval). */
  resync(): void {
    this.routes.requestResync();
    if (this.latest) this.onState(this.latest);
  }

  /** Datastore revision the controller has taken in (its syncs may still be running: see idle()). */
  get seenRevision(): number {
    return this.source.revision;
  }

  /** Resolves when no sync is running or pending. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private onState(state: RoutingState): void {
    this.latest = state;
    this.dirty = true;
    if (!this.running) this.running = this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        try {
          await this.sync(this.latest!);
          this.lastError = undefined;
        } catch (err) {
          this.lastError = err instanceof Error ? err.message : String(err);
          this.log(`routing sync failed: ${this.lastError}`);
        }
        this.syncs++;
      }
    } finally {
      this.running = undefined;
    }
  }

  private encapSignature?: string;

  private async sync(state: RoutingState): Promise<void> {
    const encap = state.pools
      .map((p) => `${p.cidr}:${p.vxlanMode}:${p.ipipMode}:${p.disabled}`)
      .sort()
      .join(',');
    if (this.opts.onEncapsulationChange && encap !== this.encapSignature) {
      try {
        await this.opts.onEncapsulationChange(); // rewrites our Node: another sync follows
        this.encapSignature = encap;
      } catch (err) {
        this.log(`tunnel address update failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const self = state.nodes.find((n) => n.name === this.opts.nodeName);
    // BIRD first: a new block is announced while the kernel work below runs.
    // A BIRD problem (a missing password secret, a config BIRD refuses) must not hold up the kernel routes.
    let birdError: unknown;
    if (this.bird && self) {
      try {
        const text = renderBirdConfig(state, this.opts.nodeName, {
          routerId: this.opts.routerId,
          passwords: this.readPasswords(state),
        });
        await this.bird.apply(text);
      } catch (err) {
        birdError = err;
      }
    }
    const host = await this.routes.hostFacts(
      hostIp(self?.ipv4Address),
      hostIp(self?.ipv6Address),
      state.workloads.map((w) => w.interfaceName),
    );
    // The backend only decides whether BIRD runs: VXLAN pools are the agent's whatever it is (Felix ignores
    // CALICO_NETWORKING_BACKEND), so `vxlan` and `none` program the same routes.
    const plan = planRoutes(state, this.opts.nodeName, host, { birdOwnsNoEncapBlackholes: !!this.bird });
    await this.routes.apply(plan);
    this.lastPlan = plan;
    await this.nat.apply({ pools: state.pools, tunnelDevices: plan.vxlan.map((d) => d.name) });
    if (birdError) throw birdError;
  }

  private readPasswords(state: RoutingState): Record<string, string> {
    const out: Record<string, string> = {};
    const dir = this.opts.secretsDir ?? DEFAULT_BGP_SECRETS_DIR;
    const refs = [state.bgp.nodeMeshPassword, ...state.peers.map((p) => p.passwordSecret)];
    for (const ref of refs) {
      if (!ref) continue;
      const key = `${ref.name}/${ref.key}`;
      try {
        out[key] = readFileSync(path.join(dir, ref.name, ref.key), 'utf8').replace(/\n$/, '');
      } catch {
        // renderBirdConfig names the peer whose secret is missing
      }
    }
    return out;
  }

  /** Stops following the datastore and stops BIRD (its kernel routes persist, as Calico's on restart). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    await this.source.stop();
    await this.idle();
    await this.bird?.stop();
  }

  /** Removes this node's NAT tables (used on teardown). */
  async removeNat(): Promise<void> {
    await this.nat.remove();
  }
}
