// Renders Calico's NAT-outgoing and tunnel masquerade (dataplane.md §4.3) as our own nftables tables `ip calico` and
// `ip6 calico`, as one `nft -f` script that replaces both tables atomically.
// In: IP pools + tunnel device names. Out: nft script text (golden-tested). Pure.
import type { RoutingPool } from './state.js';

export const NAT_TABLE = 'calico';

export interface NatRenderInput {
  pools: RoutingPool[];
  /** Tunnel devices that exist on this node (host-originated traffic into them gets the tunnel address). */
  tunnelDevices: string[];
}

function setBlock(name: string, type: string, cidrs: string[]): string[] {
  const lines = [`  set ${name} {`, `    type ${type};`, '    flags interval;'];
  if (cidrs.length) lines.push(`    elements = { ${cidrs.join(', ')} };`);
  lines.push('  }');
  return lines;
}

/** The full script: create-then-delete makes the delete safe when the table is absent; all in one transaction. */
export function renderNatRuleset(input: NatRenderInput): string {
  const out: string[] = [
    '#!/usr/sbin/nft -f',
    '# NAT-outgoing and tunnel masquerade, rendered by calico-node. Replaced as a whole.',
  ];
  for (const family of [4, 6] as const) {
    const t = family === 4 ? 'ip' : 'ip6';
    const addrType = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
    const pools = input.pools.filter((p) => p.family === family);
    const masq = pools.filter((p) => p.natOutgoing && !p.disabled).map((p) => p.cidr);
    const all = pools.map((p) => p.cidr);
    const tunnels = input.tunnelDevices.filter((d) => (family === 4 ? !d.includes('v6') : d.includes('v6')));
    out.push(`table ${t} ${NAT_TABLE} {}`, `delete table ${t} ${NAT_TABLE}`, `table ${t} ${NAT_TABLE} {`);
    out.push(...setBlock('masq-ipam-pools', addrType, masq), ...setBlock('all-ipam-pools', addrType, all));
    out.push('  chain nat-POSTROUTING {', '    type nat hook postrouting priority srcnat + 10; policy accept;');
    for (const dev of tunnels) {
      out.push(
        `    oifname "${dev}" fib saddr . oif type != local fib saddr type local masquerade comment "host traffic into the tunnel takes the tunnel address"`,
      );
    }
    out.push('    jump nat-outgoing', '  }');
    out.push('  chain nat-outgoing {');
    if (masq.length) {
      out.push(`    ${t} saddr @masq-ipam-pools ${t} daddr != @all-ipam-pools masquerade fully-random`);
    }
    out.push('  }', '}');
  }
  return out.join('\n') + '\n';
}
