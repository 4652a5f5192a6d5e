// Writes manifests/calico.yaml from src/k8s/manifests (run: node --import tsx src/k8s/manifests/generate.ts).
// A unit test fails when the committed file differs from what this would write.
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCalicoEtcdManifest } from './render.js';

export const MANIFEST_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../manifests/calico.yaml');

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  mkdirSync(path.dirname(MANIFEST_PATH), { recursive: true });
  writeFileSync(MANIFEST_PATH, renderCalicoEtcdManifest());
  process.stdout.write(`wrote ${MANIFEST_PATH}\n`);
}
