// `calicoctl ipam`: show, check, release, configure, split — Calico's subcommands and flags, registered on the
// calicoctl commander program. The work is in ./commands.ts; this file maps flags and prints.
import { writeFile, readFile } from 'node:fs/promises';
import { Command } from 'commander';
import type { Datastore } from '../../datastore/types.js';
import { openForCommand } from './connect.js';
import {
  ipamCheck,
  ipamConfigure,
  ipamReleaseFromReport,
  ipamReleaseIp,
  ipamShow,
  ipamSplit,
  type CommandOutput,
} from './commands.js';

async function run(cmd: Command, fn: (ds: Datastore) => Promise<CommandOutput>): Promise<void> {
  let ds: Datastore | undefined;
  try {
    ds = await openForCommand(cmd);
    const out = await fn(ds);
    process.stdout.write(out.stdout);
    if (out.stderr) process.stderr.write(out.stderr);
    process.exitCode = out.code;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await ds?.close();
  }
}

export function registerIpamCommands(program: Command): void {
  const ipam = program.command('ipam').description('IP address management');

  ipam
    .command('show')
    .description('Show details of Calico IP address usage')
    .option('--ip <ADDR>', 'report whether this IP address is in use, and by whom')
    .option('--show-blocks', 'show detailed information for IP blocks as well as pools')
    .option('--show-borrowed', 'show detailed information for "borrowed" IP addresses')
    .option('--show-configuration', 'show current Calico IPAM configuration')
    .action(async (opts, cmd: Command) => run(cmd, (ds) => ipamShow(ds, opts)));

  ipam
    .command('check')
    .description('Check the integrity of the IPAM datastructures')
    .option('-o, --output <FILE>', 'write a report of the problems found to this file (JSON)')
    .option('--show-all-ips', 'print all IPs that are checked')
    .option('--show-problem-ips', 'print all IPs that are leaked or not allocated properly')
    .option('--kubeconfig <FILE>', 'accepted for compatibility; workloads are read from the datastore')
    .action(async (opts, cmd: Command) =>
      run(cmd, (ds) => ipamCheck(ds, opts, (p, text) => writeFile(p, text, { mode: 0o600 }))),
    );

  ipam
    .command('release')
    .description('Release a Calico assigned IP address')
    .option('--ip <ADDR>', 'the IP address to release')
    .option(
      '--from-report <FILE>',
      'release the leaked addresses listed in an `ipam check -o` report; given several times, only those in all of them',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--force', 'release from a report even if the datastore is not locked or versions differ')
    .action(async (opts, cmd: Command) =>
      run(cmd, async (ds) => {
        const reports = opts.fromReport as string[];
        if (opts.ip && reports.length) return { code: 1, stdout: '', stderr: 'give --ip or --from-report, not both\n' };
        if (opts.ip) return ipamReleaseIp(ds, opts.ip);
        if (reports.length) {
          const files = await Promise.all(reports.map(async (path) => ({ path, text: await readFile(path, 'utf8') })));
          return ipamReleaseFromReport(ds, files, Boolean(opts.force));
        }
        return { code: 1, stdout: '', stderr: 'give --ip=<ADDR> or --from-report=<FILE>\n' };
      }),
    );

  ipam
    .command('configure')
    .description('Configure IPAM')
    .option('--strictaffinity <BOOL>', 'true: nodes never borrow addresses from blocks affine to other nodes')
    .option('--max-blocks-per-host <N>', 'the most blocks a node may claim per IP family (needs strictaffinity)')
    .option('--ip-cooldown-seconds <N>', 'seconds (0-1200) a released address waits before it is handed out again')
    .action(async (opts, cmd: Command) =>
      // commander keys the option by its flag as written: --strictaffinity -> opts.strictaffinity.
      run(cmd, (ds) =>
        ipamConfigure(ds, {
          strictAffinity: opts.strictaffinity,
          maxBlocksPerHost: opts.maxBlocksPerHost,
          ipCooldownSeconds: opts.ipCooldownSeconds,
        }),
      ),
    );

  ipam
    .command('split <NUMBER>')
    .description('Split an IP pool into NUMBER smaller pools (datastore must be locked)')
    .option('--cidr <CIDR>', 'the CIDR of the pool to split')
    .option('--name <NAME>', 'the name of the pool to split')
    .action(async (count: string, opts, cmd: Command) => run(cmd, (ds) => ipamSplit(ds, count, opts)));
}
