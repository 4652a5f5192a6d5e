// calicoctl's entry: the commander program with Calico's global flags; each command group registers itself.
// Kept minimal here — further command groups (get/apply/create/delete, node, datastore) register the same way.
import { Command } from 'commander';
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
  registerIpamCommands(program);
  registerNodeCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv, { from: 'user' });
}
