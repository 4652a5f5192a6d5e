// The errors IPAM callers act on. Each names the object, the field or pool, and the reason; CNI maps them to
// error results, calicoctl prints them.

export class IpamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Calico's message after datastoreRetries (100) compare-and-swap conflicts. */
export class MaxRetriesError extends IpamError {
  constructor(what: string) {
    super(`Max retries hit - excessive concurrent IPAM requests (${what})`);
  }
}

export class BlockLimitError extends IpamError {
  constructor(
    readonly node: string,
    readonly limit: number,
  ) {
    super(`limit of ${limit} blocks reached for this node (${node}); maxBlocksPerHost is ${limit}`);
  }
}

/**
 * Calico's shortfall text (IPAMAssignments.PartialFulfillmentError), pools by CIDR as Go prints a list, then why;
 * calico-ipam puts `failed to request IPv<N> addresses: ` in front, as Calico's plugin does.
 */
export class NoFreeAddressesError extends IpamError {
  constructor(
    readonly family: 4 | 6,
    readonly pools: string[],
    readonly assigned: number,
    readonly requested: number,
    detail: string,
  ) {
    super(
      `Assigned ${assigned} out of ${requested} requested IPv${family} addresses; ` +
        `No IPs available in pools: [${pools.join(' ')}] (${detail})`,
    );
  }
}

export class AddressNotInPoolError extends IpamError {
  constructor(address: string, detail: string) {
    // Calico's sentence first (tools match on it), then the address and why.
    super(`The provided IP address is not in a configured pool (${address}: ${detail})`);
  }
}

export class ReservedAddressError extends IpamError {
  constructor(address: string) {
    super(`IP address ${address} lies in an IPReservation and is never handed out`);
  }
}

export class HandleNotFoundError extends IpamError {
  constructor(readonly handleId: string) {
    super(`handle ${handleId} does not exist (nothing allocated under it)`);
  }
}

export class AffinityNotEmptyError extends IpamError {
  constructor(block: string) {
    super(`block ${block} is not empty: affinity not released`);
  }
}

export class StrictAffinityError extends IpamError {
  constructor(address: string, block: string, affinity: string | null) {
    super(
      `cannot assign ${address}: block ${block} is ${affinity ? `affine to ${affinity}` : 'not affine'} and strictAffinity is on`,
    );
  }
}

export class NodeNotFoundError extends IpamError {
  constructor(node: string) {
    super(`Node "${node}" does not exist in the datastore (calico-node creates it at start-up)`);
  }
}

export class InvalidIpamConfigError extends IpamError {}

/** A conditional affinity release found the block changed since it was read (its sequence number moved on). */
export class BlockChangedError extends IpamError {
  constructor(block: string) {
    super(`block ${block} changed since it was read; affinity not released`);
  }
}
