// Runs create/apply/replace/delete over checked resources in file order, stopping at the first error as Calico's
// calicoctl does, and words the outcome as Calico does ("Successfully applied 2 'IPPool' resource(s)",
// "Partial success: ..."). Resources in -> per-command result (stdout, stderr, exit code) out.
import type { Resource } from '../api/resource.js';
import { ResourceValidationError } from '../api/problems.js';
import { updateProblems } from '../api/validate/update.js';
import { AlreadyExistsError, NotFoundError } from '../datastore/types.js';
import type { ResourceClient } from '../datastore/resources.js';
import { deleteNodeCascade, type NodeCleanup } from './node-delete.js';

export type WriteAction = 'create' | 'apply' | 'replace' | 'delete';

export interface ActionOptions {
  /** create: an existing resource is not an error (and is left as it is). */
  skipExists?: boolean;
  /** delete: a missing resource is not an error. */
  skipNotExists?: boolean;
  /** delete of a Node: IPAM clean-up (affinities, tunnel addresses). */
  nodeCleanup?: NodeCleanup;
}

export interface ActionResults {
  numResources: number;
  /** Resources done, skipped ones included. */
  numHandled: number;
  numIgnored: number;
  /** The kind when every resource has the same one, else "". */
  singleKind: string;
  error?: Error;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

const PAST: Record<WriteAction, string> = {
  create: 'created',
  apply: 'applied',
  replace: 'replaced',
  delete: 'deleted',
};

export function singleKindOf(resources: Resource[]): string {
  const kinds = new Set(resources.map((r) => r.kind));
  return kinds.size === 1 ? [...kinds][0] : '';
}

export async function executeAction(
  client: ResourceClient,
  action: WriteAction,
  resources: Resource[],
  opts: ActionOptions = {},
): Promise<ActionResults> {
  const results: ActionResults = {
    numResources: resources.length,
    numHandled: 0,
    numIgnored: 0,
    singleKind: singleKindOf(resources),
  };
  for (const r of resources) {
    try {
      await runOne(client, action, r, opts);
    } catch (err) {
      const skip =
        (action === 'create' && opts.skipExists && err instanceof AlreadyExistsError) ||
        (action === 'delete' && opts.skipNotExists && err instanceof NotFoundError);
      if (!skip) {
        results.error = err as Error;
        break;
      }
      results.numIgnored++;
    }
    results.numHandled++;
  }
  return results;
}

async function runOne(client: ResourceClient, action: WriteAction, r: Resource, opts: ActionOptions): Promise<void> {
  switch (action) {
    case 'create':
      await client.create(r);
      return;
    case 'apply':
      await checkUpdate(client, r);
      await client.apply(r);
      return;
    case 'replace':
      await checkUpdate(client, r);
      await client.update(r);
      return;
    case 'delete': {
      const { kind, metadata } = r;
      if (kind === 'Node') {
        await deleteNodeCascade(client, metadata.name, metadata.resourceVersion, opts.nodeCleanup);
      } else {
        await client.delete(kind, metadata.name, metadata.namespace, metadata.resourceVersion || undefined);
      }
    }
  }
}

/** Fields Calico refuses to change on a stored object (IPPool cidr, blockSize, LoadBalancer use). */
export async function checkUpdate(client: ResourceClient, next: Resource): Promise<void> {
  const stored = await client.find(next.kind, next.metadata.name, next.metadata.namespace);
  if (!stored) return;
  const sink = updateProblems(stored, next);
  if (!sink.ok) throw new ResourceValidationError(sink.problems);
}

/** Calico's wording of the outcome and its exit code. */
export function summarize(action: WriteAction, results: ActionResults): CommandResult {
  const past = PAST[action];
  const kindText = results.singleKind ? ` '${results.singleKind}'` : '';
  if (results.numResources === 0) {
    return { code: 0, stdout: 'No resources specified\n', stderr: '' };
  }
  if (!results.error) {
    return { code: 0, stdout: `Successfully ${past} ${results.numHandled}${kindText} resource(s)\n`, stderr: '' };
  }
  if (results.numHandled - results.numIgnored > 0) {
    return {
      code: 1,
      stdout:
        `Partial success: ${past} the first ${results.numHandled} out of ${results.numResources}` +
        `${kindText} resources:\n`,
      stderr: `Hit error: ${results.error.message}\n`,
    };
  }
  const what = results.singleKind ? `'${results.singleKind}' resource` : 'resources';
  return { code: 1, stdout: '', stderr: `Failed to ${action} ${what}: [${results.error.message}]\n` };
}
