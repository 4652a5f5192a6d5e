// `calicoctl label KIND NAME key=value [--overwrite]` and `calicoctl label KIND NAME key --remove`: changes one label
// of a resource, written back as a compare-and-swap on the version read.
import { labelKeyProblem, labelValueProblem } from '../api/names.js';
import { ConflictError } from '../datastore/types.js';
import type { ResourceClient } from '../datastore/resources.js';
import type { CommandResult } from './actions.js';
import { resolveKind } from './get.js';
import { readOnlyMessage } from './input.js';

export interface LabelRequest {
  kind: string;
  name: string;
  label: string;
  namespace?: string;
  overwrite?: boolean;
  remove?: boolean;
}

/** `key=value` (or `key` with --remove) -> key and value; the problem names the argument and the reason. */
export function parseLabelArg(arg: string, remove: boolean): { key: string; value?: string } {
  if (remove) {
    if (arg.includes('=')) throw new Error(`label: with --remove give only the key, got "${arg}"`);
    return { key: arg };
  }
  const i = arg.indexOf('=');
  if (i <= 0) throw new Error(`label: expected key=value, got "${arg}"`);
  const key = arg.slice(0, i);
  const value = arg.slice(i + 1);
  const problem = labelKeyProblem(key) ?? labelValueProblem(value);
  if (problem) throw new Error(`label "${arg}": ${problem}`);
  return { key, value };
}

export async function runLabel(client: ResourceClient, req: LabelRequest): Promise<CommandResult> {
  try {
    const { key, value } = parseLabelArg(req.label, Boolean(req.remove));
    const info = resolveKind(req.kind);
    if (info.readOnly) throw new Error(readOnlyMessage('label', info.kind));
    const ns = info.namespaced ? (req.namespace ?? 'default') : undefined;
    for (let attempt = 0; ; attempt++) {
      const current = await client.get(info.kind, req.name, ns);
      const labels = { ...(current.metadata.labels ?? {}) };
      if (req.remove) {
        if (!(key in labels)) throw new Error(`label ${key} is not present on ${req.kind} ${req.name}`);
        delete labels[key];
      } else {
        if (key in labels && labels[key] !== value && !req.overwrite) {
          throw new Error(`key ${key} is already present; use --overwrite to change its value`);
        }
        labels[key] = value!;
      }
      const updated = { ...current, metadata: { ...current.metadata, labels } };
      try {
        await client.update(updated);
        break;
      } catch (e) {
        if (e instanceof ConflictError && attempt < 3) continue;
        throw e;
      }
    }
    const stdout = req.remove
      ? `Successfully removed label ${key} from ${req.kind} ${req.name}\n`
      : `Successfully set label ${key} on ${req.kind} ${req.name}\n`;
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    return { code: 1, stdout: '', stderr: `Failed to update label: ${(e as Error).message}\n` };
  }
}
