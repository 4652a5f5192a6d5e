// Keeps the routing view of the datastore for one node: lists `/calico/`, then follows the watch (re-listing when
// history was compacted), and hands a fresh RoutingState to its listener after every change.
// In: datastore keys (v3 resources, IPAM blocks). Out: RoutingState snapshots.
import type { Datastore, Watch, WatchEvent } from '../datastore/types.js';
import { IPAM_PREFIX, RESOURCE_PREFIX } from '../datastore/keys.js';
import type { Resource } from '../api/resource.js';
import {
  bgpConfigFrom,
  blockFromRecord,
  filterFromResource,
  nodeFromResource,
  peerFromResource,
  poolFromResource,
  workloadFromResource,
  type RoutingState,
} from './render/state.js';

const WATCH_PREFIX = '/calico/';
const P = (plural: string): string => `${RESOURCE_PREFIX}${plural}/`;
const BLOCK_PREFIX = `${IPAM_PREFIX}assignment/`;

export class RoutingStateSource {
  private readonly kv = new Map<string, string>();
  private watch?: Watch;
  private stopped = false;
  /** Datastore revision of the last list or event taken in. */
  revision = 0;
  /** Invalid records skipped in the last build, with the reason (surfaced in logs, never fatal). */
  skipped: string[] = [];

  constructor(
    private readonly ds: Datastore,
    private readonly nodeName: string,
    private readonly onChange: (state: RoutingState) => void,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  async start(): Promise<void> {
    const listed = await this.ds.list(WATCH_PREFIX);
    this.kv.clear();
    for (const item of listed.items) this.kv.set(item.key, item.value);
    this.revision = listed.revision;
    this.onChange(this.build());
    if (this.stopped) return;
    this.watch = this.ds.watch(WATCH_PREFIX, listed.revision + 1, (ev) => this.onEvent(ev));
  }

  private onEvent(ev: WatchEvent): void {
    if (this.stopped) return;
    if (ev.type === 'put') this.kv.set(ev.key, ev.value);
    else if (ev.type === 'delete') this.kv.delete(ev.key);
    else {
      this.log(
        ev.type === 'error'
          ? `datastore watch failed: ${ev.error.message}; re-listing`
          : 'watch history compacted; re-listing',
      );
      void this.restart();
      return;
    }
    const relevant = ev.key.startsWith(RESOURCE_PREFIX) || ev.key.startsWith(BLOCK_PREFIX);
    this.revision = ev.revision;
    if (relevant) this.onChange(this.build());
  }

  private async restart(): Promise<void> {
    await this.watch?.close();
    for (let delay = 200; !this.stopped; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.start();
        return;
      } catch (err) {
        this.log(`re-list failed: ${String(err)}`);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Builds the state from the current keys; a record that does not decode is skipped and reported. */
  build(): RoutingState {
    const skipped: string[] = [];
    const decode = <T>(prefix: string, fn: (v: any) => T | undefined): T[] => {
      const out: T[] = [];
      for (const [k, v] of this.kv) {
        if (!k.startsWith(prefix)) continue;
        try {
          const r = fn(JSON.parse(v));
          if (r !== undefined) out.push(r);
        } catch (err) {
          skipped.push(`${k}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      return out;
    };
    const res = (k: string): Resource | undefined => {
      const v = this.kv.get(k);
      return v ? (JSON.parse(v) as Resource) : undefined;
    };
    const state: RoutingState = {
      nodes: decode(P('nodes'), nodeFromResource),
      pools: decode(P('ippools'), poolFromResource),
      blocks: decode(BLOCK_PREFIX, blockFromRecord),
      bgp: bgpConfigFrom(
        res(`${P('bgpconfigurations')}default`),
        res(`${P('bgpconfigurations')}node.${this.nodeName}`),
      ),
      peers: decode(P('bgppeers'), peerFromResource),
      filters: decode(P('bgpfilters'), filterFromResource),
      workloads: decode(P('workloadendpoints'), (r: Resource) =>
        r.spec?.node === this.nodeName ? workloadFromResource(r) : undefined,
      ),
    };
    if (skipped.join('\n') !== this.skipped.join('\n'))
      for (const s of skipped) this.log(`skipping invalid record ${s}`);
    this.skipped = skipped;
    return state;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.watch?.close();
  }
}
