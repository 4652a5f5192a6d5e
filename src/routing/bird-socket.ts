// Talks BIRD's control-socket protocol (what birdc speaks): read the `0001` banner, send one command, collect the
// numbered reply lines until a final `NNNN ` line. Used for `configure`, `show protocols` and health probes.
import { createConnection } from 'node:net';

export interface BirdReplyLine {
  code: number;
  text: string;
}

export class BirdSocketError extends Error {}

/** Sends one command; resolves with the reply lines (continuation lines carry the code of the line they continue). */
export function birdCommand(socketPath: string, command: string, timeoutMs = 5000): Promise<BirdReplyLine[]> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    let buf = '';
    let bannerSeen = false;
    const lines: BirdReplyLine[] = [];
    let lastCode = 0;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new BirdSocketError(`BIRD socket ${socketPath}: no reply to "${command}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(lines);
    };
    sock.on('error', (err) =>
      finish(new BirdSocketError(`BIRD socket ${socketPath}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)),
    );
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^(\d{4})([ -])(.*)$/.exec(line);
        if (!bannerSeen) {
          if (m && m[1] === '0001') {
            bannerSeen = true;
            sock.write(command + '\n');
          }
          continue;
        }
        if (m) {
          lastCode = Number(m[1]);
          lines.push({ code: lastCode, text: m[3] });
          if (m[2] === ' ') return finish();
        } else if (line.startsWith(' ')) {
          lines.push({ code: lastCode, text: line.slice(1) });
        }
      }
    });
  });
}

/** A reply code of 8000 and up is BIRD's error class (syntax error, failed command, ...). */
export function birdReplyError(lines: BirdReplyLine[]): string | undefined {
  const bad = lines.find((l) => l.code >= 8000);
  return bad ? `${bad.code} ${bad.text}` : undefined;
}
