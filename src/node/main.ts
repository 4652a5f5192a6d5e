// calico-node: one process per node doing node start-up, Felix's job (policy + routes), confd's job (BIRD config)
// and the CNI hand-off socket. Each component exposes a start function taking the NodeContext; this module only
// sequences them and maps the command line.
//
//   calico-node                  run everything (start-up, then agent, routing, CNI server, token renewal)
//   calico-node install-cni      install the CNI plugins, conflist and kubeconfig
//   calico-node -felix-live|-felix-ready|-bird-live|-bird-ready   health probes: exit 0/1 with a one-line reason
import { birdLive, birdReady } from '../routing/probes.js';
import { DEFAULT_BIRD_SOCKET } from '../routing/bird.js';

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  switch (first) {
    case '-bird-live':
    case '-bird-ready': {
      const socket = process.env.CALICO_BIRD_SOCKET ?? DEFAULT_BIRD_SOCKET;
      const r = await (first === '-bird-live' ? birdLive(socket) : birdReady(socket));
      (r.ok ? process.stdout : process.stderr).write(r.message + '\n');
      return r.ok ? 0 : 1;
    }
    case 'install-cni': {
      const { installCniMain } = await import('../cni/install/index.js');
      return installCniMain(rest, {
        env: process.env,
        argv1: process.argv[1],
        out: (t) => process.stdout.write(t),
        err: (t) => process.stderr.write(t),
      });
    }
    default:
      process.stderr.write(`calico-node: unknown argument "${first ?? ''}"; rest: ${rest.join(' ')}\n`);
      return 2;
  }
}
