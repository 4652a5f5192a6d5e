// ResourceClient: projectcalico.org/v3 resources on the Datastore, as libcalico-go's clientv3 keeps them in etcd.
// In: Resource objects; out: Resources whose metadata.resourceVersion is the key's revision. Create sets uid and
// creationTimestamp; update/delete with a resourceVersion are compare-and-swap; apply of an unchanged resource writes
// nothing. IPAMConfiguration lives at /calico/ipam/v2/config in Calico's own JSON. Errors use Calico's wording.
import { randomUUID, randomBytes } from 'node:crypto';
import { CALICO_API_VERSION, type ObjectMeta, type Resource } from '../api/resource.js';
import { KINDS, lookupKind, type KindInfo } from '../api/kinds.js';
import { validateResource } from '../api/validate/index.js';
import { applyCreateDefaults } from '../api/defaults.js';
import { IPAM_CONFIG_KEY, RESOURCE_PREFIX, resourceKey, resourcePrefix } from './keys.js';
import { checkTierDeletable, ensureBuiltInTiers } from './tiers.js';
import {
  AlreadyExistsError,
  ConflictError,
  DatastoreError,
  NotFoundError,
  UnreachableError,
  type Datastore,
  type KVPair,
  type Watch,
} from './types.js';

export interface ResourceClientOptions {
  /**
   * Checks (and may default) a resource before it is written; it throws to refuse, and a returned Resource replaces
   * the input. Default: src/api's validateResource, then the create-time defaults Calico stores (applyCreateDefaults).
   * false: no checks (only for data that is already known valid, e.g. a restore).
   */
  validate?: ((resource: Resource) => Resource | void) | false;
  /** Clock for creationTimestamp (tests). */
  now?: () => Date;
}

/** A resource-level watch event. */
export type ResourceEvent =
  | { type: 'put'; resource: Resource; revision: number }
  | { type: 'delete'; kind: string; name: string; namespace?: string; revision: number; previous?: Resource }
  | { type: 'resync-required'; compactedRevision: number }
  | { type: 'error'; error: Error };

/** Bad input to the client itself (missing name or namespace, unknown kind); names the field and the reason. */
export class ResourceInputError extends DatastoreError {}

const IPAM_CONFIG_NAME = 'default';

/** Calico's clientv3 checks every object and stores it with its create-time defaults. */
function validateAndDefault(resource: Resource): Resource {
  return applyCreateDefaults(validateResource<Resource>(resource));
}
/** Metadata the datastore owns: ignored on input to create, carried over from the stored object on update. */
const SERVER_METADATA = ['resourceVersion', 'uid', 'creationTimestamp', 'generation', 'managedFields'] as const;

/** Calico's resource identifier in errors: `Kind(name)` or `Kind(namespace/name)`. */
export function resourceId(kind: string, name: string, namespace?: string): string {
  return namespace ? `${kind}(${namespace}/${name})` : `${kind}(${name})`;
}

/** Kind, namespace and name of a v3 resource key, or undefined for keys outside the v3 tree. */
export function parseResourceKey(key: string): { kind: string; name: string; namespace?: string } | undefined {
  if (key === IPAM_CONFIG_KEY) return { kind: 'IPAMConfiguration', name: IPAM_CONFIG_NAME };
  if (!key.startsWith(RESOURCE_PREFIX)) return undefined;
  const parts = key.slice(RESOURCE_PREFIX.length).split('/');
  const info = KINDS.find((k) => k.plural === parts[0]);
  if (!info) return undefined;
  if (info.namespaced && parts.length === 3) return { kind: info.kind, namespace: parts[1]!, name: parts[2]! };
  if (!info.namespaced && parts.length === 2) return { kind: info.kind, name: parts[1]! };
  return undefined;
}

export class ResourceClient {
  private readonly validate?: (resource: Resource) => Resource | void;
  private readonly now: () => Date;

  constructor(
    readonly datastore: Datastore,
    opts: ResourceClientOptions = {},
  ) {
    this.validate = opts.validate === false ? undefined : (opts.validate ?? validateAndDefault);
    this.now = opts.now ?? (() => new Date());
  }

  /** The resource, or NotFoundError "resource does not exist: Kind(name) with error: <nil>". */
  async get(kind: string, name: string, namespace?: string): Promise<Resource> {
    const found = await this.find(kind, name, namespace);
    if (!found) {
      const info = this.info(kind);
      throw this.notFound(info.kind, name, info.namespaced ? namespace : undefined);
    }
    return found;
  }

  /** The resource, or undefined when absent. */
  async find(kind: string, name: string, namespace?: string): Promise<Resource | undefined> {
    const { key, info } = this.locate(kind, name, namespace);
    const kv = await this.datastore.get(key);
    return kv ? this.decode(info, kv) : undefined;
  }

  /** Every resource of a kind (within one namespace when given, else all), sorted by namespace then name. */
  async list(kind: string, namespace?: string): Promise<{ items: Resource[]; revision: number }> {
    const info = this.info(kind);
    if (info.kind === 'IPAMConfiguration') {
      // One read, so the revision matches the item (watching from revision + 1 then misses nothing).
      const res = await this.datastore.list(IPAM_CONFIG_KEY);
      const kv = res.items.find((x) => x.key === IPAM_CONFIG_KEY);
      return { items: kv ? [this.decode(info, kv)] : [], revision: res.revision };
    }
    const res = await this.datastore.list(resourcePrefix(info.kind, namespace));
    const items: Resource[] = [];
    for (const kv of res.items) {
      const id = parseResourceKey(kv.key);
      // A prefix can match deeper keys of another layout; only exact resource keys of this kind count.
      if (id?.kind === info.kind) items.push(this.decode(info, kv));
    }
    return { items, revision: res.revision };
  }

  /** Creates the resource; AlreadyExistsError "resource already exists: Kind(name)" if it exists. */
  async create(input: Resource): Promise<Resource> {
    const { resource, info, key } = this.prepare(input);
    for (const f of SERVER_METADATA) delete resource.metadata[f];
    if (info.kind !== 'IPAMConfiguration') {
      resource.metadata.uid = randomUUID();
      resource.metadata.creationTimestamp = this.timestamp();
    }
    try {
      const kv = await this.datastore.create(key, this.encode(info, resource));
      return this.withVersion(resource, kv);
    } catch (err) {
      throw this.translate(err, resource);
    }
  }

  /**
   * Replaces an existing resource. With metadata.resourceVersion it is a compare-and-swap against that revision
   * (ConflictError "update conflict: Kind(name)" when stale); without, it overwrites the current version.
   * uid and creationTimestamp are kept from the stored object.
   */
  async update(input: Resource): Promise<Resource> {
    const { resource, info, key } = this.prepare(input);
    const wanted = this.revisionOf(resource);
    for (let attempt = 0; ; attempt++) {
      const current = await this.datastore.get(key);
      if (!current) throw this.notFound(info.kind, resource.metadata.name, resource.metadata.namespace);
      if (wanted !== undefined && wanted !== current.revision) throw this.conflict(resource, wanted, current.revision);
      try {
        return await this.writeOver(info, key, structuredClone(resource), current);
      } catch (err) {
        // Without a resourceVersion the caller asked to overwrite whatever is there: retry a concurrent change.
        if (err instanceof ConflictError && wanted === undefined && attempt < 5) continue;
        throw err;
      }
    }
  }

  /**
   * Creates or updates. An unchanged resource (same labels, annotations, spec, ...) is not written again and keeps
   * its resourceVersion; a resourceVersion in the input is a precondition.
   */
  async apply(input: Resource): Promise<Resource> {
    const { resource, info, key } = this.prepare(input);
    const wanted = this.revisionOf(resource);
    for (let attempt = 0; ; attempt++) {
      const current = await this.datastore.get(key);
      if (!current) {
        if (wanted !== undefined) throw this.notFound(info.kind, resource.metadata.name, resource.metadata.namespace);
        try {
          return await this.create(resource);
        } catch (err) {
          if (err instanceof AlreadyExistsError && attempt < 5) continue;
          throw err;
        }
      }
      if (wanted !== undefined && wanted !== current.revision) throw this.conflict(resource, wanted, current.revision);
      const stored = this.decode(info, current);
      if (sameContent(stored, resource)) return stored;
      try {
        return await this.writeOver(info, key, structuredClone(resource), current);
      } catch (err) {
        if (err instanceof ConflictError && wanted === undefined && attempt < 5) continue;
        throw err;
      }
    }
  }

  /**
   * Deletes and returns the resource; with resourceVersion it is a compare-and-swap. A built-in or non-empty Tier
   * is refused with OperationNotSupportedError.
   */
  async delete(kind: string, name: string, namespace?: string, resourceVersion?: string): Promise<Resource> {
    const { key, info } = this.locate(kind, name, namespace);
    const wanted = resourceVersion ? this.parseVersion(resourceVersion) : undefined;
    // As Calico's tiers client: built-in tiers and tiers that policies name are not deleted.
    if (info.kind === 'Tier') await checkTierDeletable(this, name);
    try {
      const prev = await this.datastore.delete(key, wanted);
      return this.decode(info, prev);
    } catch (err) {
      const ns = info.namespaced ? namespace : undefined;
      if (err instanceof NotFoundError) throw this.notFound(info.kind, name, ns);
      if (err instanceof ConflictError)
        throw new ConflictError(`update conflict: ${resourceId(info.kind, name, ns)}`, key);
      throw err;
    }
  }

  /**
   * Watches one kind (within one namespace when given) from a revision (0 = from now); list() then
   * watch(list.revision + 1) sees every change exactly once.
   */
  watch(kind: string, namespace: string | undefined, fromRevision: number, onEvent: (e: ResourceEvent) => void): Watch {
    const info = this.info(kind);
    const prefix = info.kind === 'IPAMConfiguration' ? IPAM_CONFIG_KEY : resourcePrefix(info.kind, namespace);
    return this.datastore.watch(prefix, fromRevision, (e) => {
      if (e.type === 'resync-required' || e.type === 'error') return onEvent(e);
      const id = parseResourceKey(e.key);
      if (id?.kind !== info.kind) return;
      if (e.type === 'put') {
        onEvent({ type: 'put', revision: e.revision, resource: this.decode(info, { ...e }) });
      } else {
        const previous =
          e.prevValue !== undefined
            ? this.decode(info, { key: e.key, value: e.prevValue, revision: e.revision })
            : undefined;
        onEvent({ type: 'delete', revision: e.revision, ...id, ...(previous ? { previous } : {}) });
      }
    });
  }

  // ---- internals ----

  /** The kind by its name, plural or calicoctl alias (case-insensitive). */
  private info(kind: string): KindInfo {
    const info = lookupKind(String(kind ?? ''));
    if (!info) throw new ResourceInputError(`kind: unknown resource kind "${kind}"`);
    return info;
  }

  private locate(kind: string, name: string, namespace?: string): { key: string; info: KindInfo } {
    const info = this.info(kind);
    if (!name) throw new ResourceInputError("insufficient identifiers, missing 'name'");
    if (info.kind === 'IPAMConfiguration') {
      if (name !== IPAM_CONFIG_NAME) {
        throw new ResourceInputError(`metadata.name: IPAMConfiguration must be named "default", got "${name}"`);
      }
      return { key: IPAM_CONFIG_KEY, info };
    }
    if (info.namespaced && !namespace) throw new ResourceInputError("insufficient identifiers, missing 'namespace'");
    return { key: resourceKey(info.kind, name, info.namespaced ? namespace : undefined), info };
  }

  /** Copies, checks identity, runs the validator; the caller may then modify the copy freely. */
  private prepare(input: Resource): { resource: Resource; info: KindInfo; key: string } {
    if (!input || typeof input !== 'object' || !input.metadata || typeof input.metadata !== 'object') {
      throw new ResourceInputError('metadata: required');
    }
    let resource = structuredClone(input);
    const info = this.info(resource.kind);
    resource.kind = info.kind;
    resource.apiVersion = resource.apiVersion || CALICO_API_VERSION;
    if (resource.apiVersion !== CALICO_API_VERSION) {
      throw new ResourceInputError(`apiVersion: expected "${CALICO_API_VERSION}", got "${resource.apiVersion}"`);
    }
    if (!info.namespaced) delete resource.metadata.namespace;
    resource.spec ??= {};
    const validated = this.validate?.(resource);
    if (validated) resource = structuredClone(validated);
    const { key } = this.locate(info.kind, resource.metadata.name, resource.metadata.namespace);
    return { resource, info, key };
  }

  private async writeOver(info: KindInfo, key: string, resource: Resource, current: KVPair): Promise<Resource> {
    const stored = this.decode(info, current);
    for (const f of SERVER_METADATA) delete resource.metadata[f];
    if (stored.metadata.uid) resource.metadata.uid = stored.metadata.uid;
    if (stored.metadata.creationTimestamp) resource.metadata.creationTimestamp = stored.metadata.creationTimestamp;
    try {
      const kv = await this.datastore.update(key, this.encode(info, resource), current.revision);
      return this.withVersion(resource, kv);
    } catch (err) {
      throw this.translate(err, resource);
    }
  }

  private encode(info: KindInfo, resource: Resource): string {
    if (info.kind === 'IPAMConfiguration') return encodeIpamConfigSpec(resource.spec);
    const metadata: ObjectMeta = { ...resource.metadata };
    delete metadata.resourceVersion; // never trusted from the stored value: the key's revision is the version
    const out: Record<string, unknown> = { kind: resource.kind, apiVersion: resource.apiVersion, metadata };
    out.spec = resource.spec;
    if (resource.status !== undefined) out.status = resource.status;
    return JSON.stringify(out);
  }

  private decode(info: KindInfo, kv: KVPair): Resource {
    if (info.kind === 'IPAMConfiguration') {
      return {
        apiVersion: CALICO_API_VERSION,
        kind: 'IPAMConfiguration',
        metadata: { name: IPAM_CONFIG_NAME, resourceVersion: String(kv.revision) },
        spec: decodeIpamConfigSpec(kv.value),
      };
    }
    let parsed: Resource;
    try {
      parsed = JSON.parse(kv.value) as Resource;
    } catch (err) {
      throw new DatastoreError(`failed to parse datastore entry key=${kv.key}: ${(err as Error).message}`, kv.key);
    }
    parsed.metadata = { ...(parsed.metadata ?? {}), resourceVersion: String(kv.revision) } as ObjectMeta;
    parsed.apiVersion ||= CALICO_API_VERSION;
    parsed.kind ||= info.kind;
    return parsed;
  }

  private withVersion(resource: Resource, kv: KVPair): Resource {
    resource.metadata.resourceVersion = String(kv.revision);
    return resource;
  }

  private revisionOf(resource: Resource): number | undefined {
    const rv = resource.metadata.resourceVersion;
    return rv ? this.parseVersion(rv) : undefined;
  }

  private parseVersion(rv: string): number {
    if (!/^\d+$/.test(String(rv))) {
      throw new ResourceInputError(`metadata.resourceVersion: must be a decimal revision, got "${rv}"`);
    }
    return Number(rv);
  }

  private timestamp(): string {
    return this.now()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
  }

  private notFound(kind: string, name: string, namespace?: string): NotFoundError {
    return new NotFoundError(`resource does not exist: ${resourceId(kind, name, namespace)} with error: <nil>`);
  }

  private conflict(resource: Resource, wanted: number, latest: number): ConflictError {
    const id = resourceId(resource.kind, resource.metadata.name, resource.metadata.namespace);
    const err = new ConflictError(`update conflict: ${id}`);
    err.cause = `Resource version '${wanted}' is out of date (latest: ${latest})`;
    return err;
  }

  private translate(err: unknown, resource: Resource): unknown {
    const id = resourceId(resource.kind, resource.metadata.name, resource.metadata.namespace);
    if (err instanceof AlreadyExistsError) return new AlreadyExistsError(`resource already exists: ${id}`, err.key);
    if (err instanceof ConflictError) return new ConflictError(`update conflict: ${id}`, err.key);
    if (err instanceof NotFoundError) return new NotFoundError(`resource does not exist: ${id} with error: <nil>`);
    return err;
  }
}

/** IPAMConfiguration spec -> Calico's stored IPAM config JSON (Go struct tags with omitempty). */
export function encodeIpamConfigSpec(spec: Record<string, any>): string {
  const out: Record<string, unknown> = {};
  if (spec.strictAffinity === true) out.strict_affinity = true;
  // Calico's v3 default for autoAllocateBlocks is true.
  if (spec.autoAllocateBlocks !== false) out.auto_allocate_blocks = true;
  if (spec.maxBlocksPerHost) out.maxBlocksPerHost = spec.maxBlocksPerHost;
  if (spec.ipCooldownSeconds) out.ipCooldownSeconds = spec.ipCooldownSeconds;
  if (spec.kubeVirtVMAddressPersistence) out.kubeVirtVMAddressPersistence = spec.kubeVirtVMAddressPersistence;
  return JSON.stringify(out);
}

/** Calico's stored IPAM config JSON -> IPAMConfiguration spec (every field explicit, as calicoctl prints it). */
export function decodeIpamConfigSpec(value: string): Record<string, unknown> {
  const raw = (value ? JSON.parse(value) : {}) as Record<string, unknown>;
  const spec: Record<string, unknown> = {
    strictAffinity: raw.strict_affinity === true,
    autoAllocateBlocks: raw.auto_allocate_blocks === true,
    maxBlocksPerHost: typeof raw.maxBlocksPerHost === 'number' ? raw.maxBlocksPerHost : 0,
  };
  if (typeof raw.ipCooldownSeconds === 'number') spec.ipCooldownSeconds = raw.ipCooldownSeconds;
  if (typeof raw.kubeVirtVMAddressPersistence === 'string') {
    spec.kubeVirtVMAddressPersistence = raw.kubeVirtVMAddressPersistence;
  }
  return spec;
}

/** Same user-visible content: everything except the datastore-owned metadata; empty maps equal absent ones. */
function sameContent(a: Resource, b: Resource): boolean {
  const strip = (r: Resource): unknown => {
    const metadata: Record<string, unknown> = { ...r.metadata };
    for (const f of SERVER_METADATA) delete metadata[f];
    for (const f of ['labels', 'annotations']) {
      const v = metadata[f];
      if (v && typeof v === 'object' && Object.keys(v).length === 0) delete metadata[f];
    }
    if (r.kind === 'IPAMConfiguration') return { spec: decodeIpamConfigSpec(encodeIpamConfigSpec(r.spec)) };
    return { metadata, spec: r.spec ?? {}, status: r.status };
  };
  return canonical(strip(a)) === canonical(strip(b));
}

/** JSON with object keys sorted, so key order never makes two equal objects differ. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export interface ClusterInformationOptions {
  calicoVersion?: string;
  clusterType?: string;
}

/**
 * ClusterInformation `default`, created on first use as Calico does: a random clusterGUID and datastoreReady true.
 * An existing object keeps its GUID; a missing GUID is filled and a missing datastoreReady set to true (an explicit
 * false — a datastore locked for migration — is left alone). calicoVersion/clusterType are updated when given.
 */
export async function ensureClusterInformation(
  client: ResourceClient,
  opts: ClusterInformationOptions = {},
): Promise<Resource> {
  for (let attempt = 0; ; attempt++) {
    const current = await client.find('ClusterInformation', 'default');
    try {
      if (!current) {
        const spec: Record<string, unknown> = { clusterGUID: randomBytes(16).toString('hex'), datastoreReady: true };
        if (opts.calicoVersion) spec.calicoVersion = opts.calicoVersion;
        if (opts.clusterType) spec.clusterType = opts.clusterType;
        return await client.create({
          apiVersion: CALICO_API_VERSION,
          kind: 'ClusterInformation',
          metadata: { name: 'default' },
          spec,
        });
      }
      const spec = { ...current.spec };
      if (!spec.clusterGUID) spec.clusterGUID = randomBytes(16).toString('hex');
      if (spec.datastoreReady === undefined || spec.datastoreReady === null) spec.datastoreReady = true;
      if (opts.calicoVersion) spec.calicoVersion = opts.calicoVersion;
      if (opts.clusterType) spec.clusterType = opts.clusterType;
      if (canonical(spec) === canonical(current.spec)) return current;
      return await client.update({ ...current, spec });
    } catch (err) {
      // Another process created or changed it meanwhile: read again.
      if ((err instanceof AlreadyExistsError || err instanceof ConflictError) && attempt < 10) continue;
      throw err;
    }
  }
}

/**
 * Calico's datastore initialisation (libcalico-go EnsureInitialized): ClusterInformation, then the built-in tiers.
 * Every step is tried (unless the datastore is unreachable); the first failure is thrown after the others ran.
 */
export async function ensureInitialized(client: ResourceClient, opts: ClusterInformationOptions = {}): Promise<void> {
  const errors: unknown[] = [];
  for (const step of [() => ensureClusterInformation(client, opts), () => ensureBuiltInTiers(client)]) {
    try {
      await step();
    } catch (err) {
      errors.push(err);
      if (err instanceof UnreachableError) break; // each later step would wait out the same timeout
    }
  }
  if (errors.length) throw errors[0];
}
