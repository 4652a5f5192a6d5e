// Reachability matrices as the upstream Kubernetes netpol e2e tests print them: `.` reachable, `X` not, the diagonal
// (a pod to itself) shown but ignored when comparing. Pure.
export type Matrix = Record<string, Record<string, boolean>>;

export function formatMatrix(m: Matrix): string {
  const rows = Object.keys(m).sort();
  const cols = [...new Set(rows.flatMap((r) => Object.keys(m[r] ?? {})))].sort();
  const lines = [['-', ...cols].join('\t')];
  for (const r of rows)
    lines.push([r, ...cols.map((c) => (m[r]?.[c] === undefined ? '?' : m[r]![c] ? '.' : 'X'))].join('\t'));
  return lines.join('\n');
}

/** Pairs where actual differs from expected, ignoring the diagonal. */
export function matrixDifferences(expected: Matrix, actual: Matrix): string[] {
  const out: string[] = [];
  for (const from of Object.keys(expected)) {
    for (const to of Object.keys(expected[from] ?? {})) {
      if (from === to) continue;
      const want = expected[from]![to];
      const got = actual[from]?.[to];
      if (want !== got)
        out.push(
          `${from} -> ${to}: expected ${want ? 'reachable' : 'blocked'}, got ${got === undefined ? 'no result' : got ? 'reachable' : 'blocked'}`,
        );
    }
  }
  return out;
}
