// The agent as its own process for bench/policy/run.ts (so its RSS is its own; the bench bundles this file with
// esbuild like `npm run build` does, so no TypeScript loader sits in the process). Opens the datastore from the
// environment (DATASTORE_TYPE, ETCD_ENDPOINTS, ...) and runs startAgent until SIGTERM. The bench's etcd listens on
// the root namespace's loopback, so the agent runs there and executes nft in the node namespace (BENCH_NETNS).
import { startAgent } from '../../src/agent/agent.js';
import { NftCommandRunner } from '../../src/agent/dataplane/nft-runner.js';
import { datastoreSettingsFromEnv, openDatastore } from '../../src/datastore/index.js';

async function main(): Promise<void> {
  const ds = await openDatastore(datastoreSettingsFromEnv(process.env));
  const agent = await startAgent({
    nodeName: process.env.NODENAME ?? 'bench-node',
    datastore: ds,
    env: process.env,
    nftRunner: new NftCommandRunner(process.env.BENCH_NETNS ? ['ip', 'netns', 'exec', process.env.BENCH_NETNS] : []),
    health: false,
    metrics: false,
  });
  await new Promise<void>((resolve) => process.once('SIGTERM', resolve));
  await agent.stop();
  await ds.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`agent-process: ${String(err)}\n`);
    process.exit(1);
  },
);
