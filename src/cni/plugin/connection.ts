// `calico -t`: reads the network config from stdin, opens the datastore it names and reads ClusterInformation
// `default` — the check Calico's plugin flag makes. Resolves with a one-line summary; throws CniError 100 on failure.
import { resourceKey } from '../../datastore/keys.js';
import { CniError } from '../skel/types.js';

export async function testDatastoreConnection(stdin: string, env: Record<string, string | undefined>): Promise<string> {
  let conf: Record<string, unknown>;
  try {
    conf = JSON.parse(stdin) as Record<string, unknown>;
  } catch (err) {
    throw new CniError(100, `failed to parse the network config on stdin: ${(err as Error).message}`);
  }
  const { openDatastore, datastoreSettingsFromNetConf } = await import('../../datastore/index.js');
  try {
    const ds = await openDatastore(datastoreSettingsFromNetConf(conf, env), { timeoutMs: 10_000 });
    try {
      const kv = await ds.get(resourceKey('ClusterInformation', 'default'));
      return `${ds.description}: reachable; ClusterInformation default ${kv ? 'present' : 'absent'}`;
    } finally {
      await ds.close();
    }
  } catch (err) {
    throw new CniError(100, `datastore connection test failed: ${(err as Error).message}`);
  }
}
