// Runs create/apply/replace/delete over checked resources in file order and words the outcome as Calico's
// calicoctl does ("Successfully applied 2 'IPPool' resource(s)", "Partial success: ...").
// Resources in -> per-command result (stdout, stderr, exit code) out.
import type { Resource } from '../api/resource.js';
import { ResourceValidationError } from '../api/problems.js';
import { updateProblems } from '../api/validate/update.js';
import { AlreadyExistsError, NotFoundError, UnreachableError } from '../datastore/types.js';
import type { ResourceClient } from '../datastore/resources.js';
import { deleteNodeCascade, type NodeCleanup } from './node-delete.js';
import { poolPlacementProblemsFor } from '../ipam/pool-placement.js';
import { deletePoolCascade } from './ipam/pool-delete.js';

export type WriteAction = 'create' | 'apply' | 'replace' | 'delete';

export interface ActionOptions {
  /** create: an existing resource is not an error (and is left as it is). */
  skipExists?: boolean;
  /** delete: a missing resource is not an error. */
  skipNotExists?: boolean;
  /** delete of a Node: IPAM clean-up (affinities, tunnel addresses). */
  nodeCleanup?: NodeCleanup;
  /** delete of an IPPool: the pause between disabling it and releasing its affinities (Calico's 500 ms). */
  poolDeletePauseMs?: number;
}

export interface ActionResults {
  numResources: number;
  /** Resources done, skipped ones included. */
  numHandled: number;
  /** Per-resource failures (already exists, does not exist, conflict, refused). */
  errors: Error[];
  /** The kind when every resource has the same one, else "". */
  singleKind: string;
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

/**
 * Runs the action on each resource in order. As Calico's calicoctl, create/apply/delete go on past a resource
 * that fails and report every failure; replace stops at its first. Any action stops when the datastore cannot be
 * reached: every later write would fail the same way after its own timeout.
 */
export async function executeAction(
  client: ResourceClient,
  action: WriteAction,
  resources: Resource[],
  opts: ActionOptions = {},
): Promise<ActionResults> {
  const results: ActionResults = {
    numResources: resources.length,
    numHandled: 0,
    errors: [],
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
        results.errors.push(err as Error);
        if (action === 'replace' || err instanceof UnreachableError) break;
        continue;
      }
    }
    results.numHandled++;
  }
  return results;
}

async function runOne(client: ResourceClient, action: WriteAction, r: Resource, opts: ActionOptions): Promise<void> {
  switch (action) {
    case 'create':
      await checkPoolPlacement(client, r);
      await client.create(r);
      return;
    case 'apply':
      await checkUpdate(client, r);
      await checkPoolPlacement(client, r);
      await client.apply(r);
      return;
    case 'replace':
      await checkUpdate(client, r);
      await checkPoolPlacement(client, r);
      await client.update(r);
      return;
    case 'delete': {
      const { kind, metadata } = r;
      if (kind === 'Node') {
        await deleteNodeCascade(client, metadata.name, metadata.resourceVersion, opts.nodeCleanup);
      } else if (kind === 'IPPool') {
        await deletePoolCascade(client, metadata.name, metadata.resourceVersion || undefined, opts.poolDeletePauseMs);
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

/** An IPPool must not overlap another pool nor existing blocks of another size (Calico's clientv3 checks). */
async function checkPoolPlacement(client: ResourceClient, r: Resource): Promise<void> {
  if (r.kind !== 'IPPool') return;
  const problems = await poolPlacementProblemsFor(client.datastore, r);
  if (problems.length) {
    throw new ResourceValidationError(
      problems.map((p) => ({ document: 0, kind: r.kind, name: r.metadata.name, path: p.path, reason: p.reason })),
    );
  }
}

/** Go's %v of a []error: the messages in brackets, separated by spaces. */
const goErrors = (errors: Error[]): string => `[${errors.map((e) => e.message).join(' ')}]`;

/** Calico's wording of the outcome and its exit code (calicoctl's create.go, apply.go, replace.go, delete.go). */
export function summarize(action: WriteAction, results: ActionResults): CommandResult {
  const past = PAST[action];
  const { numResources, numHandled, errors, singleKind } = results;
  const kindText = singleKind ? ` '${singleKind}'` : '';
  if (numResources === 0) return { code: 0, stdout: 'No resources specified\n', stderr: '' };
  const success = numHandled > 0 ? `Successfully ${past} ${numHandled}${kindText} resource(s)\n` : '';
  if (!errors.length) return { code: 0, stdout: success, stderr: '' };

  if (action === 'delete') {
    const what = singleKind ? `'${singleKind}' resource` : 'resource';
    return {
      code: 1,
      stdout: success,
      stderr: errors.map((e) => `Failed to delete ${what}: ${e.message}\n`).join(''),
    };
  }
  const list = action === 'replace' ? errors[0].message : goErrors(errors);
  if (numHandled === 0) {
    const what =
      numResources === 1 ? `'${singleKind}' resource` : singleKind ? `any '${singleKind}' resources` : 'any resources';
    return { code: 1, stdout: '', stderr: `Failed to ${action} ${what}: ${list}\n` };
  }
  return {
    code: 1,
    stdout: `Partial success: ${past} the first ${numHandled} out of ${numResources}${kindText} resources:\n`,
    stderr: `${action === 'apply' ? 'Hit error(s)' : 'Hit error'}: ${list}\n`,
  };
}
