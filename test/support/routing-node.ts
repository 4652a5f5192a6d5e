// One node's routing controller as its own process (as calico-node runs on a real node), for benchmarks that
// must not share one event loop between nodes. Env: ROUTING_NODE, ROUTING_NETNS, ROUTING_BACKEND, ETCD_ENDPOINTS,
// CALICO_BIRD_SOCKET, CALICO_BIRD_CONFIG_DIR. Prints "ready" once the first sync is done; SIGTERM stops it.
import { openDatastore } from '../../src/datastore/index.js';
import { RoutingController, type NetworkingBackend } from '../../src/routing/controller.js';

const env = process.env;
const ds = await openDatastore({ type: 'etcdv3', etcdEndpoints: [env.ETCD_ENDPOINTS!] });
const controller = new RoutingController(ds, {
  nodeName: env.ROUTING_NODE!,
  backend: env.ROUTING_BACKEND as NetworkingBackend,
  netns: env.ROUTING_NETNS,
  birdSocket: env.CALICO_BIRD_SOCKET!,
  birdConfigDir: env.CALICO_BIRD_CONFIG_DIR!,
  log: (m) => process.stderr.write(`${env.ROUTING_NODE}: ${m}\n`),
});
await controller.start();
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
await controller.stop();
await ds.close();
process.exit(0);
