// Test fixture: the project's Kubernetes API server (src/k8s/apiserver) on 127.0.0.1 of the namespace it is started
// in, over an in-memory datastore. Writes the admin kubeconfig to argv[2] and prints "ready" once listening.
import { writeFileSync } from 'node:fs';
import { MemoryDatastore } from '../../../src/datastore/memory.js';
import { startApiServer } from '../../../src/k8s/apiserver/index.js';

const server = await startApiServer({ datastore: new MemoryDatastore() });
writeFileSync(process.argv[2]!, server.kubeconfig(), { mode: 0o600 });
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
