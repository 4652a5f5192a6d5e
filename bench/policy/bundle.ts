// Bundles bench/policy/agent-process.ts like `npm run build` bundles the programs (CommonJS, heavy packages
// external), so the process a bench measures is what runs in production: no TypeScript loader in it.
import path from 'node:path';
import { build } from 'esbuild';

/** Writes `<dir>/agent.cjs` and returns its path. */
export async function bundleAgent(dir: string): Promise<string> {
  const bundle = path.join(dir, 'agent.cjs');
  await build({
    entryPoints: [path.resolve('bench/policy/agent-process.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['better-sqlite3', 'etcd3', '@kubernetes/client-node', 'pino', 'prom-client', 'node-forge'],
    logLevel: 'warning',
    define: { 'import.meta.url': '__calico_import_meta_url' },
    banner: { js: 'const __calico_import_meta_url = require("url").pathToFileURL(__filename).href;' },
  });
  return bundle;
}
