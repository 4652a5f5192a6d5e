// One long-lived IpamClient per datastore handle, for a process that serves many CNI requests (calico-node's hand-off
// server): later ADDs then decide from what the client last read and wrote (the no-read fast path) instead of each
// request reading pools, node, reservations, affinities and blocks afresh. Sharing is safe under concurrent requests:
// everything a client caches is a guess its compare-and-swap transactions check, never a source of truth.
import type { Datastore } from '../../datastore/types.js';
import { IpamClient, type IpamClientOptions } from '../client.js';

export class IpamClientCache {
  private readonly byDatastore = new WeakMap<Datastore, IpamClient>();

  /** The client for ds, created with opts on first use (later calls' opts are ignored). */
  clientFor(ds: Datastore, opts: IpamClientOptions = {}): IpamClient {
    let c = this.byDatastore.get(ds);
    if (!c) {
      c = new IpamClient(ds, opts);
      this.byDatastore.set(ds, c);
    }
    return c;
  }
}
