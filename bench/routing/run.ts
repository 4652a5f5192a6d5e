// Routing speed in a 3-node and a 10-node world (namespaces, real BIRD 2, real kernel routes):
//   - BGP and VXLAN: time from a new block written to the datastore to its route in every other node's kernel
//     (median and max over several blocks; seen with `ip monitor route`, so no polling skews it);
//   - BGP: time from all agents started to every session Established.
// Each node's controller runs in its own process against a real etcd. Prints figures; goals at 10 nodes:
// VXLAN <= 250 ms, BGP <= 500 ms, sessions <= 2 s.
// Run: node --import tsx bench/routing/run.ts [nodes...]   (root; everything lives in tr-bench-* namespaces)
import { spawn, type ChildProcess } from 'node:child_process';
import { RoutingWorld, waitFor } from '../../test/support/routing-world.js';
import { readPeerStatus } from '../../src/routing/bird-status.js';

const BLOCKS = 7;

/** Lets the node processes finish reacting to the last change (they are not in this process to ask). */
const quiet = (): Promise<void> => new Promise((r) => setTimeout(r, 500));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Watches route additions in each node namespace and reports when a prefix shows up. */
class RouteWatch {
  private readonly procs: ChildProcess[] = [];
  private readonly seen = new Map<string, Map<string, number>>();

  constructor(namespaces: string[]) {
    for (const ns of namespaces) {
      const p = spawn('ip', ['-n', ns, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let buf = '';
      p.stdout!.on('data', (d: Buffer) => {
        const now = performance.now();
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.startsWith('Deleted')) continue;
          const dst = line.split(' ')[0];
          if (!this.seen.has(dst)) this.seen.set(dst, new Map());
          const m = this.seen.get(dst)!;
          if (!m.has(ns)) m.set(ns, now);
        }
      });
      this.procs.push(p);
    }
  }

  arrivals(dst: string): Map<string, number> {
    return this.seen.get(dst) ?? new Map();
  }

  stop(): void {
    for (const p of this.procs) p.kill('SIGKILL');
  }
}

async function benchMode(n: number, mode: 'bgp' | 'vxlan'): Promise<void> {
  const w = new RoutingWorld({ tag: 'bench', nodes: n });
  let watch: RouteWatch | undefined;
  try {
    await w.build();
    for (const [i, node] of w.nodes.entries()) {
      await w.putNode(node, mode === 'vxlan' ? { vtep: `10.65.${i + 1}.1` } : {});
      await w.putBlock(`10.65.${i + 1}.0/26`, node.name, { [`10.65.${i + 1}.1`]: node.name });
    }
    await w.putResource('BGPConfiguration', 'default', { nodeToNodeMeshEnabled: mode === 'bgp' });
    await w.putResource('IPPool', 'pool', { cidr: '10.65.0.0/16', vxlanMode: mode === 'vxlan' ? 'Always' : 'Never' });
    await w.startNodeProcesses(mode === 'bgp' ? 'bird' : 'vxlan'); // one process per node, as on real nodes
    const started = performance.now(); // every agent has done its first sync
    if (mode === 'bgp') {
      await waitFor(
        'all sessions Established',
        async () => {
          const counts = await Promise.all(
            w.nodes.map(
              async (x) =>
                (await readPeerStatus(x.socket).catch(() => [])).filter((p) => p.bgpState === 'Established').length,
            ),
          );
          return counts.every((c) => c === n - 1);
        },
        60_000,
      );
      console.log(
        `  ${n} nodes, BGP: all agents ready -> every session Established: ${(performance.now() - started).toFixed(0)} ms`,
      );
    }
    await quiet();
    watch = new RouteWatch(w.nodes.map((x) => x.ns));
    const worst: number[] = [];
    const all: number[] = [];
    for (let b = 0; b < BLOCKS; b++) {
      const owner = w.nodes[b % n];
      const cidr = `10.66.${b}.0/26`;
      if (b === 0) {
        await w.putResource('IPPool', 'pool2', {
          cidr: '10.66.0.0/16',
          vxlanMode: mode === 'vxlan' ? 'Always' : 'Never',
        });
      }
      await quiet();
      const t0 = performance.now();
      await w.putBlock(cidr, owner.name);
      const others = w.nodes.filter((x) => x !== owner).map((x) => x.ns);
      await waitFor(`${cidr} on every node`, () => others.every((ns) => watch!.arrivals(cidr).has(ns)), 30_000);
      const times = others.map((ns) => watch!.arrivals(cidr).get(ns)! - t0);
      all.push(...times);
      worst.push(Math.max(...times));
    }
    console.log(
      `  ${n} nodes, ${mode.toUpperCase()}: new block -> route on every node: median ${median(worst).toFixed(1)} ms, ` +
        `max ${Math.max(...worst).toFixed(1)} ms (per-node arrivals: median ${median(all).toFixed(1)} ms; ${BLOCKS} blocks)`,
    );
  } finally {
    watch?.stop();
    await w.teardown();
  }
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((x) => x > 1);
for (const n of sizes.length ? sizes : [3, 10]) {
  console.log(`routing bench, ${n} nodes`);
  await benchMode(n, 'vxlan');
  await benchMode(n, 'bgp');
}
