// LabelInterner: one frozen, null-prototype copy of each distinct label map, shared by every holder and reference
// counted. Pods of one workload carry identical labels, so a cluster's 10,000 endpoints need only as many maps as
// they have distinct label sets (a null-prototype object is a V8 dictionary of ~400 bytes; most of the label
// index's memory before interning). In: label records. Out: shared maps; release() frees one when its last holder goes.

export type InternedLabels = Readonly<Record<string, string>>;

interface Entry {
  readonly labels: InternedLabels;
  readonly key: string;
  refs: number;
}

/** An unambiguous text for a label map whatever its keys and values contain: sorted, length-prefixed pairs. */
function keyOf(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  let out = '';
  for (const k of keys) {
    const v = labels[k]!;
    out += `${k.length}:${k}${v.length}:${v}`;
  }
  return out;
}

export class LabelInterner {
  readonly #byKey = new Map<string, Entry>();
  readonly #byMap = new Map<InternedLabels, Entry>();

  /**
   * The shared copy of `labels` (every value must be a string; `what` names the owner in the error), with one more
   * reference taken. `labels` itself is never kept, so the caller may reuse or mutate it.
   */
  intern(labels: Readonly<Record<string, unknown>>, what: string): InternedLabels {
    const keys = Object.keys(labels);
    for (const k of keys) {
      if (typeof labels[k] !== 'string') {
        throw new TypeError(`${what}: label ${JSON.stringify(k)} must be a string, got ${typeof labels[k]}`);
      }
    }
    const key = keyOf(labels as Readonly<Record<string, string>>);
    let entry = this.#byKey.get(key);
    if (!entry) {
      const copy = Object.create(null) as Record<string, string>;
      for (const k of keys) copy[k] = labels[k] as string;
      entry = { labels: Object.freeze(copy), key, refs: 0 };
      this.#byKey.set(key, entry);
      this.#byMap.set(entry.labels, entry);
    }
    entry.refs++;
    return entry.labels;
  }

  /** Takes one more reference to a map this interner returned; false (and nothing taken) when it was released. */
  retain(labels: InternedLabels): boolean {
    const entry = this.#byMap.get(labels);
    if (entry) entry.refs++;
    return entry !== undefined;
  }

  /** Drops one reference; the map is forgotten when none is left. Maps this interner did not return are ignored. */
  release(labels: InternedLabels): void {
    const entry = this.#byMap.get(labels);
    if (!entry || --entry.refs > 0) return;
    this.#byKey.delete(entry.key);
    this.#byMap.delete(labels);
  }

  /** Distinct label maps held. */
  get size(): number {
    return this.#byKey.size;
  }
}
