// How calicoctl's ipam commands reach the datastore: `--config` (default /etc/calico/calicoctl.cfg) when the file
// exists, else the environment (DATASTORE_TYPE, SQLITE_PATH, ETCD_*), as Calico's calicoctl.
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Datastore } from '../../datastore/types.js';
import { datastoreSettingsFromEnv, type DatastoreSettings } from '../../datastore/settings.js';
import { datastoreSettingsFromCalicoctlConfig } from '../../datastore/calicoctl-config.js';

export const DEFAULT_CALICOCTL_CONFIG = '/etc/calico/calicoctl.cfg';

export function ctlDatastoreSettings(configPath: string | undefined, env = process.env): DatastoreSettings {
  const file = configPath ?? DEFAULT_CALICOCTL_CONFIG;
  if (existsSync(file)) return datastoreSettingsFromCalicoctlConfig(readFileSync(file, 'utf8'));
  if (configPath) throw new Error(`calicoctl config file ${configPath} does not exist`);
  return datastoreSettingsFromEnv(env);
}

/** Opens the datastore for a command, using the global `--config` option. */
export async function openForCommand(cmd: Command): Promise<Datastore> {
  const { openDatastore } = await import('../../datastore/index.js');
  const opts = cmd.optsWithGlobals() as { config?: string };
  return openDatastore(ctlDatastoreSettings(opts.config));
}
