// The routing half of `calico-node` run: start-up (Node, pools, tunnel addresses, MTU), then the RoutingController
// (routes, VXLAN, NAT-outgoing, BIRD) with the host paths of CONVENTIONS.md. main.ts runs the agent in between.
import type { Datastore } from '../datastore/types.js';
import { DEFAULT_BIRD_CONFIG_DIR, DEFAULT_BIRD_SOCKET } from './bird.js';
import { DEFAULT_BGP_SECRETS_DIR, RoutingController } from './controller.js';
import { runStartup, syncTunnels, type StartupResult } from './startup.js';

export { StartupError } from './startup.js';

export async function startNode(
  ds: Datastore,
  env: Record<string, string | undefined>,
  log: (msg: string) => void,
): Promise<StartupResult> {
  return runStartup(ds, { env, log });
}

export async function startRouting(
  ds: Datastore,
  startup: StartupResult,
  env: Record<string, string | undefined>,
  log: (msg: string) => void,
): Promise<RoutingController> {
  const controller = new RoutingController(ds, {
    nodeName: startup.nodeName,
    backend: startup.backend,
    birdSocket: env.CALICO_BIRD_SOCKET || DEFAULT_BIRD_SOCKET,
    birdConfigDir: env.CALICO_BIRD_CONFIG_DIR || DEFAULT_BIRD_CONFIG_DIR,
    secretsDir: env.CALICO_BGP_SECRETS_DIR || DEFAULT_BGP_SECRETS_DIR,
    routerId: env.CALICO_ROUTER_ID || undefined,
    onEncapsulationChange: async () => {
      await syncTunnels(ds, {
        env,
        log,
        nodeName: startup.nodeName,
        ipv4Address: startup.ipv4Address,
        ipv6Address: startup.ipv6Address,
      });
    },
    log,
  });
  await controller.start();
  return controller;
}
