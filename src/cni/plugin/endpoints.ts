// The plugin's datastore view: WorkloadEndpoints (get, create-or-update by CAS, delete with the containerID guard),
// the ClusterInformation readiness gate and the per-network Profile. Values are the full v3 JSON objects at
// Calico's keys; metadata.resourceVersion on read is the key's revision.
import { randomUUID } from 'node:crypto';
import { resourceKey, resourcePrefix } from '../../datastore/keys.js';
import { AlreadyExistsError, ConflictError, NotFoundError, type Datastore } from '../../datastore/types.js';
import { CALICO_API_VERSION, type Resource } from '../../api/resource.js';
import { CniError } from '../skel/types.js';

export interface WorkloadEndpointSpec {
  orchestrator: string;
  workload?: string;
  node: string;
  containerID?: string;
  pod?: string;
  endpoint: string;
  serviceAccountName?: string;
  ipNetworks: string[];
  ipNATs?: { internalIP: string; externalIP: string }[];
  profiles: string[];
  interfaceName: string;
  mac?: string;
  ports?: { name: string; protocol: string; port: number; hostPort?: number; hostIP?: string }[];
  allowSpoofedSourcePrefixes?: string[];
}
export type WorkloadEndpoint = Resource<WorkloadEndpointSpec>;

/** Kubernetes' metav1.Time form, as the resource client and calicoctl write it: whole seconds, `Z`. */
const rfc3339Now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class EndpointStore {
  constructor(readonly ds: Datastore) {}

  async get(namespace: string, name: string): Promise<WorkloadEndpoint | undefined> {
    const kv = await this.ds.get(resourceKey('WorkloadEndpoint', name, namespace));
    if (!kv) return undefined;
    const wep = JSON.parse(kv.value) as WorkloadEndpoint;
    wep.metadata.resourceVersion = String(kv.revision);
    return wep;
  }

  /** Every WorkloadEndpoint (all namespaces), for GC. */
  async list(): Promise<WorkloadEndpoint[]> {
    const res = await this.ds.list(resourcePrefix('WorkloadEndpoint'));
    return res.items.map((kv) => {
      const wep = JSON.parse(kv.value) as WorkloadEndpoint;
      wep.metadata.resourceVersion = String(kv.revision);
      return wep;
    });
  }

  /**
   * Creates the endpoint, or replaces the existing one by CAS (retried on conflict). Returns whether it created.
   * `known` is the caller's fresh read of the same key (null: absent), used as the first CAS base instead of a read.
   */
  async write(
    wep: WorkloadEndpoint,
    known?: WorkloadEndpoint | null,
  ): Promise<{ created: boolean; previous?: WorkloadEndpoint }> {
    const key = resourceKey('WorkloadEndpoint', wep.metadata.name, wep.metadata.namespace);
    for (let attempt = 0; attempt < 10; attempt++) {
      const kv =
        attempt === 0 && known !== undefined
          ? known && { value: JSON.stringify(known), revision: Number(known.metadata.resourceVersion) }
          : await this.ds.get(key);
      try {
        if (!kv) {
          const body = {
            ...wep,
            metadata: { ...wep.metadata, uid: randomUUID(), creationTimestamp: rfc3339Now() },
          };
          delete body.metadata.resourceVersion;
          await this.ds.create(key, JSON.stringify(body));
          return { created: true };
        }
        const previous = JSON.parse(kv.value) as WorkloadEndpoint;
        const body = {
          ...wep,
          metadata: {
            ...wep.metadata,
            uid: previous.metadata.uid,
            creationTimestamp: previous.metadata.creationTimestamp,
          },
        };
        delete body.metadata.resourceVersion;
        await this.ds.update(key, JSON.stringify(body), kv.revision);
        return { created: false, previous };
      } catch (err) {
        if (err instanceof ConflictError || err instanceof AlreadyExistsError || err instanceof NotFoundError) continue;
        throw err;
      }
    }
    throw new CniError(
      11,
      `workload endpoint ${wep.metadata.namespace}/${wep.metadata.name}: too many concurrent updates`,
    );
  }

  /** Writes back a previous version (rollback of an update). */
  async restore(previous: WorkloadEndpoint): Promise<void> {
    const key = resourceKey('WorkloadEndpoint', previous.metadata.name, previous.metadata.namespace);
    const body = { ...previous, metadata: { ...previous.metadata } };
    delete body.metadata.resourceVersion;
    await this.ds.put(key, JSON.stringify(body));
  }

  /**
   * Deletes the endpoint unless it belongs to another container (a newer sandbox of the same pod owns it).
   * Missing is fine. Returns the deleted endpoint, if any.
   */
  async deleteOwned(namespace: string, name: string, containerId: string): Promise<WorkloadEndpoint | undefined> {
    const key = resourceKey('WorkloadEndpoint', name, namespace);
    for (let attempt = 0; attempt < 6; attempt++) {
      const kv = await this.ds.get(key);
      if (!kv) return undefined;
      const wep = JSON.parse(kv.value) as WorkloadEndpoint;
      if (wep.spec.containerID && wep.spec.containerID !== containerId) return undefined;
      try {
        await this.ds.delete(key, kv.revision);
        return wep;
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        if (err instanceof ConflictError) continue;
        throw err;
      }
    }
    throw new CniError(11, `workload endpoint ${namespace}/${name}: too many concurrent updates while deleting`);
  }

  /** Calico refuses to work while ClusterInformation `default` says datastoreReady: false (an upgrade is running). */
  async requireReady(): Promise<void> {
    const kv = await this.ds.get(resourceKey('ClusterInformation', 'default'));
    if (!kv) return;
    const ci = JSON.parse(kv.value) as Resource<{ datastoreReady?: boolean }>;
    if (ci.spec?.datastoreReady === false) {
      throw new CniError(
        11,
        'Calico is currently not ready to process requests',
        'ClusterInformation default has datastoreReady: false',
      );
    }
  }

  /** Without `policy.type: k8s`, endpoints use a Profile named after the network; create it if absent (as Calico). */
  async ensureNetworkProfile(network: string, orchestrator: string): Promise<void> {
    const key = resourceKey('Profile', network);
    if (await this.ds.get(key)) return;
    const profile: Resource = {
      apiVersion: CALICO_API_VERSION,
      kind: 'Profile',
      metadata: { name: network, uid: randomUUID(), creationTimestamp: rfc3339Now() },
      spec: {
        ingress: [
          orchestrator === 'k8s' ? { action: 'Allow' } : { action: 'Allow', source: { selector: `has(${network})` } },
        ],
        egress: [{ action: 'Allow' }],
        labelsToApply: { [network]: '' },
      },
    };
    try {
      await this.ds.create(key, JSON.stringify(profile));
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err;
    }
  }
}
