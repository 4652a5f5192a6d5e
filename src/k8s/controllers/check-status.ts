// The probe side of the health endpoint, as Calico's `check-status -l / -r`: asks the running process's health
// server on 127.0.0.1 and turns the answer into an exit code and a one-line reason (for exec probes).
import { request } from 'node:http';

export async function checkStatus(
  what: 'liveness' | 'readiness',
  port: number,
  timeoutMs = 5000,
): Promise<{ ok: boolean; reason: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: `/${what}`, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        let detail = '';
        try {
          const parsed = JSON.parse(body) as { components?: Record<string, { detail?: string }> };
          detail = Object.entries(parsed.components ?? {})
            .map(([k, v]) => `${k}: ${v.detail ?? ''}`)
            .join('; ');
        } catch {
          detail = body.trim();
        }
        const ok = res.statusCode === 200;
        resolve({
          ok,
          reason: `${ok ? (what === 'liveness' ? 'live' : 'ready') : `not ${what === 'liveness' ? 'live' : 'ready'}`} (${detail})`,
        });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) =>
      resolve({ ok: false, reason: `health endpoint 127.0.0.1:${port} unreachable: ${err.message}` }),
    );
    req.end();
  });
}
