import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodeDocuments } from './decode.js';
import { KINDS } from './kinds.js';
import { parseResources } from './parse.js';
import { KIND_SCHEMAS } from './v3/index.js';

const examples = readFileSync(new URL('./testdata/examples.yaml', import.meta.url), 'utf8');

describe('documented examples', () => {
  test('every example of every kind is accepted unchanged', () => {
    const parsed = parseResources(examples);
    assert.equal(parsed.length, 25);
    // What comes back is exactly what was written: no defaults added, nothing dropped or rewritten.
    assert.deepEqual(
      parsed,
      decodeDocuments(examples).map((d) => d.value),
    );
  });
  test('the examples cover every kind', () => {
    const kinds = new Set(parseResources(examples).map((r) => r.kind));
    assert.deepEqual([...kinds].sort(), KINDS.map((k) => k.kind).sort());
  });
  test('every kind in the kind list has a field table and no other kind does', () => {
    assert.deepEqual(Object.keys(KIND_SCHEMAS).sort(), KINDS.map((k) => k.kind).sort());
  });
});
