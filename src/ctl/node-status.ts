// `calicoctl node status`: whether calico-node runs here, then the IPv4 and IPv6 BGP peer tables read from the one
// BIRD control socket (CALICO_BIRD_SOCKET), in Calico's boxed table format. registerNodeCommands() adds the
// `node` command group to the calicoctl program.
import { readdirSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_BIRD_SOCKET } from '../routing/bird.js';
import { readPeerStatus, type BgpPeerStatus } from '../routing/bird-status.js';

export interface NodeStatusOptions {
  socketPath?: string;
  /** Whether calico-node (or calico-felix) runs on this host; default: look through /proc. */
  calicoRunning?: () => boolean;
}

/** Renders rows as Calico's boxed table: centred headings, left-aligned cells, `+---+` rules. */
export function boxTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const rule = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const centre = (t: string, w: number): string => {
    const left = Math.floor((w - t.length) / 2);
    return ' '.repeat(left) + t + ' '.repeat(w - t.length - left);
  };
  const line = (cells: string[], fmt: (t: string, w: number) => string): string =>
    '| ' + cells.map((c, i) => fmt(c, widths[i])).join(' | ') + ' |';
  return [rule, line(headers, centre), rule, ...rows.map((r) => line(r, (t, w) => t.padEnd(w))), rule].join('\n');
}

function peerTable(peers: BgpPeerStatus[]): string {
  return boxTable(
    ['PEER ADDRESS', 'PEER TYPE', 'STATE', 'SINCE', 'INFO'],
    peers.map((p) => [p.address, p.type, p.state, p.since, [p.bgpState, p.info].filter(Boolean).join(' ')]),
  );
}

/** True when a calico-node (not a probe or CLI invocation of it) or calico-felix process runs on this host. */
export function calicoNodeRunning(): boolean {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    const i = argv.findIndex((a) => /(^|\/)calico-(node|felix)(\.[cm]?[jt]s)?$/.test(a));
    if (i < 0) continue;
    const next = argv[i + 1];
    if (next === undefined || next === '-felix' || next === 'run') return true;
  }
  return false;
}

/** The full `calicoctl node status` output and exit code. */
export async function nodeStatus(opts: NodeStatusOptions = {}): Promise<{ code: number; output: string }> {
  const running = (opts.calicoRunning ?? calicoNodeRunning)();
  if (!running) return { code: 1, output: 'Calico process is not running.\n' };
  const out = ['Calico process is running.'];
  let peers: BgpPeerStatus[];
  try {
    peers = await readPeerStatus(opts.socketPath ?? process.env.CALICO_BIRD_SOCKET ?? DEFAULT_BIRD_SOCKET);
  } catch {
    out.push('', 'The BGP backend process (BIRD) is not running.');
    return { code: 0, output: out.join('\n') + '\n' };
  }
  for (const family of [4, 6] as const) {
    const mine = peers.filter((p) => p.family === family);
    out.push('', `IPv${family} BGP status`);
    out.push(mine.length ? peerTable(mine) : `No IPv${family} peers found.`);
  }
  return { code: 0, output: out.join('\n') + '\n' };
}

/** Adds `node status` (and the `node` group) to calicoctl. */
export function registerNodeCommands(program: Command): void {
  const node = program.command('node').description('Calico node management');
  node
    .command('status')
    .description('View the current status of a Calico node (BGP peers from the BIRD socket)')
    .action(async () => {
      const { code, output } = await nodeStatus();
      process.stdout.write(output);
      process.exitCode = code;
    });
}
