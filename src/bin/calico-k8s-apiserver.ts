// calico-k8s-apiserver: the lab's Kubernetes API server (see src/k8s/apiserver/main.ts for flags).
import { runApiServer } from '../k8s/apiserver/main.js';

runApiServer(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`calico-k8s-apiserver: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
