// NftTable's plans: what one transaction contains for a change, in which order, and nothing when nothing changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { elementDiff, NftTable } from './nft-table.js';
import { emptyTableState, nftRule, type NftTableState } from './nft-model.js';
import { RulesetRenderer } from './ruleset.js';
import { stateAllowFromLabel, stateTwoPods } from './testdata/states.js';

const render = (s: ReturnType<typeof stateTwoPods>): NftTableState => new RulesetRenderer().render(s);

test('first plan creates the table; the same state again plans nothing', () => {
  const t = new NftTable();
  const desired = render(stateTwoPods());
  const first = t.plan(desired);
  assert.match(first.script, /^add table inet calico\n/);
  t.committed(desired);
  assert.equal(t.plan(desired).script, '');
  assert.equal(t.plan(render(stateTwoPods())).script, '', 'an equal state rendered anew plans nothing either');
});

test('a changed state rewrites only the chains, sets and map entries that differ', () => {
  const t = new NftTable();
  const a = render(stateTwoPods());
  t.committed(a);
  const plan = t.plan(render(stateAllowFromLabel()));
  const lines = plan.script.trim().split('\n');
  // new policy chains and the new ingress chain of pod-b are created before they are referenced
  const addChain = lines.findIndex((l) =>
    l.startsWith('add chain inet calico filter-cali-pi-np/default/default/allow-a'),
  );
  const mapAdd = lines.findIndex((l) => l.startsWith('add element inet calico filter-cali-to-wl-dispatch-map'));
  const ruleAdd = lines.findIndex((l) =>
    l.startsWith('add rule inet calico filter-cali-pi-np/default/default/allow-a'),
  );
  assert.ok(addChain >= 0 && mapAdd > addChain && ruleAdd > addChain, plan.script);
  // the map entry of pod-b is replaced (delete then add); pod-a's entries are untouched
  assert.ok(
    lines.some((l) => l.startsWith('delete element inet calico filter-cali-to-wl-dispatch-map { "cali2222" }')),
  );
  assert.ok(!lines.some((l) => l.includes('"cali1111"')), 'pod-a unchanged');
  assert.ok(!lines.some((l) => l.startsWith('flush chain inet calico filter-FORWARD')), 'base chains unchanged');
});

test('removed objects: chains are flushed before maps/sets are deleted, chains deleted last', () => {
  const t = new NftTable();
  t.committed(render(stateAllowFromLabel()));
  const lines = t.plan(render(stateTwoPods())).script.trim().split('\n');
  const flush = lines.findIndex((l) => l === 'flush chain inet calico filter-cali-pi-np/default/default/allow-a');
  const delSet = lines.findIndex((l) => l === 'delete set inet calico cali40s_appA');
  const delChain = lines.findIndex((l) => l === 'delete chain inet calico filter-cali-pi-np/default/default/allow-a');
  assert.ok(flush >= 0 && delSet > flush && delChain > delSet, lines.join('\n'));
});

test('a kernel state with a foreign rule in a chain gets that chain rewritten', () => {
  const t = new NftTable();
  const desired = render(stateTwoPods());
  const kernel: NftTableState = { ...desired, chains: new Map(desired.chains) };
  const fwd = desired.chains.get('filter-FORWARD')!;
  kernel.chains.set('filter-FORWARD', { ...fwd, rules: [...fwd.rules, nftRule('counter accept', 'someone else')] });
  t.adopt(kernel);
  const lines = t.plan(desired).script.trim().split('\n');
  assert.equal(lines[0], 'flush chain inet calico filter-FORWARD');
  assert.equal(lines.length, 1 + fwd.rules.length);
});

test('a set whose type differs in the kernel forces a full reload in one transaction', () => {
  const t = new NftTable();
  const desired = render(stateAllowFromLabel());
  const kernel = {
    ...emptyTableState(),
    chains: new Map(desired.chains),
    maps: new Map(desired.maps),
    sets: new Map(desired.sets),
  };
  kernel.sets.set('cali40s_appA', { ...desired.sets.get('cali40s_appA')!, keyType: 'ipv6_addr' });
  t.adopt(kernel);
  const plan = t.plan(desired);
  assert.equal(plan.fullReload, true);
  assert.match(plan.script, /^delete table inet calico\nadd table inet calico\n/);
});

test('elementDiff: merge walk on sorted lists, set difference otherwise', () => {
  assert.deepEqual(elementDiff(['a', 'c', 'd'], ['b', 'c', 'e']), { removed: ['a', 'd'], added: ['b', 'e'] });
  assert.deepEqual(elementDiff(['d', 'a'], ['a', 'b']), { removed: ['d'], added: ['b'] });
});
