// Checks that only apply when an object replaces a stored one: fields Calico refuses to change after create
// (IPPool cidr and blockSize; an IPPool's LoadBalancer use). Stored + new object in -> problems out.
import { canonicalCidr } from '../../net/ip.js';
import { applyCreateDefaults } from '../defaults.js';
import { ProblemSink, ResourceValidationError } from '../problems.js';
import type { Resource } from '../resource.js';
import { asArray, asObject, asString } from './values.js';
import { resourceProblems } from './index.js';

function sameCidr(a: string | undefined, b: string | undefined): boolean {
  if (a === b) return true;
  try {
    return a !== undefined && b !== undefined && canonicalCidr(a) === canonicalCidr(b);
  } catch {
    return false;
  }
}

/** Problems of replacing `stored` with `next` (next's own validation problems included). */
export function updateProblems(stored: Resource, next: unknown): ProblemSink {
  const sink = resourceProblems(next);
  const nextRes = next as Resource;
  if (!sink.ok || stored.kind !== nextRes.kind) return sink;
  if (stored.kind === 'IPPool') {
    const before = asObject(applyCreateDefaults(stored).spec);
    const after = asObject(applyCreateDefaults(nextRes).spec);
    if (!sameCidr(asString(before.cidr), asString(after.cidr))) {
      sink.add('spec.cidr', `an IP pool's CIDR cannot be modified (was ${String(before.cidr)})`);
    }
    if (before.blockSize !== after.blockSize) {
      sink.add('spec.blockSize', `an IP pool's block size cannot be modified (was ${String(before.blockSize)})`);
    }
    const wasLB = asArray(before.allowedUses).includes('LoadBalancer');
    const isLB = asArray(after.allowedUses).includes('LoadBalancer');
    if (wasLB !== isLB) {
      sink.add('spec.allowedUses', `cannot change ${wasLB ? 'away from' : 'to'} LoadBalancer on an existing pool`);
    }
  }
  return sink;
}

/** Validates an update; returns next typed, or throws ResourceValidationError listing every problem. */
export function validateUpdate<T extends Resource = Resource>(stored: Resource, next: unknown): T {
  const sink = updateProblems(stored, next);
  if (!sink.ok) throw new ResourceValidationError(sink.problems);
  return next as T;
}
