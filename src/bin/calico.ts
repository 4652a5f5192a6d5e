// The `calico` CNI plugin executable; under the name `calico-ipam` it is the IPAM plugin (see src/cni/program.ts).
import { runCniProgram } from '../cni/program.js';
import { writeAll } from '../cni/fd-output.js';

runCniProgram({
  argv0: process.argv[1] ?? 'calico',
  args: process.argv.slice(2),
  env: process.env,
  stdout: (t) => writeAll(1, t),
  stderr: (t) => writeAll(2, t),
}).then(
  // Exit at once: open datastore handles must not keep a runtime waiting (output is written synchronously).
  (code) => process.exit(code),
  (err: unknown) => {
    const msg = err instanceof Error ? err.message : String(err);
    writeAll(1, JSON.stringify({ cniVersion: '1.1.0', code: 999, msg }, null, 4) + '\n');
    process.exit(1);
  },
);
