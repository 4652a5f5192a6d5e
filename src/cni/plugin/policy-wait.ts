// Calico's optional "policy before traffic" wait (`policy_setup_timeout_seconds`): after ADD, poll the endpoint
// status directory the agent writes (CALICO_ENDPOINT_STATUS_DIR) until this endpoint's file reports it programmed.
// Accepted file names (one file per endpoint): the WEP key with "/" as "_" , the URI-encoded WEP key, or
// <namespace>/<wep name>. A JSON body with `status` must say "up" or "programmed"; any other body counts as present.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { resourceKey } from '../../datastore/keys.js';

export function endpointStatusCandidates(dir: string, namespace: string, wepName: string): string[] {
  const key = resourceKey('WorkloadEndpoint', wepName, namespace);
  return [
    path.join(dir, key.replace(/^\//, '').replace(/\//g, '_')),
    path.join(dir, encodeURIComponent(key)),
    path.join(dir, namespace, wepName),
    path.join(dir, wepName),
  ];
}

function programmed(file: string): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  try {
    const v = JSON.parse(text) as { status?: string };
    if (v && typeof v === 'object' && typeof v.status === 'string')
      return ['up', 'programmed'].includes(v.status.toLowerCase());
  } catch {
    // not JSON: presence is the signal
  }
  return true;
}

/** Resolves true once programmed, false on timeout (Calico only warns then). */
export async function waitForPolicy(
  dir: string,
  namespace: string,
  wepName: string,
  timeoutSeconds: number,
): Promise<boolean> {
  const files = endpointStatusCandidates(dir, namespace, wepName);
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    if (files.some(programmed)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
