// Reads BGP peer state from BIRD's `show protocols` over the one control socket (both families), as
// `calicoctl node status` and the `-bird-live` / `-bird-ready` probes need it.
// In: BIRD socket path. Out: one BgpPeerStatus per Mesh_/Node_/Global_ BGP protocol.
import { isIp } from '../net/ip.js';
import { birdCommand } from './bird-socket.js';

export interface BgpPeerStatus {
  /** Recovered peer address, as Calico recovers it (a `_port_<n>` suffix stays, as `.port.<n>`). */
  address: string;
  family: 4 | 6;
  type: 'node-to-node mesh' | 'node specific' | 'global';
  /** BIRD protocol state: up, start, down ... */
  state: string;
  since: string;
  /** BGP state (Established, Active, Connect, ...). */
  bgpState: string;
  /** Extra text after the BGP state, e.g. "Socket: Connection refused". */
  info: string;
}

const TYPES = { Mesh: 'node-to-node mesh', Node: 'node specific', Global: 'global' } as const;

/** Parses the data rows of `show protocols` (reply codes 1002 and continuation lines). */
export function parseProtocols(rows: string[]): BgpPeerStatus[] {
  const out: BgpPeerStatus[] = [];
  for (const row of rows) {
    const cols = row.trim().split(/\s+/);
    if (cols[1] !== 'BGP') continue;
    const m = /^(Global|Node|Mesh)_(.+)$/.exec(cols[0]);
    if (!m) continue;
    const bare = m[2].replace(/_port_\d+$/, '');
    const v4 = isIp(bare.replace(/_/g, '.')) && !bare.includes('__');
    const address = v4 ? m[2].replace(/_/g, '.') : m[2].replace(/_/g, ':');
    out.push({
      address,
      family: v4 ? 4 : 6,
      type: TYPES[m[1] as keyof typeof TYPES],
      state: cols[3] ?? '',
      since: cols[4] ?? '',
      bgpState: cols[5] ?? '',
      info: cols.slice(6).join(' '),
    });
  }
  return out;
}

/** Queries BIRD; throws BirdSocketError when BIRD does not answer. */
export async function readPeerStatus(socketPath: string): Promise<BgpPeerStatus[]> {
  const lines = await birdCommand(socketPath, 'show protocols');
  return parseProtocols(lines.filter((l) => l.code === 1002).map((l) => l.text));
}
