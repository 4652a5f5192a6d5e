// calicoctl round-trips every writable kind through SQLite and a real etcd, as a user would: apply a file with one
// object of each kind, `get -o yaml` / `get -o json` (lists and single named objects), apply that output again (no
// change: same resourceVersions, no datastore write), then `delete -f` leaves nothing behind.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { KINDS } from '../../../src/api/kinds.js';
import { etcdBackend, requireBuild, sqliteBackend, type Backend } from './harness.js';

const EXAMPLES = path.resolve(
  path.dirname(new URL(import.meta.url).pathname),
  '../../../src/api/testdata/examples.yaml',
);

/** One object of every kind users may write, from the API model's examples. */
function writableExamples(): Record<string, any>[] {
  const docs = parseAllDocuments(readFileSync(EXAMPLES, 'utf8')).map((d) => d.toJS() as Record<string, any>);
  const out = docs.filter((d) => !KINDS.find((k) => k.kind === d.kind)?.readOnly);
  // Create-time defaults give a pool allowedUses [Workload, Tunnel], which may not have a namespaceSelector.
  for (const d of out) if (d.kind === 'IPPool' && d.spec.namespaceSelector) d.spec.allowedUses = ['Workload'];
  return out;
}

const ALIASES: Record<string, string> = {
  IPPool: 'ippools',
  IPReservation: 'ipreservations',
  IPAMConfiguration: 'ipamconfigs',
  Node: 'nodes',
  BGPConfiguration: 'bgpconfig',
  BGPPeer: 'bgpp',
  BGPFilter: 'bgpfilters',
  FelixConfiguration: 'felixconfig',
  NetworkPolicy: 'np',
  GlobalNetworkPolicy: 'gnp',
  StagedNetworkPolicy: 'stagednetworkpolicies',
  StagedGlobalNetworkPolicy: 'stagedglobalnetworkpolicies',
  StagedKubernetesNetworkPolicy: 'stagedkubernetesnetworkpolicies',
  Tier: 'tiers',
  NetworkSet: 'netsets',
  GlobalNetworkSet: 'gnetsets',
  HostEndpoint: 'heps',
  WorkloadEndpoint: 'weps',
  Profile: 'profiles',
  KubeControllersConfiguration: 'kubecontrollersconfigurations',
};

/** -A for namespaced kinds (Calico refuses it for the others). */
const allNs = (kind: string): string[] => (KINDS.find((k) => k.kind === kind)?.namespaced ? ['-A'] : []);

for (const make of [sqliteBackend, etcdBackend]) {
  describe(`round trip (${make === sqliteBackend ? 'sqlite' : 'etcd'})`, () => {
    let b: Backend;
    let dir: string;
    const examples = writableExamples();
    const kinds = [...new Set(examples.map((d) => d.kind as string))];

    before(async () => {
      requireBuild();
      dir = mkdtempSync(path.join(tmpdir(), 'tl-rt-'));
      b = await make();
    });
    after(async () => {
      await b?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('apply a file with every writable kind', async () => {
      assert.deepEqual(kinds.sort(), Object.keys(ALIASES).sort(), 'the examples cover every writable kind');
      const file = path.join(dir, 'all.yaml');
      writeFileSync(file, examples.map((d) => stringify(d)).join('---\n'));
      const r = await b.ctl(['apply', '-f', file]);
      assert.equal(r.stderr, '');
      assert.equal(r.stdout, `Successfully applied ${examples.length} resource(s)\n`);
      assert.equal(r.code, 0);
      for (const d of examples) {
        const got = await b.client.find(d.kind, d.metadata.name, d.metadata.namespace ?? 'default');
        assert.ok(got, `${d.kind} ${d.metadata.name} stored`);
        if (d.kind !== 'IPAMConfiguration') assert.match(String(got.metadata.uid), /^[0-9a-f-]{36}$/);
      }
    });

    test('get -o yaml and -o json (lists and named objects) apply back unchanged', async () => {
      const yamlDocs: string[] = [];
      const jsonDocs: string[] = [];
      const singles: string[] = [];
      for (const kind of kinds) {
        const y = await b.ctl(['get', ALIASES[kind], ...allNs(kind), '-o', 'yaml']);
        assert.equal(y.code, 0, y.stderr);
        assert.match(y.stdout, new RegExp(`^kind: ${kind}List$`, 'm'));
        yamlDocs.push(y.stdout);
        const j = await b.ctl(['get', ALIASES[kind], ...allNs(kind), '-o', 'json']);
        assert.equal(j.code, 0, j.stderr);
        assert.equal(JSON.parse(j.stdout).kind, `${kind}List`);
        jsonDocs.push(j.stdout);
        const first = examples.find((d) => d.kind === kind)!;
        const args = ['get', ALIASES[kind], first.metadata.name, '-o', 'yaml'];
        if (first.metadata.namespace) args.push('-n', first.metadata.namespace);
        const s = await b.ctl(args);
        assert.equal(s.code, 0, s.stderr);
        assert.match(s.stdout, new RegExp(`^kind: ${kind}$`, 'm'), 'a named get prints the object itself');
        singles.push(s.stdout);
      }
      // Several named objects print as a sequence of objects, which applies back too.
      const pools = examples.filter((d) => d.kind === 'IPPool').map((d) => d.metadata.name as string);
      const pair = await b.ctl(['get', 'ippools', ...pools, '-o', 'yaml']);
      assert.match(pair.stdout, /^- apiVersion: projectcalico\.org\/v3$/m);
      const before = await b.client.datastore.currentRevision();
      for (const [name, text] of [
        ['lists.yaml', yamlDocs.join('---\n')],
        ['lists.json', jsonDocs.join('\n')],
        ['singles.yaml', singles.join('---\n')],
        ['pair.yaml', pair.stdout],
      ]) {
        const file = path.join(dir, name);
        writeFileSync(file, text);
        const r = await b.ctl(['apply', '-f', file]);
        assert.equal(r.code, 0, `${name}: ${r.stderr}`);
        assert.match(r.stdout, /^Successfully applied \d+ ('IPPool' )?resource\(s\)\n$/);
      }
      assert.equal(await b.client.datastore.currentRevision(), before, 'applying unchanged output writes nothing');
      for (const [i, kind] of kinds.entries()) {
        const again = await b.ctl(['get', ALIASES[kind], ...allNs(kind), '-o', 'yaml']);
        assert.equal(again.stdout, yamlDocs[i], `${kind}: same objects, same resourceVersions`);
      }
    });

    test('get -o wide prints every kind as a table with its header', async () => {
      const r = await b.ctl(['get', 'ippools', '-o', 'wide']);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.match(
        lines[0],
        /^NAME {3,}CIDR {3,}NAT {3,}IPIPMODE {3,}VXLANMODE {3,}DISABLED {3,}DISABLEBGPEXPORT {3,}SELECTOR {3,}ASSIGNMENTMODE {3}$/,
      );
      assert.equal(lines.length, 3);
      const v4 = lines
        .find((l) => l.startsWith('default-ipv4-ippool'))!
        .trimEnd()
        .split(/ {3,}/);
      assert.deepEqual(v4, [
        'default-ipv4-ippool',
        '192.168.0.0/16',
        'true',
        'CrossSubnet',
        'Never',
        'false',
        'false',
        'all()',
        'Automatic',
      ]);
      const node = await b.ctl(['get', 'nodes', '-o', 'wide']);
      assert.match(node.stdout, /^node-1 {3,}64512 {3,}/m);
      const weps = await b.ctl(['get', 'wep', '-A']);
      assert.match(weps.stdout, /^NAMESPACE {3,}WORKLOAD {3,}NODE {3,}NETWORKS {3,}INTERFACE {3,}\n/);
      assert.ok(weps.stdout.endsWith('\n\n'), 'an empty line after the table, as calicoctl');
      const scoped = await b.ctl(['get', 'ippools', '-A']);
      assert.equal(scoped.code, 1);
      assert.equal(scoped.stderr, 'IPPool is not namespaced\n');
    });

    test('get -o go-template= and go-template-file= run Go templates over the Go objects', async () => {
      const list = await b.ctl([
        'get',
        'ippools',
        '-o',
        'go-template={{range .}}{{range .Items}}{{.ObjectMeta.Name}} {{.Spec.CIDR}}{{"\\n"}}{{end}}{{end}}',
      ]);
      assert.equal(list.code, 0, list.stderr);
      const pools = examples.filter((d) => d.kind === 'IPPool');
      const expected = pools
        .map((d) => `${d.metadata.name} ${d.spec.cidr}\n`)
        .sort()
        .join('');
      assert.equal(list.stdout, expected);
      const file = path.join(dir, 'names.tmpl');
      writeFileSync(file, '{{- range . -}}\n{{ .Name }}/{{ .Spec.BlockSize }}\n{{- end }}\n');
      const named = await b.ctl(['get', 'ippools', pools[0]!.metadata.name, '-o', `go-template-file=${file}`]);
      assert.equal(named.code, 0, named.stderr);
      const stored = await b.client.get('IPPool', pools[0]!.metadata.name);
      assert.equal(named.stdout, `${stored.metadata.name}/${stored.spec.blockSize}\n`);
      const bad = await b.ctl(['get', 'ippools', '-o', 'go-template={{range .}}{{.Nope}}{{end}}']);
      assert.equal(bad.code, 1);
      assert.equal(
        bad.stderr,
        'template: get:1:14: executing "get" at <.Nope>: can\'t evaluate field Nope in type *v3.IPPoolList\n',
      );
      const missing = await b.ctl(['get', 'ippools', '-o', `go-template-file=${path.join(dir, 'absent.tmpl')}`]);
      assert.equal(missing.stderr, `open ${path.join(dir, 'absent.tmpl')}: no such file or directory\n`);
      assert.equal(missing.code, 1);
    });

    test('delete -f removes every object', async () => {
      const r = await b.ctl(['delete', '-f', path.join(dir, 'all.yaml')]);
      assert.equal(r.stdout, `Successfully deleted ${examples.length} resource(s)\n`, r.stderr);
      for (const kind of kinds) {
        const left = (await b.client.list(kind)).items.map((r) => r.metadata.name);
        // The built-in tiers, created by the first apply as Calico's EnsureInitialized does, cannot be deleted.
        const expected = kind === 'Tier' ? ['default', 'kube-admin', 'kube-baseline'] : [];
        assert.deepEqual(left, expected, `${kind}: nothing else left`);
      }
    });

    test('built-in tiers: get tiers shows them; deleting one, or a tier a policy names, is refused', async () => {
      const r = await b.ctl(['get', 'tiers']);
      assert.equal(r.code, 0, r.stderr);
      const rows = r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.trimEnd().split(/ {3,}/));
      assert.deepEqual(rows, [
        ['NAME', 'ORDER'],
        ['default', '1e+06'],
        ['kube-admin', '1000'],
        ['kube-baseline', '1e+07'],
      ]);
      const del = await b.ctl(['delete', 'tier', 'default']);
      assert.equal(del.code, 1);
      assert.equal(
        del.stderr,
        "Failed to delete 'Tier' resource: operation Delete is not supported on default: Cannot delete default tier\n",
      );
      const file = path.join(dir, 'tiered.yaml');
      writeFileSync(
        file,
        [
          stringify({
            apiVersion: 'projectcalico.org/v3',
            kind: 'Tier',
            metadata: { name: 'security' },
            spec: { order: 10 },
          }),
          stringify({
            apiVersion: 'projectcalico.org/v3',
            kind: 'GlobalNetworkPolicy',
            metadata: { name: 'security.deny-all' },
            spec: { tier: 'security', selector: 'all()', ingress: [{ action: 'Deny' }] },
          }),
        ].join('---\n'),
      );
      assert.equal((await b.ctl(['apply', '-f', file])).code, 0);
      const busy = await b.ctl(['delete', 'tier', 'security']);
      assert.equal(busy.code, 1);
      assert.equal(
        busy.stderr,
        "Failed to delete 'Tier' resource: operation delete is not supported on security: Cannot delete a non-empty tier\n",
      );
      assert.equal((await b.ctl(['delete', 'gnp', 'security.deny-all'])).code, 0);
      const ok = await b.ctl(['delete', 'tier', 'security']);
      assert.equal(ok.stdout, "Successfully deleted 1 'Tier' resource(s)\n", ok.stderr);
    });
  });
}
