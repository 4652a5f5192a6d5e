import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LabelInterner } from './label-interner.js';

describe('LabelInterner', () => {
  test('equal label maps, in any key order, share one frozen null-prototype copy', () => {
    const interner = new LabelInterner();
    const source = { app: 'web', tier: 'fe' };
    const a = interner.intern(source, 'a');
    const b = interner.intern({ tier: 'fe', app: 'web' }, 'b');
    assert.equal(a, b);
    assert.notEqual(a, source);
    assert.ok(Object.isFrozen(a));
    assert.equal(Object.getPrototypeOf(a), null);
    assert.deepEqual({ ...a }, source);
    assert.equal(interner.size, 1);
    source.app = 'db'; // the caller's object is not the shared one
    assert.equal(a.app, 'web');
  });

  test('maps that differ only in how their text splits into keys and values stay apart', () => {
    const interner = new LabelInterner();
    const a = interner.intern({ ab: 'c' }, 'a');
    const b = interner.intern({ a: 'bc' }, 'b');
    const c = interner.intern({ '1:a': '' }, 'c');
    assert.notEqual(a, b);
    assert.notEqual(a, c);
    assert.equal(interner.size, 3);
  });

  test('a map is forgotten when its last reference is released, and a new one is made afterwards', () => {
    const interner = new LabelInterner();
    const a = interner.intern({ app: 'web' }, 'a');
    interner.retain(a);
    interner.intern({ app: 'web' }, 'b');
    interner.release(a);
    interner.release(a);
    assert.equal(interner.size, 1);
    interner.release(a);
    assert.equal(interner.size, 0);
    interner.release(a); // extra releases and foreign maps are ignored
    interner.release({ app: 'web' });
    const again = interner.intern({ app: 'web' }, 'c');
    assert.notEqual(again, a);
    assert.equal(interner.size, 1);
  });

  test('a value that is not a string is an error naming the owner and the label', () => {
    const interner = new LabelInterner();
    assert.throws(
      () => interner.intern({ app: 3 }, 'item wep1'),
      /item wep1: label "app" must be a string, got number/,
    );
    assert.equal(interner.size, 0);
  });
});
