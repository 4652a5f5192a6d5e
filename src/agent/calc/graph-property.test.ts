// Property: whatever order and mix of puts and deletes led to a datastore state, the graph's snapshot equals the one
// built from that final state alone (incremental == from scratch). Random resources over a small label vocabulary
// so selectors, profiles, tiers, network sets and named ports really interact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSelector } from '../../selector/index.js';
import { CalcGraph } from './graph.js';
import {
  del,
  gnp,
  netset,
  np,
  nsProfile,
  profile,
  put,
  resKey,
  snapshotJson,
  tier,
  wep,
  NODE,
  type Res,
} from './testing/fixtures.js';

const labelKey = fc.constantFrom('app', 'role', 'env');
const labelValue = fc.constantFrom('a', 'b', 'c');
const labels = fc.dictionary(labelKey, labelValue, { maxKeys: 3 });
const selector = fc.oneof(
  fc.constant('all()'),
  fc.tuple(labelKey, labelValue).map(([k, v]) => `${k} == '${v}'`),
  fc.tuple(labelKey, labelValue).map(([k, v]) => `${k} != '${v}'`),
  labelKey.map((k) => `has(${k})`),
);
const ns = fc.constantFrom('ns1', 'ns2');
const rule = fc.record({
  action: fc.constantFrom('Allow', 'Deny', 'Pass', 'Log'),
  source: fc.option(fc.record({ selector }), { nil: undefined, freq: 4 }),
  destination: fc.option(
    fc.oneof(
      fc.record({ selector, ports: fc.constant(['http']) }),
      fc.record({ namespaceSelector: fc.constantFrom("team == 'x'", 'all()', 'global()') }),
    ),
    { nil: undefined },
  ),
});
const rules = fc.array(rule, { maxLength: 2 });

const resource: fc.Arbitrary<Res> = fc.oneof(
  fc
    .record({
      name: fc.constantFrom('w1', 'w2', 'w3', 'w4'),
      ns,
      node: fc.constantFrom(NODE, NODE, 'node2'),
      labels,
      ip: fc.integer({ min: 1, max: 4 }),
      http: fc.boolean(),
    })
    .map((w) =>
      wep(w.name, {
        ns: w.ns,
        node: w.node,
        labels: w.labels,
        ips: [`10.0.0.${w.ip}/32`],
        ports: w.http ? [{ name: 'http', port: 80 }] : undefined,
      }),
    ),
  fc
    .record({
      name: fc.constantFrom('p1', 'p2', 'p3'),
      ns,
      selector,
      ingress: rules,
      egress: rules,
      order: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    })
    .map((p) =>
      np(p.name, p.ns, {
        selector: p.selector,
        ingress: p.ingress,
        egress: p.egress,
        ...(p.order ? { order: p.order } : {}),
      }),
    ),
  fc
    .record({ name: fc.constantFrom('g1', 'g2'), tier: fc.constantFrom('default', 't1'), selector, ingress: rules })
    .map((g) => gnp(g.name, { tier: g.tier, selector: g.selector, ingress: g.ingress })),
  fc.record({ ns, team: fc.constantFrom('x', 'y') }).map((p) => nsProfile(p.ns, { team: p.team })),
  fc
    .record({ ns, labels, net: fc.constantFrom('192.168.0.0/24', '192.168.1.0/24') })
    .map((s) => netset('set', s.ns, [s.net], s.labels)),
  fc
    .record({ order: fc.integer({ min: 1, max: 2000000 }), pass: fc.boolean() })
    .map((t) => tier('t1', { order: t.order, defaultAction: t.pass ? 'Pass' : 'Deny' })),
  fc.record({ rules }).map((p) => profile('kns.ns1', { ingress: p.rules })),
);

type Op = { del: boolean; res: Res; flush: boolean };
// Mostly puts, so states grow rich enough for policies to go active and sets to fill.
const op: fc.Arbitrary<Op> = fc.record({
  del: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  res: resource,
  flush: fc.boolean(),
});

/** Brute force: every endpoint / network set with its effective labels (own over inherited) and addresses. */
function items(
  state: Map<string, Res>,
): { labels: Record<string, string>; nets: string[]; local: boolean; http: boolean }[] {
  const profiles = new Map([...state.values()].filter((r) => r.kind === 'Profile').map((r) => [r.metadata.name, r]));
  const inherited = (names: string[]) =>
    Object.assign({}, ...names.map((n) => profiles.get(n)?.spec.labelsToApply ?? {}).reverse());
  const out = [];
  for (const r of state.values()) {
    if (r.kind === 'WorkloadEndpoint') {
      const own = {
        ...r.metadata.labels,
        'projectcalico.org/namespace': r.metadata.namespace!,
        'projectcalico.org/orchestrator': 'k8s',
      };
      out.push({
        labels: { ...inherited(r.spec.profiles), ...own },
        nets: r.spec.ipNetworks,
        local: r.spec.node === NODE,
        http: !!r.spec.ports,
      });
    } else if (r.kind === 'NetworkSet') {
      const own = { ...r.metadata.labels, 'projectcalico.org/namespace': r.metadata.namespace! };
      out.push({
        labels: { ...inherited([`kns.${r.metadata.namespace}`]), ...own },
        nets: r.spec.nets,
        local: false,
        http: false,
      });
    }
  }
  return out;
}

test('incremental updates converge to the from-scratch snapshot', () => {
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), fc.boolean(), (ops, batched) => {
      const g = new CalcGraph({ nodeName: NODE });
      const state = new Map<string, Res>();
      const updates = ops.map((o) => {
        if (o.del) state.delete(resKey(o.res));
        else state.set(resKey(o.res), o.res);
        return o.del ? del(o.res) : put(o.res);
      });
      if (batched) g.onUpdates(updates);
      else
        updates.forEach((u, i) => {
          g.onUpdate(u);
          if (ops[i]!.flush) g.flush();
        });
      const scratch = new CalcGraph({ nodeName: NODE });
      scratch.onUpdates([...state.values()].map(put));
      const snap = g.snapshot();
      assert.equal(snapshotJson(snap), snapshotJson(scratch.snapshot()));

      // Every selector set holds exactly the addresses of the items its selector matches.
      const all = items(state);
      for (const set of snap.ipSets.values()) {
        if (!set.selector) continue;
        const sel = parseSelector(set.selector);
        const want = new Set<string>();
        for (const it of all) {
          if (!sel.matches(it.labels)) continue;
          if (!set.namedPort) it.nets.forEach((n) => want.add(n));
          else if (it.http) it.nets.forEach((n) => want.add(`${n.split('/')[0]},tcp:80`));
        }
        assert.deepEqual([...set.v4Members, ...set.v6Members], [...want].sort(), `members of {${set.selector}}`);
      }
      // Exactly the enforced policies selecting a local endpoint are programmed.
      const wantPolicies = [...state.values()]
        .filter((r) => r.kind === 'NetworkPolicy' || r.kind === 'GlobalNetworkPolicy')
        .filter((r) => {
          const sel = parseSelector(r.spec.selector);
          return all.some(
            (it) =>
              it.local &&
              sel.matches(it.labels) &&
              (r.kind === 'GlobalNetworkPolicy' || it.labels['projectcalico.org/namespace'] === r.metadata.namespace),
          );
        })
        .map((r) =>
          r.kind === 'NetworkPolicy'
            ? `np/default/${r.metadata.namespace}/${r.metadata.name}`
            : `gnp/${r.spec.tier}/${r.metadata.name}`,
        )
        .sort();
      assert.deepEqual([...snap.policies.keys()], wantPolicies);
    }),
    { numRuns: 300 },
  );
});
