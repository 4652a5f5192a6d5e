import { main } from '../lab/cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`calico-lab: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
