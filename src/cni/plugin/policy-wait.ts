// Calico's optional "policy before traffic" wait (`policy_setup_timeout_seconds`): after ADD, poll the endpoint
// status directory the agent writes (CALICO_ENDPOINT_STATUS_DIR, src/agent/dataplane/endpoint-status.ts) until this
// endpoint's file says `"status":"up"`. File name: `<namespace>/<wep name>` URI-encoded; a missing file is "not yet".
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const endpointStatusFile = (dir: string, namespace: string, wepName: string): string =>
  path.join(dir, encodeURIComponent(`${namespace}/${wepName}`));

function isUp(file: string): boolean {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { status?: unknown };
    return v?.status === 'up';
  } catch {
    return false; // missing, or caught mid-write by a non-atomic writer
  }
}

/** Resolves true once the endpoint is reported up, false on timeout (Calico then only warns). */
export async function waitForPolicy(
  dir: string,
  namespace: string,
  wepName: string,
  timeoutSeconds: number,
): Promise<boolean> {
  const file = endpointStatusFile(dir, namespace, wepName);
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    if (isUp(file)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
