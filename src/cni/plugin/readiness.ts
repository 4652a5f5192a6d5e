// Calico's `readiness_gates`: before ADD does anything, each listed URL must answer an HTTP(S) GET with 2xx or 3xx;
// polled every `intervalMs` (Calico: 5 s) up to `timeoutMs` (Calico: 30 s). The error names the URL and last answer.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CniError } from '../skel/types.js';

function probe(url: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve(`not a URL`);
      return;
    }
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { method: 'GET', timeout: timeoutMs },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400 ? undefined : `HTTP ${code}`);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve(err.message));
    req.end();
  });
}

export async function waitForReadinessGates(
  urls: string[],
  opts: { intervalMs?: number; timeoutMs?: number } = {},
): Promise<void> {
  const interval = opts.intervalMs ?? 5000;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (const url of urls) {
    for (;;) {
      const problem = await probe(url, Math.min(interval, 5000));
      if (!problem) break;
      if (Date.now() + interval > deadline) {
        throw new CniError(11, `readiness gate ${url} not ready: ${problem}`);
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  }
}
