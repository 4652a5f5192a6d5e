// Test fixture: a tiny Kubernetes API (HTTPS, self-signed CA, bearer token) serving GET of pods and namespaces from
// a JSON file (argv[2]: {"namespaces": {name: obj}, "pods": {"ns/name": obj}, "nodes": {name: obj}}, re-read
// per request). Writes its CA to
// argv[3] and prints "ready <port>" once listening on 127.0.0.1 of the namespace it runs in. Until the lab's API
// server lands, this stands in for it in the CNI system tests.
import { createServer } from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import forge from 'node-forge';

const [, , dataFile, caOut, token = 'tc-token'] = process.argv;
const keys = forge.pki.rsa.generateKeyPair(1024);
const cert = forge.pki.createCertificate();
cert.publicKey = keys.publicKey;
cert.serialNumber = '01';
cert.validity.notBefore = new Date(Date.now() - 60_000);
cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
const attrs = [{ name: 'commonName', value: '127.0.0.1' }];
cert.setSubject(attrs);
cert.setIssuer(attrs);
cert.setExtensions([{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }]);
cert.sign(keys.privateKey, forge.md.sha256.create());
const certPem = forge.pki.certificateToPem(cert);
writeFileSync(caOut!, certPem);

const server = createServer({ cert: certPem, key: forge.pki.privateKeyToPem(keys.privateKey) }, (req, res) => {
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.headers.authorization !== `Bearer ${token}`) return send(401, { kind: 'Status', message: 'Unauthorized' });
  const data = JSON.parse(readFileSync(dataFile!, 'utf8')) as {
    namespaces: Record<string, unknown>;
    pods: Record<string, unknown>;
    nodes?: Record<string, unknown>;
  };
  const pod = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(req.url ?? '');
  const ns = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(req.url ?? '');
  const node = /^\/api\/v1\/nodes\/([^/]+)$/.exec(req.url ?? '');
  const obj = pod
    ? data.pods[`${pod[1]}/${pod[2]}`]
    : ns
      ? data.namespaces[ns[1]!]
      : node
        ? data.nodes?.[node[1]!]
        : undefined;
  if (!obj) return send(404, { kind: 'Status', message: `${req.url} not found` });
  send(200, obj);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`ready ${(server.address() as { port: number }).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
