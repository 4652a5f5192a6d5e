// Golden files: the nft ruleset rendered for each named state in testdata/states.ts (testdata/<name>.nft), plus
// properties of the rendering a reviewer would otherwise have to check by eye.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RulesetRenderer } from './ruleset.js';
import type { LocalHostEndpoint } from '../calc/model.js';
import { renderTableDocument } from './nft-model.js';
import { NAMED_STATES, stateAllowFromLabel, stateTwoPods } from './testdata/states.js';

const here = path.dirname(fileURLToPath(import.meta.url));

describe('ruleset golden files', () => {
  for (const [name, make] of Object.entries(NAMED_STATES)) {
    test(`state "${name}" renders as testdata/${name}.nft`, () => {
      const text = renderTableDocument(new RulesetRenderer().render(make()));
      const file = path.join(here, 'testdata', `${name}.nft`);
      if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
      assert.equal(text, readFileSync(file, 'utf8'), `ruleset differs from ${file} (UPDATE_GOLDEN=1 rewrites it)`);
    });
  }
});

describe('ruleset rendering', () => {
  test('every rule carries a comment naming its owner and an id, and every policy rule a counter', () => {
    const st = new RulesetRenderer().render(stateAllowFromLabel());
    const pol = st.chains.get('filter-cali-pi-np/default/default/allow-a')!;
    // rule 0 (selector set) once per family, rule 1 (ICMP, IPv4) once
    assert.deepEqual(
      pol.rules.map((r) => r.note),
      [0, 0, 1].map((i) => `np/default/default/allow-a inbound rule ${i}`),
    );
    for (const r of pol.rules) assert.match(r.body, /\bcounter\b/);
    for (const ch of st.chains.values()) for (const r of ch.rules) assert.match(r.id, /^[0-9a-f]{12}$/);
  });

  test('re-rendering an unchanged snapshot yields the identical chain objects', () => {
    const renderer = new RulesetRenderer();
    const snap = stateAllowFromLabel();
    const a = renderer.render(snap);
    const b = renderer.render(snap);
    for (const [name, ch] of a.chains) assert.equal(b.chains.get(name), ch, name);
    for (const [name, s] of a.sets) assert.equal(b.sets.get(name), s, name);
  });

  test('a policy change re-renders its chain only; the endpoint-derived parts are reused and still correct', () => {
    const renderer = new RulesetRenderer();
    const snap = stateAllowFromLabel();
    const a = renderer.render(snap);
    const pid = 'np/default/default/allow-a';
    const pol = snap.policies.get(pid)!;
    const changed = { ...pol, inbound: [{ ...pol.inbound[0]!, dstPorts: [{ first: 8080, last: 8080 }] }] };
    const snap2 = { ...snap, policies: new Map([[pid, changed]]) };
    const b = renderer.render(snap2);
    for (const [name, m] of a.maps) assert.equal(b.maps.get(name), m, name);
    assert.notEqual(b.chains.get(`filter-cali-pi-${pid}`), a.chains.get(`filter-cali-pi-${pid}`));
    assert.equal(renderTableDocument(b), renderTableDocument(new RulesetRenderer().render(snap2)));
  });

  test('a selector IP set becomes one nft set per family, /32 members written as addresses', () => {
    const st = new RulesetRenderer().render(stateAllowFromLabel());
    assert.deepEqual(st.sets.get('cali40s_appA')?.elements, ['10.65.0.2']);
    assert.deepEqual(st.sets.get('cali60s_appA')?.elements, []);
  });

  test('sets of host addresses are plain hash sets; sets with CIDRs are interval sets named _net', async () => {
    const { stateTiers } = await import('./testdata/states.js');
    const st = new RulesetRenderer().render(stateTiers());
    assert.deepEqual(st.sets.get('cali40s_blocked_net')?.flags, ['interval']);
    assert.deepEqual(st.sets.get('cali40s_blocked_net')?.elements, ['10.66.0.0/16', '203.0.113.9']);
    assert.deepEqual(new RulesetRenderer().render(stateAllowFromLabel()).sets.get('cali40s_appA')?.flags, []);
    const po = st.chains.get('filter-cali-po-np/default/default/web')!;
    assert.ok(po.rules.some((r) => r.body.includes('ip daddr @cali40s_blocked_net')));
  });

  test('workload dispatch maps hold exactly the local workload interfaces', () => {
    const st = new RulesetRenderer().render(stateTwoPods());
    const fw = st.maps.get('filter-cali-from-wl-dispatch-map')!;
    assert.deepEqual([...fw.entries.keys()], ['cali1111', 'cali2222']);
    const spoof = st.maps.get('raw-cali-from-wl-dispatch-map')!;
    assert.deepEqual([...spoof.entries.values()], ['goto raw-cali-sp-cali1111', 'goto raw-cali-sp-cali2222']);
  });

  test('endpoints with the same policies share one chain per direction; different policies get their own', () => {
    const st = new RulesetRenderer().render(stateAllowFromLabel());
    const tw = st.maps.get('filter-cali-to-wl-dispatch-map')!.entries;
    const fw = st.maps.get('filter-cali-from-wl-dispatch-map')!.entries;
    assert.notEqual(tw.get('cali1111'), tw.get('cali2222'), 'pod-b has its own ingress policy');
    assert.equal(fw.get('cali1111'), fw.get('cali2222'), 'same egress (profile only): one shared chain');
    assert.match(tw.get('cali2222')!, /^goto filter-cali-tw-[0-9a-f]{16}$/);
  });
});

describe('counters', () => {
  test('withCounter puts the counter after the matches, before the first statement', async () => {
    const { withCounter } = await import('./ruleset.js');
    assert.equal(withCounter('meta mark & 0x10000 == 0x10000 return'), 'meta mark & 0x10000 == 0x10000 counter return');
    assert.equal(withCounter('iifname vmap @m'), 'counter iifname vmap @m');
    assert.equal(withCounter('meta mark set meta mark & 0xfffcffff'), 'counter meta mark set meta mark & 0xfffcffff');
    assert.equal(withCounter('ct state invalid counter drop'), 'ct state invalid counter drop');
  });

  test('every rule of every golden state has a counter', () => {
    for (const make of Object.values(NAMED_STATES)) {
      for (const ch of new RulesetRenderer().render(make()).chains.values()) {
        for (const rule of ch.rules) assert.match(rule.body, /(^| )counter( |$)/, `${ch.name}: ${rule.body}`);
      }
    }
  });
});

test('rule ids: 12 hex digits, no collisions among 100,000 similar rules', async () => {
  const { nftRule } = await import('./nft-model.js');
  const ids = new Set<string>();
  for (let i = 0; i < 100_000; i++)
    ids.add(nftRule(`ip saddr 10.${i >> 16}.${(i >> 8) & 255}.${i & 255} counter accept`, 'x').id);
  assert.equal(ids.size, 100_000);
  for (const id of [...ids].slice(0, 100)) assert.match(id, /^[0-9a-f]{12}$/);
});

test('allowSpoofedSourcePrefixes only count with workloadSourceSpoofing Any', async () => {
  const { snapshot, workload } = await import('./testdata/states.js');
  const ep = workload('pod-a', 'cali1111', '10.65.0.2', { allowSpoofedSourcePrefixes: ['192.0.2.0/24'] });
  const rule = (spoofing: 'Any' | 'Disabled'): string =>
    new RulesetRenderer()
      .render(snapshot({ endpoints: [ep], config: { workloadSourceSpoofing: spoofing } }))
      .chains.get('raw-cali-sp-cali1111')!.rules[0]!.body;
  assert.equal(rule('Disabled'), 'meta nfproto ipv4 ip saddr != 10.65.0.2 counter drop');
  assert.equal(rule('Any'), 'meta nfproto ipv4 ip saddr != 10.65.0.2 ip saddr != 192.0.2.0/24 counter drop');
});

describe('IP set re-rendering', () => {
  test('a set whose members change is patched to exactly what a fresh rendering gives', async () => {
    const fc = (await import('fast-check')).default;
    const { snapshot } = await import('./testdata/states.js');
    const v4 = Array.from({ length: 40 }, (_, i) => `10.65.${i % 3}.${i + 2}`);
    const v6 = Array.from({ length: 10 }, (_, i) => `fd00::${(i * 7).toString(16)}`);
    const memberSets = fc.array(fc.subarray([...v4.map((a) => `${a}/32`), ...v6.map((a) => `${a}/128`)]), {
      minLength: 1,
      maxLength: 8,
    });
    fc.assert(
      fc.property(memberSets, (steps) => {
        const incremental = new RulesetRenderer();
        const config = snapshot({}).config; // one config object throughout, as the graph keeps it (caches live on)
        for (const members of steps) {
          const sorted = (fam: 4 | 6): string[] => members.filter((m) => m.includes(':') === (fam === 6)).sort();
          const named = (m: string): string => `${m.split('/')[0]},tcp:8080`;
          const snap = {
            ...snapshot({
              ipSets: [
                { id: 's:hosts', type: 'net', v4Members: sorted(4), v6Members: sorted(6) },
                {
                  id: 'n:http',
                  type: 'net,port',
                  namedPort: { name: 'http', protocol: 'tcp' },
                  v4Members: sorted(4).map(named).sort(),
                  v6Members: sorted(6).map(named).sort(),
                },
              ],
            }),
            config,
          };
          const got = incremental.render(snap).sets;
          const want = new RulesetRenderer().render(snap).sets;
          assert.deepEqual([...got.keys()], [...want.keys()]);
          for (const [name, set] of want) assert.deepEqual(got.get(name), set, name);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('host endpoints resolved against the host interfaces', () => {
  const withOnlyExpectedIps = async () => {
    const { stateHostEndpoints } = await import('./testdata/states.js');
    const snap = stateHostEndpoints();
    const eth0 = snap.endpoints.get('hep/node1-eth0') as LocalHostEndpoint;
    const byIp: LocalHostEndpoint = { ...eth0, id: 'hep/by-ip', name: 'by-ip', interfaceName: '' };
    const endpoints = new Map(snap.endpoints);
    endpoints.delete('hep/node1-eth0');
    endpoints.set(byIp.id, byIp);
    return {
      ...snap,
      endpoints,
      config: { ...snap.config, interfaceExclude: ['kube-ipvs0', '/^tpx/'] },
    };
  };

  test('an endpoint with only expectedIPs gets the chains and dispatch entries of the interface holding the IP', async () => {
    const snap = await withOnlyExpectedIps();
    const without = new RulesetRenderer().render(snap);
    assert.equal(without.chains.has('filter-cali-fh-eth3'), false, 'no interface list: nothing to match');
    const st = new RulesetRenderer().render(snap, [
      { name: 'eth3', addresses: ['172.31.255.11'] },
      { name: 'eth4', addresses: ['192.0.2.1'] },
    ]);
    const fh = st.chains.get('filter-cali-fh-eth3')!;
    assert.ok(fh.rules.some((r) => r.body.includes('filter-cali-pi-gnp/default/host-ssh')));
    assert.equal(st.maps.get('filter-cali-from-host-endpoint-map')!.entries.get('eth3'), `goto ${fh.name}`);
    assert.equal(st.maps.get('filter-cali-from-host-endpoint-map')!.entries.has('eth4'), false);
    assert.ok(st.chains.has('mangle-cali-fh-eth3') && st.chains.has('raw-cali-fh-eth3'));
  });

  test('the all-interfaces endpoint skips the interfaces an interfaceExclude /regex/ matches', async () => {
    const snap = await withOnlyExpectedIps();
    const st = new RulesetRenderer().render(snap, [
      { name: 'tpx1', addresses: [] },
      { name: 'tpx2', addresses: [] },
      { name: 'eth0', addresses: [] },
    ]);
    const bodies = st.chains.get('filter-cali-from-host-endpoint')!.rules.map((r) => r.body);
    for (const skipped of ['lo', 'kube-ipvs0', 'tpx1', 'tpx2'])
      assert.ok(bodies.includes(`iifname "${skipped}" counter return`), `${skipped} skipped: ${bodies.join(' | ')}`);
    assert.ok(!bodies.some((b) => b.includes('"eth0"')));
  });
});
