// Test support for the API model's unit tests: build a resource of a kind, and assert that validation reports a
// problem at an exact field path (or none at all).
import assert from 'node:assert/strict';
import type { Problem } from '../problems.js';
import { resourceProblems } from '../validate/index.js';

export function resource(
  kind: string,
  spec: Record<string, unknown> | undefined,
  metadata: Record<string, unknown> = { name: 'r1' },
): Record<string, unknown> {
  const out: Record<string, unknown> = { apiVersion: 'projectcalico.org/v3', kind, metadata };
  if (spec !== undefined) out.spec = spec;
  return out;
}

export function problemsOf(input: unknown): Problem[] {
  return resourceProblems(input).problems;
}

const show = (ps: Problem[]): string => ps.map((p) => `${p.path}: ${p.reason}`).join('\n  ') || '(none)';

/** Asserts a problem exists at exactly `path` (and, when given, that its reason matches). */
export function expectProblem(input: unknown, path: string, reason?: RegExp): void {
  const ps = problemsOf(input);
  const hit = ps.find((p) => p.path === path && (!reason || reason.test(p.reason)));
  assert.ok(hit, `expected a problem at ${path}${reason ? ` matching ${reason}` : ''}; got:\n  ${show(ps)}`);
}

export function expectValid(input: unknown): void {
  const ps = problemsOf(input);
  assert.equal(ps.length, 0, `expected no problems; got:\n  ${show(ps)}`);
}
