// `calicoctl patch KIND NAME -p PATCH --type strategic|merge|json`: reads the resource, applies the patch and writes
// it back as a compare-and-swap on the version read. Patch types: JSON merge patch (RFC 7386), JSON patch
// (RFC 6902), and strategic merge (a merge patch honouring `$patch: replace|delete`; Calico's v3 types declare no
// list merge keys, so lists are replaced as in a merge patch).
import { parse as parseYaml } from 'yaml';
import type { Resource } from '../api/resource.js';
import { ResourceValidationError } from '../api/problems.js';
import { updateProblems } from '../api/validate/update.js';
import { ConflictError } from '../datastore/types.js';
import type { ResourceClient } from '../datastore/resources.js';
import type { CommandResult } from './actions.js';
import { resolveKind } from './get.js';
import { readOnlyMessage } from './input.js';

export type PatchType = 'strategic' | 'merge' | 'json';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 7386: objects merge key by key, null deletes, anything else replaces. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Strategic merge as it acts on Calico's v3 types: merge patch plus the `$patch` directive on objects. */
export function strategicPatch(target: Json | undefined, patch: Json): Json | undefined {
  if (!isObject(patch)) return structuredClone(patch);
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  const rest: Record<string, Json> = {};
  for (const [k, v] of Object.entries(patch)) if (k !== '$patch' && k !== '$retainKeys') rest[k] = v;
  if (directive === 'replace') return stripDirectives(rest);
  if (directive !== undefined) throw new Error(`patch: unknown $patch directive ${JSON.stringify(directive)}`);
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(rest)) {
    if (v === null) {
      delete out[k];
      continue;
    }
    const merged = strategicPatch(out[k], v);
    if (merged === undefined) delete out[k];
    else out[k] = merged;
  }
  return out;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

/** RFC 6901 pointer -> path tokens. */
function pointer(p: unknown, op: number): string[] {
  if (typeof p !== 'string' || (p !== '' && !p.startsWith('/'))) {
    throw new Error(`patch[${op}].path: must be a JSON pointer starting with "/", got ${JSON.stringify(p)}`);
  }
  return p === ''
    ? []
    : p
        .slice(1)
        .split('/')
        .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, tokens: string[], op: number, path: string): Json {
  let cur: Json = doc;
  for (const t of tokens.slice(0, -1)) {
    const next: Json | undefined = Array.isArray(cur) ? cur[Number(t)] : isObject(cur) ? cur[t] : undefined;
    if (next === undefined) throw new Error(`patch[${op}].path: ${path}: no such location`);
    cur = next;
  }
  return cur;
}

function getAt(doc: Json, tokens: string[], op: number, path: string): Json {
  let cur: Json = doc;
  for (const t of tokens) {
    const next: Json | undefined = Array.isArray(cur) ? cur[Number(t)] : isObject(cur) ? cur[t] : undefined;
    if (next === undefined) throw new Error(`patch[${op}].path: ${path}: no such location`);
    cur = next;
  }
  return cur;
}

function arrayIndex(arr: Json[], t: string, forInsert: boolean, op: number, path: string): number {
  if (forInsert && t === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(t)) throw new Error(`patch[${op}].path: ${path}: "${t}" is not an array index`);
  const i = Number(t);
  if (i > arr.length || (!forInsert && i === arr.length))
    throw new Error(`patch[${op}].path: ${path}: index out of range`);
  return i;
}

function removeAt(doc: Json, tokens: string[], op: number, path: string): Json {
  if (!tokens.length) throw new Error(`patch[${op}].path: cannot remove the whole document`);
  const parent = parentOf(doc, tokens, op, path);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, false, op, path), 1)[0];
  if (isObject(parent) && last in parent) {
    const v = parent[last];
    delete parent[last];
    return v;
  }
  throw new Error(`patch[${op}].path: ${path}: no such location`);
}

function addAt(doc: Json, tokens: string[], value: Json, op: number, path: string, replace = false): Json {
  if (!tokens.length) return value;
  const parent = parentOf(doc, tokens, op, path);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, last, !replace, op, path);
    parent.splice(i, replace ? 1 : 0, value);
  } else if (isObject(parent)) {
    if (replace && !(last in parent)) throw new Error(`patch[${op}].path: ${path}: no such location`);
    parent[last] = value;
  } else throw new Error(`patch[${op}].path: ${path}: parent is not an object or array`);
  return doc;
}

function equalJson(a: Json, b: Json): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}
function canonical(v: Json): Json {
  if (Array.isArray(v)) return v.map(canonical);
  if (!isObject(v)) return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, canonical(v[k])]),
  );
}

/** RFC 6902 operations: add, remove, replace, move, copy, test. */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new Error('patch: a json patch must be a list of operations');
  let doc = structuredClone(target);
  ops.forEach((o, i) => {
    if (!isObject(o)) throw new Error(`patch[${i}]: must be an object with op and path`);
    const path = String(o.path);
    const tokens = pointer(o.path, i);
    const value = (): Json => {
      if (!('value' in o)) throw new Error(`patch[${i}].value: required for ${String(o.op)}`);
      return structuredClone(o.value);
    };
    switch (o.op) {
      case 'add':
        doc = addAt(doc, tokens, value(), i, path);
        break;
      case 'remove':
        removeAt(doc, tokens, i, path);
        break;
      case 'replace':
        doc = tokens.length ? addAt(doc, tokens, value(), i, path, true) : value();
        break;
      case 'move':
      case 'copy': {
        const from = pointer(o.from, i);
        const v =
          o.op === 'move'
            ? removeAt(doc, from, i, String(o.from))
            : structuredClone(getAt(doc, from, i, String(o.from)));
        doc = addAt(doc, tokens, v, i, path);
        break;
      }
      case 'test':
        if (!equalJson(getAt(doc, tokens, i, path), value())) throw new Error(`patch[${i}]: test failed at ${path}`);
        break;
      default:
        throw new Error(
          `patch[${i}].op: must be add, remove, replace, move, copy or test, got ${JSON.stringify(o.op)}`,
        );
    }
  });
  return doc;
}

/** Applies a patch of the given type to a resource; kind, name and namespace may not change. */
export function patchResource(current: Resource, patchText: string, type: PatchType): Resource {
  let patch: Json;
  try {
    patch = parseYaml(patchText) as Json;
  } catch (e) {
    throw new Error(`patch: not valid JSON or YAML: ${(e as Error).message}`);
  }
  const doc = current as unknown as Json;
  let out: Json | undefined;
  if (type === 'json') out = jsonPatch(doc, patch);
  else {
    if (!isObject(patch)) throw new Error(`patch: a ${type} patch must be an object`);
    out = type === 'merge' ? mergePatch(doc, patch) : strategicPatch(doc, patch);
  }
  if (!isObject(out)) throw new Error('patch: the patched resource is not an object');
  const r = out as unknown as Resource;
  for (const [field, was, now] of [
    ['kind', current.kind, r.kind],
    ['metadata.name', current.metadata.name, r.metadata?.name],
    ['metadata.namespace', current.metadata.namespace, r.metadata?.namespace],
  ] as const) {
    if (was !== now) throw new Error(`patch: ${field} may not be changed (was ${JSON.stringify(was)})`);
  }
  return r;
}

export interface PatchRequest {
  kind: string;
  name: string;
  namespace?: string;
  patch: string;
  type: PatchType;
}

export async function runPatch(client: ResourceClient, req: PatchRequest): Promise<CommandResult> {
  try {
    const info = resolveKind(req.kind);
    if (info.readOnly) throw new Error(readOnlyMessage('patch', info.kind));
    const ns = info.namespaced ? (req.namespace ?? 'default') : undefined;
    for (let attempt = 0; ; attempt++) {
      const current = await client.get(info.kind, req.name, ns);
      const patched = patchResource(current, req.patch, req.type);
      patched.metadata.resourceVersion = current.metadata.resourceVersion;
      const sink = updateProblems(current, patched);
      if (!sink.ok) throw new ResourceValidationError(sink.problems);
      try {
        await client.update(patched);
        return { code: 0, stdout: `Successfully patched 1 '${info.kind}' resource\n`, stderr: '' };
      } catch (e) {
        if (e instanceof ConflictError && attempt < 3) continue;
        throw e;
      }
    }
  } catch (e) {
    return { code: 1, stdout: '', stderr: `Hit error: ${(e as Error).message}\n` };
  }
}
