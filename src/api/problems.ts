// Validation problems: what failed, in which document, on which object and field, and why. Validators push
// problems into a ProblemSink; parseResources gathers every problem of every document into one error.

export interface Problem {
  /** 1-based position of the document in the input (0 when validating a single object). */
  document: number;
  kind: string;
  /** metadata.name, or "<namespace>/<name>" for namespaced objects; empty when absent. */
  name: string;
  /** Field path, e.g. "spec.ingress[0].destination.ports[1]". */
  path: string;
  reason: string;
}

/** One line per problem: `IPPool "p1": spec.blockSize: must be 20..32 for an IPv4 pool, got 33`. */
export function formatProblem(p: Problem): string {
  const doc = p.document > 0 ? `document ${p.document}` : 'resource';
  const who = !p.kind ? doc : p.name ? `${p.kind} "${p.name}"` : p.document > 0 ? `${p.kind} (${doc})` : p.kind;
  return `${who}: ${p.path ? `${p.path}: ` : ''}${p.reason}`;
}

export class ResourceValidationError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    const lines = problems.map(formatProblem);
    super(lines.length === 1 ? lines[0] : `${lines.length} problems:\n${lines.map((l) => `  ${l}`).join('\n')}`);
    this.name = 'ResourceValidationError';
    this.problems = problems;
  }
}

/** Collects problems for one object; validators only say where and why. */
export class ProblemSink {
  readonly problems: Problem[] = [];
  constructor(
    private readonly document: number,
    private kind: string,
    private name: string,
  ) {}

  identify(kind: string, name: string): void {
    this.kind = kind;
    this.name = name;
  }

  add(path: string, reason: string): void {
    this.problems.push({ document: this.document, kind: this.kind, name: this.name, path, reason });
  }

  get ok(): boolean {
    return this.problems.length === 0;
  }
}

/** Joins a field path: at('spec', 'cidr') -> "spec.cidr"; at('spec.ports', 2) -> "spec.ports[2]". */
export function at(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (!/^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*$/.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base ? `${base}.${key}` : key;
}
