import { main } from '../node/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`calico-node: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
