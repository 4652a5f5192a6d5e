// calicoctl's entry: the commander program with Calico's global flags; each command group registers itself
// (resource commands from ./commands.ts, `ipam` from ./ipam, `node status` from ./node-status.ts).
import { Command } from 'commander';
import { registerResourceCommands } from './commands.js';
import { registerIpamCommands } from './ipam/index.js';
import { registerNodeCommands } from './node-status.js';

export function buildProgram(): Command {
  const program = new Command('calicoctl')
    .description('The command line tool for Calico-TS (Calico-compatible)')
    .option(
      '-c, --config <FILE>',
      'path to the file containing connection configuration (default /etc/calico/calicoctl.cfg)',
    )
    .option('--allow-version-mismatch', 'allow client and cluster versions mismatch')
    .showHelpAfterError();
  registerResourceCommands(program);
  registerIpamCommands(program);
  registerNodeCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // `get -a` is the old spelling of -A, still accepted by Calico's calicoctl.
  const args = argv[0] === 'get' ? argv.map((a) => (a === '-a' ? '-A' : a)) : argv;
  await buildProgram().parseAsync(args, { from: 'user' });
}
