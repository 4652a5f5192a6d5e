// The lab's resident process inside each pod's network namespace. It serves the pod's declared container ports (TCP
// accepts and answers, UDP echoes) and, on a unix socket in the lab directory, runs connectivity probes from the pod:
// one request in -> one verdict per target out. Keeping it resident makes a probe matrix cost milliseconds, not a
// process start per pair. Each attempt uses a fresh socket, so a fresh source port: an old conntrack entry cannot
// make a denied pair look reachable.
import { createServer as createTcpServer, connect, type Server } from 'node:net';
import { createSocket, type Socket } from 'node:dgram';
import { createServer as createUnixServer } from 'node:net';
import { rmSync } from 'node:fs';

export interface ProbeTarget {
  ip: string;
  port: number;
  protocol: 'TCP' | 'UDP';
}

export interface ProbeRequest {
  targets: ProbeTarget[];
  timeoutMs: number;
}

export interface PodAgentOptions {
  controlSocket: string;
  ports: { port: number; protocol: 'TCP' | 'UDP' }[];
}

const REPLY = Buffer.from('calico-lab\n');

function probeTcp(t: ProbeTarget, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const family = t.ip.includes(':') ? 6 : 4;
    const sock = connect({ host: t.ip, port: t.port, family });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('data', () => done(true));
    sock.once('error', () => done(false));
    sock.once('end', () => done(false));
  });
}

function probeUdp(t: ProbeTarget, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock: Socket = createSocket(t.ip.includes(':') ? 'udp6' : 'udp4');
    let finished = false;
    const done = (ok: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('message', () => done(true));
    sock.on('error', () => done(false));
    sock.send(REPLY, t.port, t.ip);
  });
}

export function probe(t: ProbeTarget, timeoutMs: number): Promise<boolean> {
  return t.protocol === 'UDP' ? probeUdp(t, timeoutMs) : probeTcp(t, timeoutMs);
}

/** Starts the servers and the control socket; resolves once everything listens. */
export async function runPodAgent(opts: PodAgentOptions): Promise<{ close(): void }> {
  const servers: (Server | Socket)[] = [];
  for (const p of opts.ports) {
    if (p.protocol === 'TCP') {
      const srv = createTcpServer((c) => {
        c.on('error', () => undefined);
        c.end(REPLY);
      });
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen({ port: p.port, host: '::', ipv6Only: false }, () => resolve());
      });
      servers.push(srv);
    } else {
      for (const type of ['udp4', 'udp6'] as const) {
        const sock = createSocket({ type, ipv6Only: type === 'udp6' });
        sock.on('message', (_msg, rinfo) => sock.send(REPLY, rinfo.port, rinfo.address));
        sock.on('error', () => undefined);
        await new Promise<void>((resolve) => sock.bind(p.port, type === 'udp4' ? '0.0.0.0' : '::', () => resolve()));
        servers.push(sock);
      }
    }
  }
  rmSync(opts.controlSocket, { force: true });
  const control = createUnixServer((conn) => {
    let buf = '';
    conn.on('error', () => undefined);
    conn.on('data', async (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const req = JSON.parse(buf.slice(0, nl)) as ProbeRequest;
      const results = await Promise.all(req.targets.map((t) => probe(t, req.timeoutMs)));
      conn.end(JSON.stringify(results) + '\n');
    });
  });
  await new Promise<void>((resolve) => control.listen(opts.controlSocket, () => resolve()));
  return {
    close() {
      control.close();
      for (const s of servers) s.close();
    },
  };
}

/** Asks a pod's agent to probe targets; resolves with one verdict per target. */
export function requestProbes(controlSocket: string, req: ProbeRequest): Promise<boolean[]> {
  return new Promise((resolve, reject) => {
    const conn = connect(controlSocket);
    let buf = '';
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`probe agent at ${controlSocket} did not answer`));
    }, req.timeoutMs + 5000);
    conn.on('connect', () => conn.write(JSON.stringify(req) + '\n'));
    conn.on('data', (d) => (buf += d.toString()));
    conn.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buf) as boolean[]);
      } catch (e) {
        reject(e as Error);
      }
    });
    conn.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
