// PATCH bodies applied to a stored object: JSON Patch (RFC 6902), JSON Merge Patch (RFC 7386) and Kubernetes'
// strategic merge patch for the fields this server stores (lists merged by their merge key: containers by name,
// conditions by type, ...; `$patch: delete|replace` directives; `$setElementOrder` hints ignored).
import { ApiError, badRequest, unsupportedMediaType } from './status.js';

type Json = any;
const isObj = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
] as const;

export function applyPatch(contentType: string | undefined, target: Json, patchText: string): Json {
  const type = (contentType ?? '').split(';')[0]!.trim();
  let patch: Json;
  try {
    patch = JSON.parse(patchText);
  } catch (err) {
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
  switch (type) {
    case 'application/json-patch+json':
      return jsonPatch(target, patch);
    case 'application/merge-patch+json':
      return mergePatch(target, patch);
    case 'application/strategic-merge-patch+json':
      return strategicMergePatch(target, patch, '');
    default:
      throw unsupportedMediaType(type || '(none)');
  }
}

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObj(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Merge keys of lists of objects, by field name (Kubernetes' patchMergeKey tags for the kinds served here). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  containerStatuses: 'name',
  initContainerStatuses: 'name',
  conditions: 'type',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
  ownerReferences: 'uid',
  secrets: 'name',
  addresses: 'type',
  podIPs: 'ip',
  hostIPs: 'ip',
  ports: 'containerPort',
};
/** Lists of scalars merged as sets. */
const MERGED_SCALAR_LISTS = new Set(['finalizers']);

export function strategicMergePatch(target: Json, patch: Json, field: string): Json {
  if (!isObj(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return structuredClone(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: Record<string, Json> = isObj(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/') || k === '$retainKeys' || k === '$patch') continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const name = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[name]) && Array.isArray(v)) out[name] = out[name].filter((x: Json) => !v.includes(x));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      out[k] = mergeList(k, out[k], v);
      continue;
    }
    const merged = strategicMergePatch(out[k], v, k);
    if (merged === undefined) delete out[k];
    else out[k] = merged;
  }
  void field;
  return out;
}

function mergeList(field: string, current: Json, patch: Json[]): Json[] {
  const cur: Json[] = Array.isArray(current) ? structuredClone(current) : [];
  if (MERGED_SCALAR_LISTS.has(field)) return [...new Set([...cur, ...patch])];
  const key = MERGE_KEYS[field];
  if (!key || !patch.every((p) => isObj(p))) {
    return patch.filter((p) => !(isObj(p) && p.$patch)).map((p) => structuredClone(p));
  }
  if (patch.some((p) => p.$patch === 'replace'))
    return patch.filter((p) => p.$patch !== 'replace').map((p) => structuredClone(p));
  for (const p of patch) {
    const idx = cur.findIndex((c) => isObj(c) && c[key] === p[key]);
    if (p.$patch === 'delete') {
      if (idx >= 0) cur.splice(idx, 1);
    } else if (idx >= 0) cur[idx] = strategicMergePatch(cur[idx], p, field);
    else cur.push(strategicMergePatch({}, p, field));
  }
  return cur;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`json patch: path "${path}" must start with "/"`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, parts: string[], op: string): { parent: Json; last: string } {
  let cur = doc;
  for (const p of parts.slice(0, -1)) {
    cur = Array.isArray(cur) ? cur[Number(p)] : isObj(cur) ? cur[p] : undefined;
    if (cur === undefined) throw badRequest(`json patch ${op}: path /${parts.join('/')} does not exist`);
  }
  return { parent: cur, last: parts[parts.length - 1]! };
}

function getAt(doc: Json, path: string): Json {
  let cur = doc;
  for (const p of pointer(path)) {
    cur = Array.isArray(cur) ? cur[Number(p)] : isObj(cur) ? cur[p] : undefined;
    if (cur === undefined) throw badRequest(`json patch: path ${path} does not exist`);
  }
  return cur;
}

function removeAt(doc: Json, path: string): Json {
  const { parent, last } = parentOf(doc, pointer(path), 'remove');
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!(i >= 0 && i < parent.length)) throw badRequest(`json patch remove: index ${last} out of range at ${path}`);
    return parent.splice(i, 1)[0];
  }
  if (!isObj(parent) || !Object.hasOwn(parent, last))
    throw badRequest(`json patch remove: path ${path} does not exist`);
  const v = parent[last];
  delete parent[last];
  return v;
}

function addAt(doc: Json, path: string, value: Json): Json {
  const parts = pointer(path);
  if (parts.length === 0) return value;
  const { parent, last } = parentOf(doc, parts, 'add');
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!(i >= 0 && i <= parent.length)) throw badRequest(`json patch add: index ${last} out of range at ${path}`);
    parent.splice(i, 0, value);
  } else if (isObj(parent)) parent[last] = value;
  else throw badRequest(`json patch add: parent of ${path} is not an object or array`);
  return doc;
}

export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw badRequest('json patch: the body must be a JSON array of operations');
  let doc = structuredClone(target);
  for (const op of ops) {
    if (!isObj(op) || typeof op.path !== 'string') throw badRequest('json patch: each operation needs "op" and "path"');
    switch (op.op) {
      case 'add':
        doc = addAt(doc, op.path, structuredClone(op.value));
        break;
      case 'remove':
        removeAt(doc, op.path);
        break;
      case 'replace':
        removeAt(doc, op.path);
        doc = addAt(doc, op.path, structuredClone(op.value));
        break;
      case 'move': {
        const v = removeAt(doc, op.from);
        doc = addAt(doc, op.path, v);
        break;
      }
      case 'copy':
        doc = addAt(doc, op.path, structuredClone(getAt(doc, op.from)));
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, op.path)) !== JSON.stringify(op.value))
          throw new ApiError({
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: `the server rejected our request due to an error in our request: json patch test failed at ${op.path}`,
            reason: 'Invalid',
            code: 422,
          });
        break;
      default:
        throw badRequest(`json patch: unknown operation ${JSON.stringify(op.op)}`);
    }
  }
  return doc;
}
