import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LabelIndex, parseSelector } from './index.js';

type LabelMap = Record<string, string>;

/**
 * Replays the index's events into a set of "selector|item" pairs, failing on an impossible event (a start for a
 * pair already matching, a stop for one not matching), and keeps its own model of the inputs so the expected
 * membership can be computed by brute force with Selector.matches.
 */
class Harness {
  readonly pairs = new Set<string>();
  readonly events: string[] = [];
  readonly index = new LabelIndex<string, string>({
    onMatchStarted: (s, i) => {
      const key = `${s}|${i}`;
      assert.ok(!this.pairs.has(key), `duplicate start ${key}`);
      this.pairs.add(key);
      this.events.push(`+${key}`);
    },
    onMatchStopped: (s, i) => {
      const key = `${s}|${i}`;
      assert.ok(this.pairs.has(key), `stop without start ${key}`);
      this.pairs.delete(key);
      this.events.push(`-${key}`);
    },
  });
  readonly selectors = new Map<string, string>();
  readonly items = new Map<string, { labels: LabelMap; parents: string[] }>();
  readonly parents = new Map<string, LabelMap>();

  updateSelector(id: string, text: string): void {
    this.selectors.set(id, text);
    this.index.updateSelector(id, parseSelector(text));
  }
  deleteSelector(id: string): void {
    this.selectors.delete(id);
    this.index.deleteSelector(id);
  }
  updateItem(id: string, labels: LabelMap, parents: string[] = []): void {
    this.items.set(id, { labels: { ...labels }, parents: [...parents] });
    this.index.updateItem(id, labels, parents);
  }
  deleteItem(id: string): void {
    this.items.delete(id);
    this.index.deleteItem(id);
  }
  updateParent(id: string, labels: LabelMap): void {
    this.parents.set(id, { ...labels });
    this.index.updateParentLabels(id, labels);
  }
  deleteParent(id: string): void {
    this.parents.delete(id);
    this.index.deleteParent(id);
  }

  effectiveLabels(itemId: string): LabelMap {
    const item = this.items.get(itemId)!;
    const out: LabelMap = {};
    for (const p of item.parents) {
      for (const [k, v] of Object.entries(this.parents.get(p) ?? {})) if (!(k in out)) out[k] = v;
    }
    return { ...out, ...item.labels };
  }

  expectedPairs(): Set<string> {
    const out = new Set<string>();
    for (const [s, text] of this.selectors) {
      const sel = parseSelector(text);
      for (const i of this.items.keys()) if (sel.matches(this.effectiveLabels(i))) out.add(`${s}|${i}`);
    }
    return out;
  }

  /** Events seen, the index's own answers and brute force all agree. */
  check(): void {
    const expected = this.expectedPairs();
    assert.deepEqual([...this.pairs].sort(), [...expected].sort());
    const fromQueries = new Set<string>();
    for (const s of this.selectors.keys()) for (const i of this.index.itemsMatching(s)) fromQueries.add(`${s}|${i}`);
    assert.deepEqual([...fromQueries].sort(), [...expected].sort());
    // Interned label maps: exactly one per distinct own or effective label set still held by an item.
    const canonical = (l: LabelMap): string => JSON.stringify(Object.entries(l).sort(([x], [y]) => (x < y ? -1 : 1)));
    const distinct = new Set<string>();
    for (const [i, item] of this.items) {
      distinct.add(canonical(item.labels));
      distinct.add(canonical(this.effectiveLabels(i)));
    }
    assert.equal(this.index.internedLabelMaps, distinct.size);
    for (const i of this.items.keys()) {
      assert.deepEqual({ ...this.index.labelsOf(i) }, this.effectiveLabels(i));
      assert.deepEqual(
        this.index.selectorsMatching(i).sort(),
        [...this.selectors.keys()].filter((s) => expected.has(`${s}|${i}`)).sort(),
      );
    }
  }

  takeEvents(): string[] {
    return this.events.splice(0).sort();
  }
}

describe('LabelIndex', () => {
  test('emits start when an item gains a matching label and stop when it loses it', () => {
    const h = new Harness();
    h.updateSelector('web', 'app == "web"');
    h.updateItem('ep1', { app: 'db' });
    assert.deepEqual(h.takeEvents(), []);
    h.updateItem('ep1', { app: 'web' });
    assert.deepEqual(h.takeEvents(), ['+web|ep1']);
    h.updateItem('ep1', { app: 'web', extra: 'x' });
    assert.deepEqual(h.takeEvents(), []);
    h.updateItem('ep1', {});
    assert.deepEqual(h.takeEvents(), ['-web|ep1']);
    h.check();
  });

  test('a selector added after the items finds every existing match', () => {
    const h = new Harness();
    h.updateItem('a', { app: 'web', tier: 'fe' });
    h.updateItem('b', { app: 'web', tier: 'be' });
    h.updateItem('c', { app: 'db' });
    h.updateItem('d', {});
    h.updateSelector('s1', 'app == "web" && tier != "be"');
    h.updateSelector('s2', '!has(app)');
    h.updateSelector('s3', 'app in {"db", "web"} || all()');
    h.updateSelector('s4', 'tier starts with "f" || app ends with "b"');
    assert.deepEqual(h.takeEvents(), ['+s1|a', '+s2|d', '+s3|a', '+s3|b', '+s3|c', '+s3|d', '+s4|a', '+s4|b', '+s4|c']);
    h.check();
  });

  test('negative selectors match new items without the label and react to its arrival', () => {
    const h = new Harness();
    h.updateSelector('notweb', 'app != "web"');
    h.updateSelector('notin', 'app not in {"web", "db"}');
    h.updateItem('x', { other: '1' });
    assert.deepEqual(h.takeEvents(), ['+notin|x', '+notweb|x']);
    h.updateItem('x', { other: '1', app: 'web' });
    assert.deepEqual(h.takeEvents(), ['-notin|x', '-notweb|x']);
    h.updateItem('x', { other: '1', app: 'db' });
    assert.deepEqual(h.takeEvents(), ['+notweb|x']);
    h.check();
  });

  test('items inherit parent labels; own labels win; earlier parents win over later ones', () => {
    const h = new Harness();
    h.updateSelector('ns-prod', 'pcns.env == "prod"');
    h.updateSelector('role', 'role == "a"');
    h.updateParent('kns.prod', { 'pcns.env': 'prod', role: 'a' });
    h.updateParent('ksa.default', { role: 'b' });
    h.updateItem('ep1', {}, ['kns.prod', 'ksa.default']);
    h.updateItem('ep2', { role: 'c' }, ['kns.prod']);
    assert.deepEqual(h.takeEvents(), ['+ns-prod|ep1', '+ns-prod|ep2', '+role|ep1']);
    assert.equal(h.index.labelsOf('ep2')?.role, 'c');
    h.check();

    // A parent's label change reaches every child.
    h.updateParent('kns.prod', { 'pcns.env': 'dev', role: 'a' });
    assert.deepEqual(h.takeEvents(), ['-ns-prod|ep1', '-ns-prod|ep2']);
    // Removing the parent removes what it passed on; the later parent's label shows through.
    h.deleteParent('kns.prod');
    assert.deepEqual(h.takeEvents(), ['-role|ep1']);
    assert.equal(h.index.labelsOf('ep1')?.role, 'b');
    // The parent coming back restores its labels to the children that still name it.
    h.updateParent('kns.prod', { 'pcns.env': 'prod', role: 'a' });
    assert.deepEqual(h.takeEvents(), ['+ns-prod|ep1', '+ns-prod|ep2', '+role|ep1']);
    // Changing an item's parent list.
    h.updateItem('ep1', {}, ['ksa.default']);
    assert.deepEqual(h.takeEvents(), ['-ns-prod|ep1', '-role|ep1']);
    h.check();
  });

  test('an item that names a parent before the parent exists picks its labels up later', () => {
    const h = new Harness();
    h.updateSelector('s', 'has(pcns.projectcalico.org/name)');
    h.updateItem('ep', { app: 'x' }, ['kns.default']);
    assert.deepEqual(h.takeEvents(), []);
    h.updateParent('kns.default', { 'pcns.projectcalico.org/name': 'default' });
    assert.deepEqual(h.takeEvents(), ['+s|ep']);
    h.check();
  });

  test('replacing a selector emits only the membership differences', () => {
    const h = new Harness();
    for (const [id, app] of [
      ['a', 'web'],
      ['b', 'db'],
      ['c', 'cache'],
    ])
      h.updateItem(id, { app });
    h.updateSelector('s', 'app in {"web", "db"}');
    h.takeEvents();
    h.updateSelector('s', 'app in {"db", "cache"}');
    assert.deepEqual(h.takeEvents(), ['+s|c', '-s|a']);
    // Same canonical text: nothing happens.
    h.updateSelector('s', "app in {'cache','db','db'}");
    assert.deepEqual(h.takeEvents(), []);
    // A replacement that requires a label none of the old matches carries.
    h.updateSelector('s', 'has(tier)');
    assert.deepEqual(h.takeEvents(), ['-s|b', '-s|c']);
    h.check();
  });

  test('deleting a selector or an item stops its matches; deleting unknown IDs is a no-op', () => {
    const h = new Harness();
    h.updateSelector('all', 'all()');
    h.updateSelector('web', 'app == "web"');
    h.updateItem('a', { app: 'web' });
    h.updateItem('b', { app: 'db' });
    h.takeEvents();
    h.deleteItem('a');
    assert.deepEqual(h.takeEvents(), ['-all|a', '-web|a']);
    h.deleteSelector('all');
    assert.deepEqual(h.takeEvents(), ['-all|b']);
    h.deleteSelector('nope');
    h.deleteItem('nope');
    h.deleteParent('nope');
    assert.deepEqual(h.takeEvents(), []);
    assert.deepEqual(h.index.itemsMatching('all'), []);
    h.check();
  });

  test('duplicate updates emit nothing', () => {
    const h = new Harness();
    const ops = [
      () => h.updateParent('p', { team: 'x' }),
      () => h.updateSelector('s1', 'team == "x" && app != "db"'),
      () => h.updateSelector('s2', 'app contains "e"'),
      () => h.updateItem('i1', { app: 'web' }, ['p']),
      () => h.updateItem('i2', { app: 'db' }, ['p']),
      () => h.updateItem('i1', { app: 'web2' }, ['p']),
    ];
    for (const op of ops) {
      op();
      h.takeEvents();
      op();
      assert.deepEqual(h.takeEvents(), [], `repeating ${op.toString()}`);
      h.check();
    }
  });

  test('the same final state is reached in forward and reverse order', () => {
    const build = (reverse: boolean): string[] => {
      const h = new Harness();
      const ops = [
        () => h.updateParent('kns.a', { 'pcns.team': 'red' }),
        () => h.updateParent('kns.b', { 'pcns.team': 'blue' }),
        () => h.updateSelector('red', 'pcns.team == "red"'),
        () => h.updateSelector('web-not-blue', 'app == "web" && pcns.team != "blue"'),
        () => h.updateSelector('none', '!all()'),
        () => h.updateItem('e1', { app: 'web' }, ['kns.a']),
        () => h.updateItem('e2', { app: 'web' }, ['kns.b']),
        () => h.updateItem('e3', { app: 'db', 'pcns.team': 'red' }, ['kns.b']),
      ];
      for (const op of reverse ? ops.reverse() : ops) op();
      h.check();
      return [...h.pairs].sort();
    };
    const forward = build(false);
    assert.deepEqual(forward, ['red|e1', 'red|e3', 'web-not-blue|e1']);
    assert.deepEqual(build(true), forward);
  });

  test('labels must be strings', () => {
    const index = new LabelIndex({ onMatchStarted: () => {}, onMatchStopped: () => {} });
    assert.throws(() => index.updateItem('x', { a: 1 as unknown as string }), /item x: label "a" must be a string/);
  });

  test('random operation sequences agree with brute-force matching after every step', () => {
    const keys = ['app', 'tier', 'pcns.env'];
    const values = ['a', 'b', 'ab', ''];
    const labelsArb = fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...values), { maxKeys: 3 });
    const selectorTexts = [
      'app == "a"',
      'app != "a"',
      'has(tier)',
      '!has(app)',
      'app in {"a", "b"}',
      'tier not in {"a"}',
      'app contains "b"',
      'tier starts with "a" && pcns.env ends with "b"',
      '(app == "a" || tier == "b") && !(pcns.env == "")',
      'all()',
      '!all()',
      'app == "ab" || has(pcns.env)',
    ];
    const id = (prefix: string) => fc.constantFrom(...[0, 1, 2, 3].map((n) => `${prefix}${n}`));
    const op = fc.oneof(
      fc.record({ t: fc.constant('sel' as const), id: id('s'), text: fc.constantFrom(...selectorTexts) }),
      fc.record({ t: fc.constant('delsel' as const), id: id('s') }),
      fc.record({
        t: fc.constant('item' as const),
        id: id('i'),
        labels: labelsArb,
        parents: fc.subarray(['p0', 'p1', 'p2']),
      }),
      fc.record({ t: fc.constant('delitem' as const), id: id('i') }),
      fc.record({ t: fc.constant('parent' as const), id: id('p'), labels: labelsArb }),
      fc.record({ t: fc.constant('delparent' as const), id: id('p') }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const h = new Harness();
        for (const o of ops) {
          switch (o.t) {
            case 'sel':
              h.updateSelector(o.id, o.text);
              break;
            case 'delsel':
              h.deleteSelector(o.id);
              break;
            case 'item':
              h.updateItem(o.id, o.labels, o.parents);
              break;
            case 'delitem':
              h.deleteItem(o.id);
              break;
            case 'parent':
              h.updateParent(o.id, o.labels);
              break;
            case 'delparent':
              h.deleteParent(o.id);
              break;
          }
          h.check();
        }
      }),
      { numRuns: 300 },
    );
  });
});
