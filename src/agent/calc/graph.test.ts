// The calculation graph, Felix style: each named state of states.ts must produce its expected dataplane when reached
// from empty and from the previous state, walking the sequence forwards and backwards, with the updates of each
// transition delivered in order or reversed, once or twice each, one by one or batched — all converging to the
// same snapshot. flush() must name exactly the objects that changed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CalcGraph } from './graph.js';
import type { DataplaneSnapshot } from './model.js';
import { STATES, type CalcState } from './states.js';
import {
  DELIVERIES,
  deliver,
  NODE,
  snapshotJson,
  transition,
  view,
  type Delivery,
  type View,
} from './testing/fixtures.js';

function expectedView(s: CalcState): View {
  return { staged: [], problems: [], ...s.expected };
}

function actualView(snap: DataplaneSnapshot, s: CalcState): View {
  const v = view(snap);
  // Parser messages belong to the selector module; compare only up to the reason.
  v.problems = v.problems.map((p, i) =>
    s.expected.problems?.[i]?.endsWith('PLACEHOLDER') &&
    p.startsWith(s.expected.problems[i]!.replace('PLACEHOLDER', ''))
      ? s.expected.problems[i]!
      : p,
  );
  return v;
}

const ONCE_BATCHED: Delivery = { name: 'once, batched', reverse: false, duplicate: false, batched: true };

function graphAt(state: CalcState | undefined): CalcGraph {
  const g = new CalcGraph({ nodeName: NODE });
  if (state) deliver(g, transition([], state.resources), ONCE_BATCHED);
  return g;
}

/** The ids whose objects differ between two snapshots, per category. */
function changedIds(a: DataplaneSnapshot, b: DataplaneSnapshot) {
  const diff = (x: ReadonlyMap<string, unknown>, y: ReadonlyMap<string, unknown>) => {
    const updated: string[] = [];
    const removed: string[] = [];
    for (const [id, v] of y) if (JSON.stringify(x.get(id)) !== JSON.stringify(v)) updated.push(id);
    for (const id of x.keys()) if (!y.has(id)) removed.push(id);
    return { updated: updated.sort(), removed: removed.sort() };
  };
  return {
    endpoints: diff(a.endpoints, b.endpoints),
    policies: diff(a.policies, b.policies),
    profiles: diff(a.profiles, b.profiles),
    ipSets: diff(a.ipSets, b.ipSets),
    stagedPolicies: diff(a.stagedPolicies, b.stagedPolicies),
  };
}

const fromEmpty = new Map<string, string>();

describe('calculation graph: each state from empty', () => {
  for (const state of STATES) {
    test(state.name, () => {
      const reference = graphAt(state).snapshot();
      assert.deepEqual(actualView(reference, state), expectedView(state));
      fromEmpty.set(state.name, snapshotJson(reference));
      for (const how of DELIVERIES) {
        const g = new CalcGraph({ nodeName: NODE });
        deliver(g, transition([], state.resources), how);
        assert.equal(snapshotJson(g.snapshot()), fromEmpty.get(state.name), `delivered ${how.name}`);
      }
    });
  }
});

for (const [label, sequence] of [
  ['forwards', STATES],
  ['backwards', [...STATES].reverse()],
] as const) {
  describe(`calculation graph: state to state, ${label}`, () => {
    for (let i = 1; i < sequence.length; i++) {
      const prev = sequence[i - 1]!;
      const next = sequence[i]!;
      test(`${prev.name} -> ${next.name}`, () => {
        const want = fromEmpty.get(next.name) ?? snapshotJson(graphAt(next).snapshot());
        for (const how of DELIVERIES) {
          const g = graphAt(prev);
          g.flush();
          const before = g.snapshot();
          deliver(g, transition(prev.resources, next.resources), how);
          const after = g.snapshot();
          assert.deepEqual(actualView(after, next), expectedView(next), `delivered ${how.name}`);
          assert.equal(snapshotJson(after), want, `delivered ${how.name}: same snapshot as from empty`);
          const flushed = g.flush();
          const { hostIpsChanged: _h, configChanged: _c, ...ids } = flushed;
          assert.deepEqual(ids, changedIds(before, after), `delivered ${how.name}: flush() names the changes`);
          // Unchanged objects are shared, so a renderer can diff by reference.
          for (const [id, ep] of after.endpoints) {
            if (!flushed.endpoints.updated.includes(id)) assert.equal(ep, before.endpoints.get(id));
          }
        }
      });
    }
  });
}

describe('calculation graph: idempotence and flush', () => {
  test('re-sending the whole state changes nothing and flushes nothing', () => {
    const state = STATES[3]!;
    const g = graphAt(state);
    g.flush();
    const before = g.snapshot();
    deliver(g, transition([], state.resources), { name: 'again', reverse: true, duplicate: true, batched: false });
    assert.equal(g.snapshot(), before, 'the very same snapshot object');
    const f = g.flush();
    assert.deepEqual(
      [f.endpoints, f.policies, f.profiles, f.ipSets, f.stagedPolicies].flatMap((c) => [...c.updated, ...c.removed]),
      [],
    );
  });
});
