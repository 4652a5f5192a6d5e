// Reading the kernel's table back: testdata/tiers.kernel.json is `nft -j list table inet calico` captured after
// loading the "tiers" state with nft 1.0.6. Adopting it must plan nothing (no false drift), and changes to it must
// be found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalAddressElement, parseKernelTable, RuleFingerprints } from './nft-kernel.js';
import { NftTable } from './nft-table.js';
import { RulesetRenderer } from './ruleset.js';
import { stateTiers } from './testdata/states.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const kernelJson = readFileSync(path.join(here, 'testdata', 'tiers.kernel.json'), 'utf8');

test('the kernel listing of a state we programmed reads back as that state: nothing to repair', () => {
  const read = parseKernelTable(kernelJson, new RuleFingerprints());
  assert.equal(read.foreignRules, 0);
  assert.equal(read.alteredRules, 0);
  const t = new NftTable();
  t.adopt(read.state);
  assert.equal(t.plan(new RulesetRenderer().render(stateTiers())).script, '');
});

test('set elements come back in canonical form (prefixes, host addresses, concatenations with protocol numbers)', () => {
  const state = parseKernelTable(kernelJson, new RuleFingerprints()).state!;
  assert.deepEqual(state.sets.get('cali40s_blocked_net')?.elements, ['10.66.0.0/16', '203.0.113.9']);
  assert.deepEqual(state.sets.get('cali40n_http')?.elements, ['10.65.0.4 . 6 . 80']);
  assert.deepEqual(state.sets.get('cali60n_http')?.elements, ['fd00:65::4 . 6 . 80']);
});

test('a rule whose content changed under the same comment is reported as altered', () => {
  const fp = new RuleFingerprints();
  parseKernelTable(kernelJson, fp);
  const doc = JSON.parse(kernelJson);
  const rule = doc.nftables.find((i: any) => i.rule && i.rule.chain.startsWith('filter-cali-pi-')).rule;
  rule.expr = [{ accept: null }];
  const read = parseKernelTable(JSON.stringify(doc), fp);
  assert.equal(read.alteredRules, 1);
  const t = new NftTable();
  t.adopt(read.state);
  assert.match(
    t.plan(new RulesetRenderer().render(stateTiers())).script,
    new RegExp(`^flush chain inet calico ${rule.chain}`),
  );
});

test('a missing table reads as undefined', () => {
  assert.equal(parseKernelTable('{"nftables":[{"metainfo":{}}]}', new RuleFingerprints()).state, undefined);
});

test('canonicalAddressElement', () => {
  assert.equal(canonicalAddressElement('10.0.0.1/32'), '10.0.0.1');
  assert.equal(canonicalAddressElement('10.1.2.3/8'), '10.0.0.0/8');
  assert.equal(canonicalAddressElement('FD00:0::1/128'), 'fd00::1');
});
