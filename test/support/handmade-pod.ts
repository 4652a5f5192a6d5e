// Plugs a pod into a node by hand, the way Calico's CNI plugin does (test-machine.md recipe): a veth whose host end
// has the ee:ee:.. MAC, proxy ARP and a /32 route, and in the pod the address, a route to 169.254.1.1 and a
// permanent neighbour entry for it. For tests and benches that exercise the agent without the CNI plugin.
import { execFileSync } from 'node:child_process';

const ip = (args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

/** The pod's namespace must exist; hostIf is created in nodeNs, its peer becomes eth0 in podNs. */
export function plugHandmadePod(nodeNs: string, podNs: string, hostIf: string, podIp: string): void {
  ip(['-n', nodeNs, 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', podNs]);
  ip(['-n', nodeNs, 'link', 'set', hostIf, 'address', 'ee:ee:ee:ee:ee:ee', 'up']);
  execFileSync('ip', [
    'netns',
    'exec',
    nodeNs,
    'sysctl',
    '-qw',
    `net.ipv4.conf.${hostIf}.proxy_arp=1`,
    `net.ipv4.neigh.${hostIf}.proxy_delay=0`,
  ]);
  ip(['-n', nodeNs, 'route', 'add', `${podIp}/32`, 'dev', hostIf, 'scope', 'link']);
  ip(['-n', podNs, 'addr', 'add', `${podIp}/32`, 'dev', 'eth0']);
  ip(['-n', podNs, 'link', 'set', 'eth0', 'up']);
  ip(['-n', podNs, 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
  ip(['-n', podNs, 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
  ip(['-n', podNs, 'neigh', 'add', '169.254.1.1', 'dev', 'eth0', 'lladdr', 'ee:ee:ee:ee:ee:ee', 'nud', 'permanent']);
}
