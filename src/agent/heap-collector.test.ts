import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectGarbage } from './heap-collector.js';

test('collectGarbage runs a full collection without --expose-gc: dropped garbage leaves the heap', () => {
  let garbage: { i: number; s: string }[] | undefined = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `x${i}` }));
  assert.equal(garbage.length, 300_000);
  garbage = undefined;
  const r = collectGarbage();
  assert.ok(r.afterBytes < r.beforeBytes - 10 * 1048576, `heap ${r.beforeBytes} -> ${r.afterBytes} bytes`);
  assert.ok(r.ms >= 0);
  collectGarbage(); // a second call reuses gc()
});
