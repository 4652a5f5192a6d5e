// Tier lifecycle rules Calico's clientv3 keeps: the built-in tiers are created if absent (never overwritten), and a
// tier may be deleted only when it is not built in and no (staged) policy names it. Used by ResourceClient.delete
// and by ensureInitialized; errors carry libcalico-go's ErrorOperationNotSupported wording.
import { CALICO_API_VERSION } from '../api/resource.js';
import { BUILT_IN_TIERS } from '../api/v3/policy.js';
import type { ResourceClient } from './resources.js';
import { AlreadyExistsError, OperationNotSupportedError } from './types.js';

/** Kinds whose objects belong to a tier (spec.tier, `default` when unset). */
const TIERED_KINDS = ['NetworkPolicy', 'GlobalNetworkPolicy', 'StagedNetworkPolicy', 'StagedGlobalNetworkPolicy'];

export function isBuiltInTier(name: string): boolean {
  return BUILT_IN_TIERS.some((t) => t.name === name);
}

/**
 * Creates each built-in tier that does not exist, with Calico's order and defaultAction. A tier that exists —
 * edited or not — is left exactly as it is. Returns the names created.
 */
export async function ensureBuiltInTiers(client: ResourceClient): Promise<string[]> {
  const created: string[] = [];
  for (const t of BUILT_IN_TIERS) {
    if (await client.find('Tier', t.name)) continue;
    try {
      await client.create({
        apiVersion: CALICO_API_VERSION,
        kind: 'Tier',
        metadata: { name: t.name },
        spec: { ...t.spec },
      });
      created.push(t.name);
    } catch (err) {
      if (!(err instanceof AlreadyExistsError)) throw err; // another process got there first
    }
  }
  return created;
}

/** Throws OperationNotSupportedError when Calico refuses to delete this tier (built in, or still holding policies). */
export async function checkTierDeletable(client: ResourceClient, name: string): Promise<void> {
  if (isBuiltInTier(name)) {
    throw new OperationNotSupportedError('Delete', name, `Cannot delete ${name} tier`);
  }
  for (const kind of TIERED_KINDS) {
    const { items } = await client.list(kind);
    if (items.some((p) => (p.spec?.tier || 'default') === name)) {
      throw new OperationNotSupportedError('delete', name, 'Cannot delete a non-empty tier');
    }
  }
}
