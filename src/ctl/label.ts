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
    if (arg.includes('=')) throw new Error(`invalid label ${arg}: with --remove give only the key`);
    return { key: arg };
  }
  const parts = arg.split('=');
  if (parts.length !== 2 || !parts[0]) throw new Error(`invalid label ${arg}`);
  const [key, value] = parts;
  const problem = labelKeyProblem(key) ?? labelValueProblem(value);
  if (problem) throw new Error(`invalid label ${arg}: ${problem}`);
  return { key, value };
}

/** Calico's label command: its messages name the kind and name as the user typed them. */
export async function runLabel(client: ResourceClient, req: LabelRequest): Promise<CommandResult> {
  const fail = (message: string): CommandResult => ({ code: 1, stdout: '', stderr: `${message}\n` });
  const what = `${req.kind} ${req.name}`;
  let key: string;
  let value: string | undefined;
  let info;
  try {
    ({ key, value } = parseLabelArg(req.label, Boolean(req.remove)));
    info = resolveKind(req.kind);
  } catch (e) {
    return fail((e as Error).message);
  }
  if (info.readOnly) return fail(readOnlyMessage('label', info.kind));
  const ns = info.namespaced ? (req.namespace ?? 'default') : undefined;
  let overwritten = false;
  for (let attempt = 0; ; attempt++) {
    let current;
    try {
      current = await client.get(info.kind, req.name, ns);
    } catch (e) {
      return fail(`failed to get ${what}, error ${(e as Error).message}`);
    }
    const labels = { ...(current.metadata.labels ?? {}) };
    if (req.remove) {
      if (!(key in labels)) return fail(`cannot remove label of ${what}, key ${key} does not exist`);
      delete labels[key];
    } else if (key in labels) {
      if (!req.overwrite && labels[key] !== value) {
        return fail(
          `failed to update label of ${what}, key ${key} is already present. please use '--overwrite' to set a new value.`,
        );
      }
      overwritten = true;
      labels[key] = value!;
    } else labels[key] = value!;
    try {
      await client.update({ ...current, metadata: { ...current.metadata, labels } });
      break;
    } catch (e) {
      if (e instanceof ConflictError && attempt < 3) continue;
      return fail(`failed to update ${what}, label not changed: ${(e as Error).message}`);
    }
  }
  const stdout = req.remove
    ? `Successfully removed label ${key} from ${what}\n`
    : `Successfully ${overwritten ? 'updated' : 'set'} label ${key} on ${what}\n`;
  return { code: 0, stdout, stderr: '' };
}
