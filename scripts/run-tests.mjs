// Runs the test suites with Node's test runner (TypeScript through tsx).
//   unit:   src/**/*.test.ts — no root, no kernel, no servers.
//   system: test/system/**/*.test.ts — root, network namespaces, real etcd/BIRD/nft; run one file at a time.
//   all:    both; exits non-zero if either fails.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const which = process.argv[2] ?? 'all';
const filter = process.argv[3];

function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (entry.endsWith('.test.ts')) out.push(full);
  }
  return out.sort();
}

function run(label, files, concurrency) {
  const selected = filter ? files.filter((f) => f.includes(filter)) : files;
  if (selected.length === 0) {
    console.log(`${label}: no test files`);
    return 0;
  }
  console.log(`\n== ${label} suite: ${selected.length} file(s)`);
  const args = [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    ...selected.map((f) => path.relative(root, f)),
  ];
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env } });
  return result.status ?? 1;
}

let failed = 0;
if (which === 'unit' || which === 'all') failed |= run('unit', findTests(path.join(root, 'src')), 2);
if (which === 'system' || which === 'all') {
  if (process.getuid && process.getuid() !== 0) {
    console.error('system suite needs root (network namespaces, nft, BIRD): run as root');
    failed |= 1;
  } else {
    failed |= run('system', findTests(path.join(root, 'test/system')), 1);
  }
}
process.exit(failed ? 1 : 0);
