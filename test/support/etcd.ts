// Starts a real etcd (Debian's etcd-server) for a test: free loopback ports, a temporary data directory, waits until
// healthy; stop() kills it by PID and removes the directory. Optional TLS with client certificates (generated here).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import https from 'node:https';
import http from 'node:http';
import forge from 'node-forge';

export interface EtcdOptions {
  /** Serve clients over TLS and require client certificates signed by a generated CA. */
  tls?: boolean;
}

export interface TestEtcd {
  /** e.g. `http://127.0.0.1:23791` (https with tls). */
  endpoint: string;
  /** With tls: the CA certificate and a client certificate/key the server accepts. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** Data and certificate directory (removed on stop). */
  dir: string;
  /** PID of the running etcd (changes on restart). */
  readonly pid: number;
  /** Kills etcd (SIGKILL) and starts it again on the same ports and data after downMs; waits until healthy. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startEtcd(opts: EtcdOptions = {}): Promise<TestEtcd> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      lastError = err; // usually a port taken between choosing and binding it: try other ports
    }
  }
  throw lastError;
}

async function startOnce(opts: EtcdOptions): Promise<TestEtcd> {
  const dir = mkdtempSync(path.join(tmpdir(), 'td-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const scheme = opts.tls ? 'https' : 'http';
  const clientUrl = `${scheme}://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name',
    'td',
    '--data-dir',
    path.join(dir, 'data'),
    '--listen-client-urls',
    clientUrl,
    '--advertise-client-urls',
    clientUrl,
    '--listen-peer-urls',
    peerUrl,
    '--initial-advertise-peer-urls',
    peerUrl,
    '--initial-cluster',
    `td=${peerUrl}`,
    '--log-level',
    'error',
  ];
  let tlsFiles: { caFile: string; certFile: string; keyFile: string } | undefined;
  if (opts.tls) {
    const certs = makeCertificates();
    const file = (name: string, text: string): string => {
      const p = path.join(dir, name);
      writeFileSync(p, text, { mode: 0o600 });
      return p;
    };
    const caFile = file('ca.pem', certs.ca);
    const serverCert = file('server.pem', certs.serverCert);
    const serverKey = file('server-key.pem', certs.serverKey);
    tlsFiles = {
      caFile,
      certFile: file('client.pem', certs.clientCert),
      keyFile: file('client-key.pem', certs.clientKey),
    };
    args.push('--cert-file', serverCert, '--key-file', serverKey, '--trusted-ca-file', caFile, '--client-cert-auth');
  }

  let child!: ChildProcess;
  let exited = true;
  let stderr = '';
  // If the test process ends without calling stop(), etcd must not outlive it.
  const killOnExit = (): void => {
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const kill = async (): Promise<void> => {
    if (!exited && child.pid) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await gone;
    }
  };
  const launch = async (): Promise<void> => {
    child = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    exited = false;
    stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 20000) stderr += d.toString();
    });
    const me = child;
    me.once('exit', () => {
      if (me === child) exited = true;
    });
    const deadline = Date.now() + 15000;
    while (!(await healthy(clientUrl, tlsFiles))) {
      if (exited) throw new Error(`etcd exited during start-up: ${stderr.trim().slice(-2000)}`);
      if (Date.now() > deadline)
        throw new Error(`etcd at ${clientUrl} not healthy within 15 s: ${stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async (): Promise<void> => {
    await kill();
    process.removeListener('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await launch();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    endpoint: clientUrl,
    dir,
    get pid() {
      return child.pid!;
    },
    restart: async (downMs = 0) => {
      await kill();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
    stop,
    ...tlsFiles,
  };
}

function healthy(url: string, tls?: { caFile: string; certFile: string; keyFile: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const onResponse = (res: http.IncomingMessage): void => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"health":"true"')));
    };
    const req = tls
      ? https.get(
          `${url}/health`,
          {
            ca: readText(tls.caFile),
            cert: readText(tls.certFile),
            key: readText(tls.keyFile),
            servername: 'localhost', // the certificate names both; an IP as TLS server name is deprecated
            timeout: 1000,
          },
          onResponse,
        )
      : http.get(`${url}/health`, { timeout: 1000 }, onResponse);
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

const readText = (p: string): string => readFileSync(p, 'utf8');

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all PEM. */
function makeCertificates(): {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
} {
  const pki = forge.pki;
  const caKeys = pki.rsa.generateKeyPair(2048);
  const ca = pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = '01';
  ca.validity.notBefore = new Date(Date.now() - 3600_000);
  ca.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const caName = [{ name: 'commonName', value: 'td-test-ca' }];
  ca.setSubject(caName);
  ca.setIssuer(caName);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const leaf = (cn: string, serial: string, server: boolean): { cert: string; key: string } => {
    const keys = pki.rsa.generateKeyPair(2048);
    const cert = pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = serial;
    cert.validity.notBefore = ca.validity.notBefore;
    cert.validity.notAfter = ca.validity.notAfter;
    cert.setSubject([{ name: 'commonName', value: cn }]);
    cert.setIssuer(caName);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      ...(server
        ? [
            {
              name: 'subjectAltName',
              altNames: [
                { type: 7, ip: '127.0.0.1' },
                { type: 2, value: 'localhost' },
              ],
            },
          ]
        : []),
    ]);
    cert.sign(caKeys.privateKey, forge.md.sha256.create());
    return { cert: pki.certificateToPem(cert), key: pki.privateKeyToPem(keys.privateKey) };
  };
  const server = leaf('td-etcd-server', '02', true);
  const client = leaf('td-etcd-client', '03', false);
  return {
    ca: pki.certificateToPem(ca),
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
  };
}
