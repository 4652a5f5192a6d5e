// Test fixture: runs calico-node's CNI hand-off server alone (the piece src/node/main.ts starts), in the namespace it
// is started in, on the socket given as argv[2]. Prints "ready" once listening; SIGTERM closes it.
import { startCniServer } from '../../../src/cni/server.js';

const server = await startCniServer({ socketPath: process.argv[2], log: (l) => process.stderr.write(`agent: ${l}\n`) });
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
