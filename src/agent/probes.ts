// `calico-node -felix-live` / `-felix-ready`: ask the running agent's health server (FELIX_HEALTHHOST, default
// localhost; FELIX_HEALTHPORT, default 9099) and turn the answer into an exit code and a one-line reason.
import http from 'node:http';

export interface ProbeResult {
  ok: boolean;
  message: string;
}

export function felixProbe(
  which: 'liveness' | 'readiness',
  env: Readonly<Record<string, string | undefined>>,
  timeoutMs = 2000,
): Promise<ProbeResult> {
  const host = env.FELIX_HEALTHHOST || 'localhost';
  const port = Number(env.FELIX_HEALTHPORT || 9099);
  const what = which === 'liveness' ? 'live' : 'ready';
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: `/${which}`, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        let reason = body.trim();
        try {
          reason = (JSON.parse(body) as { reason?: string }).reason ?? reason;
        } catch {
          /* not JSON: keep the text */
        }
        const ok = res.statusCode === 200;
        resolve({ ok, message: `calico/node agent is ${ok ? '' : 'not '}${what}: ${reason}` });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) =>
      resolve({
        ok: false,
        message: `calico/node agent is not ${what}: health endpoint ${host}:${port}: ${err.message}`,
      }),
    );
  });
}
