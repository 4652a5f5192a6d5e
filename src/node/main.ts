// calico-node: one process per node doing node start-up, Felix's job (policy + routes), confd's job (BIRD config)
// and the CNI hand-off socket. Each component exposes a start function taking the NodeContext; this module only
// sequences them and maps the command line.
//
//   calico-node                  run everything (start-up, then agent, routing, CNI server, token renewal)
//   calico-node install-cni      install the CNI plugins, conflist and kubeconfig
//   calico-node -felix-live|-felix-ready|-bird-live|-bird-ready   health probes: exit 0/1 with a one-line reason
import { birdLive, birdReady } from '../routing/probes.js';
import { DEFAULT_BIRD_SOCKET } from '../routing/bird.js';

const PROBE_FLAGS = ['-felix-live', '-felix-ready', '-bird-live', '-bird-ready'];

export async function main(argv: string[]): Promise<number> {
  // Several probe flags at once (the manifests' `calico-node -felix-live -bird-live`): all must pass.
  if (argv.length > 1 && argv.every((a) => PROBE_FLAGS.includes(a))) {
    let code = 0;
    for (const flag of argv) code = Math.max(code, await main([flag]));
    return code;
  }
  const [first, ...rest] = argv;
  switch (first) {
    case '-bird-live':
    case '-bird-ready': {
      const socket = process.env.CALICO_BIRD_SOCKET ?? DEFAULT_BIRD_SOCKET;
      const r = await (first === '-bird-live' ? birdLive(socket) : birdReady(socket));
      (r.ok ? process.stdout : process.stderr).write(r.message + '\n');
      return r.ok ? 0 : 1;
    }
    case '-felix-live':
    case '-felix-ready': {
      const { felixProbe } = await import('../agent/probes.js');
      const r = await felixProbe(first === '-felix-live' ? 'liveness' : 'readiness', process.env);
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
    case undefined:
    case 'run':
      return runNode();
    default:
      process.stderr.write(`calico-node: unknown argument "${first ?? ''}"; rest: ${rest.join(' ')}\n`);
      return 2;
  }
}

/** `calico-node` run: start-up, then the agent, then routing; runs until SIGTERM/SIGINT. */
async function runNode(): Promise<number> {
  const log = (msg: string): void => void process.stderr.write(`${new Date().toISOString()} calico-node: ${msg}\n`);
  // Installed first, so a SIGTERM during start-up still stops everything cleanly.
  const stopRequested = new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  const { openDatastore, datastoreSettingsFromEnv } = await import('../datastore/index.js');
  const { startNode, startRouting, StartupError } = await import('../routing/node-routing.js');
  const ds = await openDatastore(datastoreSettingsFromEnv(process.env));
  let startup;
  try {
    startup = await startNode(ds, process.env, log);
  } catch (err) {
    await ds.close();
    if (err instanceof StartupError) {
      process.stderr.write(`calico-node: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  // The agent (policy dataplane): programs table inet calico and serves health/metrics.
  const { startAgent } = await import('../agent/agent.js');
  const agent = await startAgent({ nodeName: startup.nodeName, datastore: ds, env: process.env });
  const routing = await startRouting(ds, startup, process.env, log);
  // The CNI hand-off socket: the calico plugin hands its requests here to run with warm datastore and IPAM state.
  const { startCniServer } = await import('../cni/server.js');
  const cni = await startCniServer({ log: (line) => log(`cni-server: ${line}`) });
  // Keeps the CNI plugin's kubeconfig token current (TokenRequest), when a Kubernetes API is configured.
  const { startTokenRenewal } = await import('../k8s/credentials.js');
  const tokens = await startTokenRenewal({ env: process.env, log: (line) => log(`cni-token: ${line}`) }).catch(
    (err: Error) => void log(`cni-token: renewal not started: ${err.message}`),
  );
  await stopRequested;
  tokens?.stop();
  await cni.close();
  await routing.stop();
  await agent.stop();
  await ds.close();
  return 0;
}
