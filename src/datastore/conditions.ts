// The error a failed transaction condition raises, worded alike by every backend: what was expected and what the
// store holds (for `unchangedSince`, the key that changed under the prefix).
import { TxnConflictError, type KVPair, type TxnCondition } from './types.js';

export function conditionFailure(c: TxnCondition, found: KVPair | undefined): TxnConflictError {
  const held = found ? `${c.kind === 'unchangedSince' ? `${found.key} at ` : ''}revision ${found.revision}` : 'absent';
  const wanted =
    c.kind === 'absent'
      ? 'absent'
      : c.kind === 'unchangedSince'
        ? `nothing changed under the prefix since revision ${c.revision}`
        : `revision ${c.revision}`;
  return new TxnConflictError(
    `transaction condition failed: ${c.key} (${wanted} expected, ${held} found)`,
    c.key,
    found,
  );
}
