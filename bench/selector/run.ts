// Selector and label-index speed figures (issue 2): selectors parsed per second, matches per second for a 3-term
// selector over 8 labels, and for the label index with 10,000 endpoints x 1,000 selectors: build time, heap used,
// and the time from one label change until the subscriber has received every resulting membership event.
// Run: node --import tsx bench/selector/run.ts
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LabelIndex, parseSelector, type Selector } from '../../src/selector/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ENDPOINTS = 10_000;
const SELECTORS = 1_000;
const NAMESPACES = 50;
const APPS = 200;
const TIERS = ['fe', 'be', 'db', 'cache'];

// Deterministic pseudo-random numbers so runs are comparable.
let seed = 12345;
function rand(n: number): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
}

function report(name: string, figure: string, goal?: string, met?: boolean): void {
  const verdict = goal === undefined ? '' : `   goal ${goal}: ${met ? 'met' : 'NOT met'}`;
  console.log(`${name.padEnd(44)} ${figure.padStart(16)}${verdict}`);
}

function endpointLabels(i: number, app = i % APPS, tier = TIERS[i % 4]): Record<string, string> {
  return {
    app: `app-${app}`,
    tier,
    version: `v${i % 3}`,
    env: ['prod', 'staging', 'dev'][i % 3],
    'pod-template-hash': `h${Math.floor(i / 10)}`,
    'projectcalico.org/namespace': `ns-${i % NAMESPACES}`,
    'projectcalico.org/orchestrator': 'k8s',
    'projectcalico.org/serviceaccount': `sa-${i % 20}`,
  };
}

function selectorText(j: number): string {
  const app = () => `app-${rand(APPS)}`;
  const ns = () => `ns-${rand(NAMESPACES)}`;
  const kind = j % 20;
  if (kind < 8) return `app == "${app()}" && projectcalico.org/namespace == "${ns()}"`;
  if (kind < 12) return `app in {"${app()}", "${app()}", "${app()}"} && tier == "${TIERS[rand(4)]}"`;
  if (kind < 14) return `pcns.team == "team-${rand(5)}" && app == "${app()}"`;
  if (kind === 14) return `has(app) && tier != "${TIERS[rand(4)]}" && env == "prod"`;
  if (kind === 15) return `version starts with "v${rand(3)}" && app ends with "-${rand(10)}"`;
  if (kind === 16) return `!has(quarantine-${rand(10)})`;
  if (kind === 17) return `env == "prod" || tier == "${TIERS[rand(4)]}"`;
  if (kind === 18) return `app not in {"${app()}", "${app()}"} && pcns.projectcalico.org/name == "${ns()}"`;
  return `(app == "${app()}" || app == "${app()}") && !has(canary)`;
}

function benchParse(): void {
  const texts = Array.from({ length: 1000 }, (_, j) => selectorText(j));
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 1e9) {
    for (const t of texts) parseSelector(t);
    n += texts.length;
    elapsed = Number(process.hrtime.bigint() - start);
  }
  report('selectors parsed per second', Math.round(n / (elapsed / 1e9)).toLocaleString('en'));
}

function benchMatch(): void {
  const sel = parseSelector('app == "app-7" && tier in {"fe", "be"} && has(env)');
  const labelSets = [
    endpointLabels(7, 7, 'fe'),
    endpointLabels(8, 7, 'db'),
    endpointLabels(9, 9, 'fe'),
    endpointLabels(207, 7, 'be'),
  ];
  let hits = 0;
  const rounds = 5_000_000;
  for (let r = 0; r < 200_000; r++) if (sel.matches(labelSets[r & 3])) hits++; // warm-up
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) if (sel.matches(labelSets[r & 3])) hits++;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const perSecond = (rounds / seconds) * 1;
  if (hits === 0) throw new Error('benchmark selector never matched');
  report(
    'matches per second (3 terms, 8 labels)',
    Math.round(perSecond).toLocaleString('en'),
    '>= 5,000,000',
    perSecond >= 5_000_000,
  );
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function benchLabelIndex(): void {
  let events = 0;
  const selectors: Selector[] = Array.from({ length: SELECTORS }, (_, j) => parseSelector(selectorText(j)));
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const buildStart = process.hrtime.bigint();
  const index = new LabelIndex<number, number>({
    onMatchStarted: () => void events++,
    onMatchStopped: () => void events++,
  });
  for (let n = 0; n < NAMESPACES; n++) {
    index.updateParentLabels(`kns.ns-${n}`, {
      'pcns.projectcalico.org/name': `ns-${n}`,
      'pcns.team': `team-${n % 5}`,
    });
  }
  // Half the selectors before the endpoints and half after, to time both paths.
  for (let j = 0; j < SELECTORS / 2; j++) index.updateSelector(j, selectors[j]);
  for (let i = 0; i < ENDPOINTS; i++) index.updateItem(i, endpointLabels(i), [`kns.ns-${i % NAMESPACES}`]);
  for (let j = SELECTORS / 2; j < SELECTORS; j++) index.updateSelector(j, selectors[j]);
  const buildMs = Number(process.hrtime.bigint() - buildStart) / 1e6;
  gc();
  const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  let matches = 0;
  for (let j = 0; j < SELECTORS; j++) matches += index.itemsMatching(j).length;

  report('label index: endpoints x selectors', `${ENDPOINTS} x ${SELECTORS}`);
  report('label index: matching pairs after build', matches.toLocaleString('en'));
  report('label index: build time', `${buildMs.toFixed(0)} ms`);
  report('label index: heap used by the index', `${heapMiB.toFixed(1)} MiB`);

  // One label change on one endpoint (its app or tier), until every resulting event has been delivered.
  const samples: number[] = [];
  let changedEvents = 0;
  const current = Array.from({ length: ENDPOINTS }, (_, i) => ({ app: i % APPS, tier: TIERS[i % 4] }));
  for (let r = 0; r < 20_000; r++) {
    const i = rand(ENDPOINTS);
    const ep = current[i];
    if (r & 1) ep.app = rand(APPS);
    else ep.tier = TIERS[rand(4)];
    const labels = endpointLabels(i, ep.app, ep.tier);
    const before = events;
    const start = process.hrtime.bigint();
    index.updateItem(i, labels, [`kns.ns-${i % NAMESPACES}`]);
    const ns = Number(process.hrtime.bigint() - start);
    if (r >= 2_000) {
      samples.push(ns / 1000);
      changedEvents += events - before;
    }
  }
  samples.sort((a, b) => a - b);
  const median = quantile(samples, 0.5);
  report('label change -> all events delivered, median', `${median.toFixed(1)} us`, '<= 50 us', median <= 50);
  report('label change -> all events delivered, p99', `${quantile(samples, 0.99).toFixed(1)} us`);
  report('membership events per label change (mean)', (changedEvents / samples.length).toFixed(2));

  // A namespace (parent) label change reaching every endpoint in it.
  const nsSamples: number[] = [];
  for (let r = 0; r < 200; r++) {
    const n = rand(NAMESPACES);
    const start = process.hrtime.bigint();
    index.updateParentLabels(`kns.ns-${n}`, { 'pcns.projectcalico.org/name': `ns-${n}`, 'pcns.team': `team-${r % 5}` });
    nsSamples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  nsSamples.sort((a, b) => a - b);
  report(
    `namespace label change (${ENDPOINTS / NAMESPACES} endpoints), median`,
    `${quantile(nsSamples, 0.5).toFixed(0)} us`,
  );
}

console.log('bench/selector');
benchParse();
benchMatch();
benchLabelIndex();
