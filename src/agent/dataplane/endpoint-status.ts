// Endpoint status files: after a transaction that programmed a local workload endpoint, the agent writes one file
// per endpoint so the CNI plugin (policy_setup_timeout_seconds) can wait until the pod's policy is in place.
//
// Directory: CALICO_ENDPOINT_STATUS_DIR, default /var/run/calico/endpoint-status/.
// File name: the WorkloadEndpoint's key `<namespace>/<wep name>` URL-encoded (`/` -> `%2F`), see
//            `endpointStatusFileName`; e.g. `default%2Fnode1-k8s-nginx-eth0`.
// Content:   one JSON object, written atomically (temp file + rename):
//            {"status":"up","namespace":"default","workloadEndpoint":"node1-k8s-nginx-eth0","interfaceName":"cali1234",
//             "ipNetworks":["10.65.0.2/32"],"programmedAt":"2026-01-01T00:00:00.000Z"}
//            `status` is "up" once the endpoint's chains and dispatch entries are in the kernel. The file is removed
//            when the endpoint leaves this node's dataplane. A waiter treats a missing file as "not yet".
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DataplaneSnapshot, LocalWorkloadEndpoint } from '../calc/model.js';

export const DEFAULT_ENDPOINT_STATUS_DIR = '/var/run/calico/endpoint-status';

export const endpointStatusFileName = (namespace: string, wepName: string): string =>
  encodeURIComponent(`${namespace}/${wepName}`);

export interface EndpointStatusFile {
  status: 'up';
  namespace: string;
  workloadEndpoint: string;
  interfaceName: string;
  ipNetworks: string[];
  programmedAt: string;
}

export class EndpointStatusReporter {
  /** endpoint id -> its file name and the endpoint object the file was written for */
  private written = new Map<string, { file: string; ep: LocalWorkloadEndpoint }>();
  /** Files a previous run left, not (yet) claimed by an endpoint; removed after the first report. */
  private leftOver: Set<string> | undefined;
  private initialised = false;
  private dirMade = false;
  /** The endpoints map of the last complete report. */
  private reported: DataplaneSnapshot['endpoints'] | undefined;

  constructor(readonly dir: string) {}

  /**
   * Writes files for endpoints new or changed since the last call and removes files of endpoints that left. Only
   * changed endpoints cost anything (the snapshot shares unchanged endpoint objects), so it runs after every apply.
   */
  async report(snapshot: DataplaneSnapshot): Promise<void> {
    if (!this.initialised) {
      // Files left by a previous run for endpoints that are gone are removed below. The directory itself is only
      // created once there is something to write.
      const existing = await readdir(this.dir).catch(() => [] as string[]);
      this.leftOver = new Set(existing.filter((f) => !f.startsWith('.')));
      this.initialised = true;
    }
    // The graph hands out the same endpoints map while no endpoint changed: nothing to write or remove then.
    if (snapshot.endpoints === this.reported) return;
    let now: string | undefined;
    for (const ep of snapshot.endpoints.values()) {
      if (ep.kind !== 'workload') continue;
      const prev = this.written.get(ep.id);
      if (prev?.ep === ep) continue;
      const file = prev?.file ?? endpointStatusFileName(ep.namespace, ep.name);
      this.leftOver?.delete(file);
      const body: EndpointStatusFile = {
        status: 'up',
        namespace: ep.namespace,
        workloadEndpoint: ep.name,
        interfaceName: ep.interfaceName,
        ipNetworks: [...ep.ipv4Nets, ...ep.ipv6Nets],
        programmedAt: (now ??= new Date().toISOString()),
      };
      if (!this.dirMade) {
        await mkdir(this.dir, { recursive: true });
        this.dirMade = true;
      }
      const tmp = path.join(this.dir, `.${file}.tmp`);
      await writeFile(tmp, JSON.stringify(body) + '\n');
      await rename(tmp, path.join(this.dir, file));
      this.written.set(ep.id, { file, ep });
    }
    // Over the keys, not the entries: no [id, record] pair allocated per endpoint on every apply.
    for (const id of this.written.keys()) {
      if (snapshot.endpoints.get(id)?.kind === 'workload') continue;
      await rm(path.join(this.dir, this.written.get(id)!.file), { force: true });
      this.written.delete(id);
    }
    if (this.leftOver) {
      for (const file of this.leftOver) await rm(path.join(this.dir, file), { force: true });
      this.leftOver = undefined;
    }
    this.reported = snapshot.endpoints;
  }
}
