// How calicoctl's resource commands reach the datastore (`-c/--config`, else the environment, as ./ipam/connect.ts)
// and Calico's client/cluster version check, which `--allow-version-mismatch` turns off.
import type { Command } from 'commander';
import { ResourceClient } from '../datastore/resources.js';
import type { Datastore } from '../datastore/types.js';
import { ctlDatastoreSettings } from './ipam/connect.js';
import { CALICOCTL_VERSION, releaseOf, versionMismatch } from './version.js';

export interface GlobalOptions {
  config?: string;
  allowVersionMismatch?: boolean;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/** Opens the datastore the settings name; `timeoutMs` bounds every call (env CALICOCTL_TIMEOUT_MS, default 5000). */
export async function openDatastoreFor(opts: GlobalOptions, env = process.env): Promise<Datastore> {
  const { openDatastore } = await import('../datastore/index.js');
  const timeoutMs = Number(env.CALICOCTL_TIMEOUT_MS) > 0 ? Number(env.CALICOCTL_TIMEOUT_MS) : 5000;
  return openDatastore(ctlDatastoreSettings(opts.config, env), { timeoutMs });
}

/** A ResourceClient on the configured datastore, after the version check; close() its datastore when done. */
export async function openResourceClient(opts: GlobalOptions): Promise<ResourceClient> {
  const ds = await openDatastoreFor(opts);
  const client = new ResourceClient(ds);
  try {
    if (!opts.allowVersionMismatch) {
      const info = await client.find('ClusterInformation', 'default').catch((e: Error) => {
        throw new Error(
          `Unable to get Cluster Information to verify version mismatch: ${e.message}\n` +
            'Use --allow-version-mismatch to override.',
        );
      });
      const clusterVersion = typeof info?.spec?.calicoVersion === 'string' ? info.spec.calicoVersion : '';
      if (versionMismatch(CALICOCTL_VERSION, clusterVersion)) {
        throw new Error(
          `Version mismatch.\nClient Version:   ${CALICOCTL_VERSION}\nCluster Version:  ${releaseOf(clusterVersion)}\n` +
            'Use --allow-version-mismatch to override.',
        );
      }
    }
  } catch (e) {
    await ds.close();
    throw e;
  }
  return client;
}
