// Bundles one file per program (src/bin/<program>.ts -> dist/bin/<program>) and the library entry.
// Programs whose entry file does not exist yet are skipped, so the build never breaks for unwritten parts.
import { build } from 'esbuild';
import { chmod, copyFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const binSrc = path.join(root, 'src/bin');
// Built beside dist/ and swapped in at the end, so programs that are running (a lab, a test) never find dist/ empty.
const staging = path.join(root, `dist.building-${process.pid}`);
const binOut = path.join(staging, 'bin');
// Native or file-reading packages stay outside the bundle and load from node_modules when (lazily) needed.
const external = ['better-sqlite3', 'etcd3', '@kubernetes/client-node', 'pino', 'prom-client', 'node-forge'];

await rm(staging, { recursive: true, force: true });
await mkdir(binOut, { recursive: true });
// Bundles are CommonJS so that extension-less program files run directly; import.meta.url is shimmed.
await writeFile(path.join(staging, 'package.json'), '{ "type": "commonjs" }\n');

const programs = (await readdir(binSrc)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external,
  sourcemap: false,
  logLevel: 'warning',
  define: { 'import.meta.url': '__calico_import_meta_url' },
};
// The CNI plugin starts once per pod call: its import.meta.url is computed only if something reads it.
const lazyMetaUrl = new Set(['calico']);
for (const file of programs) {
  const program = file.replace(/\.ts$/, '');
  const outfile = path.join(binOut, program);
  const lazy = lazyMetaUrl.has(program);
  await build({
    ...common,
    ...(lazy ? { define: { 'import.meta.url': '__calico_meta.url' } } : {}),
    entryPoints: [path.join(binSrc, file)],
    outfile,
    banner: {
      js: lazy
        ? '#!/usr/bin/env node\nconst __calico_meta = { get url() { return require("url").pathToFileURL(__filename).href; } };'
        : '#!/usr/bin/env node\nconst __calico_import_meta_url = require("url").pathToFileURL(__filename).href;',
    },
  });
  await chmod(outfile, 0o755);
}
// Calico's one binary dispatches on its own name: calico-ipam is the calico plugin under another name.
if (existsSync(path.join(binOut, 'calico'))) {
  await copyFile(path.join(binOut, 'calico'), path.join(binOut, 'calico-ipam'));
  await chmod(path.join(binOut, 'calico-ipam'), 0o755);
}
if (existsSync(path.join(root, 'src/index.ts'))) {
  await build({
    ...common,
    entryPoints: [path.join(root, 'src/index.ts')],
    outfile: path.join(staging, 'lib/index.js'),
    banner: { js: 'const __calico_import_meta_url = require("url").pathToFileURL(__filename).href;' },
  });
}
const old = path.join(root, `dist.old-${process.pid}`);
if (existsSync(path.join(root, 'dist'))) await rename(path.join(root, 'dist'), old);
await rename(staging, path.join(root, 'dist'));
await rm(old, { recursive: true, force: true });
console.log(`built ${programs.length} program(s) into dist/bin`);
