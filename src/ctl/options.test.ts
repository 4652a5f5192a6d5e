// Option and argument parsing: kind aliases (every alias of the reference), -o formats, label arguments, commander
// flags of each command, and -f input (multi-document YAML, JSON lists, directories, -n namespaces, every problem).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { resolveKind } from './get.js';
import { parseOutputFormat } from './output.js';
import { parseLabelArg } from './label.js';
import { decodeInput, readInput, InputError } from './input.js';
import { buildProgram } from './main.js';

describe('kind aliases', () => {
  const REFERENCE: Record<string, string[]> = {
    IPPool: ['ippool', 'ippools', 'ipp', 'ipps', 'pool', 'pools'],
    Node: ['node', 'nodes', 'no', 'nos'],
    BGPPeer: ['bgppeer', 'bgppeers', 'bgpp', 'bgpps', 'bp', 'bps'],
    BGPConfiguration: ['bgpconfiguration', 'bgpconfigurations', 'bgpconfig', 'bgpconfigs'],
    NetworkPolicy: ['networkpolicy', 'networkpolicies', 'policy', 'np', 'policies', 'pol', 'pols'],
    GlobalNetworkPolicy: ['globalnetworkpolicy', 'globalnetworkpolicies', 'gnp', 'gnps'],
    WorkloadEndpoint: ['workloadendpoint', 'workloadendpoints', 'wep', 'weps'],
    HostEndpoint: ['hostendpoint', 'hostendpoints', 'hep', 'heps'],
    Profile: ['profile', 'profiles', 'pro', 'pros'],
    Tier: ['tier', 'tiers'],
    NetworkSet: ['networkset', 'networksets', 'netsets'],
    GlobalNetworkSet: ['globalnetworkset', 'globalnetworksets', 'gnetsets'],
    ClusterInformation: ['clusterinformation', 'clusterinformations', 'clusterinfo', 'clusterinfos'],
    IPReservation: ['ipreservation', 'ipreservations'],
    FelixConfiguration: ['felixconfiguration', 'felixconfigurations', 'felixconfig', 'felixconfigs'],
    KubeControllersConfiguration: ['kubecontrollersconfiguration', 'kubecontrollersconfigurations'],
    IPAMConfiguration: ['ipamconfiguration', 'ipamconfigurations'],
  };
  test('every alias of the reference resolves, in any case', () => {
    for (const [kind, aliases] of Object.entries(REFERENCE)) {
      for (const a of aliases) {
        assert.equal(resolveKind(a).kind, kind, a);
        assert.equal(resolveKind(a.toUpperCase()).kind, kind, a.toUpperCase());
      }
    }
  });
  test('an unknown kind is not supported, in Calico words', () => {
    assert.throws(() => resolveKind('frobs'), /resource type 'frobs' is not supported/);
  });
});

describe('-o', () => {
  test('formats', () => {
    for (const f of ['ps', 'wide', 'yaml', 'json', 'name'] as const)
      assert.deepEqual(parseOutputFormat(f), { type: f });
    assert.deepEqual(parseOutputFormat('custom-columns=NAME,CIDR'), { type: 'custom', columns: ['NAME', 'CIDR'] });
    assert.throws(() => parseOutputFormat('custom-columns='), /at least one column/);
    assert.throws(() => parseOutputFormat('xml'), /unrecognized output format 'xml'/);
  });
});

describe('label argument', () => {
  test('key=value, key with --remove, problems named', () => {
    assert.deepEqual(parseLabelArg('rack=a', false), { key: 'rack', value: 'a' });
    assert.deepEqual(parseLabelArg('example.com/x=', false), { key: 'example.com/x', value: '' });
    assert.deepEqual(parseLabelArg('rack', true), { key: 'rack' });
    assert.throws(() => parseLabelArg('rack', false), /^Error: invalid label rack$/);
    assert.throws(() => parseLabelArg('a=b=c', false), /invalid label a=b=c/);
    assert.throws(() => parseLabelArg('rack=a', true), /only the key/);
    assert.throws(() => parseLabelArg('rack=bad value', false), /invalid label value/);
  });
});

describe('commander flags', () => {
  async function parse(argv: string[], command: string): Promise<unknown[]> {
    const program = buildProgram();
    program.exitOverride();
    const cmd = program.commands.find((c) => c.name() === command) as Command;
    let got: unknown[] = [];
    cmd.action((...args: unknown[]) => {
      // (positional..., options, command): keep the positionals and the options merged with the globals.
      const c = args[args.length - 1] as Command;
      got = [...args.slice(0, -2), c.optsWithGlobals()];
    });
    await program.parseAsync(argv, { from: 'user' });
    return got;
  }
  test('get KIND NAME... with -o, -n, -A, --export, --skip-empty, and global -c after the command', async () => {
    const [kind, names, opts] = await parse(
      [
        'get',
        'wep',
        'a',
        'b',
        '-o',
        'wide',
        '-n',
        'prod',
        '-A',
        '--export',
        '--skip-empty',
        '-c',
        '/tmp/x.cfg',
        '--allow-version-mismatch',
      ],
      'get',
    );
    assert.equal(kind, 'wep');
    assert.deepEqual(names, ['a', 'b']);
    assert.deepEqual(opts, {
      output: 'wide',
      namespace: 'prod',
      allNamespaces: true,
      export: true,
      skipEmpty: true,
      config: '/tmp/x.cfg',
      allowVersionMismatch: true,
    });
  });
  test('get defaults to -o ps', async () => {
    const [, , opts] = await parse(['get', 'ippools'], 'get');
    assert.equal((opts as { output: string }).output, 'ps');
  });
  test('create -f - --skip-exists -R; delete --skip-not-exists; patch -p --type; label --overwrite/--remove', async () => {
    assert.deepEqual((await parse(['create', '-f', '-', '--skip-exists', '-R'], 'create'))[0], {
      filename: '-',
      skipExists: true,
      recursive: true,
    });
    const del = await parse(['delete', 'ippool', 'p1', 'p2', '--skip-not-exists'], 'delete');
    assert.deepEqual(del.slice(0, 2), ['ippool', ['p1', 'p2']]);
    assert.equal((del[2] as { skipNotExists: boolean }).skipNotExists, true);
    const p = await parse(['patch', 'node', 'n1', '-p', '{"spec":{}}', '--type', 'json'], 'patch');
    assert.deepEqual(p.slice(0, 2), ['node', 'n1']);
    assert.deepEqual(p[2], { patch: '{"spec":{}}', type: 'json' });
    const l = await parse(['label', 'nodes', 'n1', 'rack', '--remove'], 'label');
    assert.deepEqual(l.slice(0, 3), ['nodes', 'n1', 'rack']);
    assert.equal((l[3] as { remove: boolean }).remove, true);
  });
});

describe('-f input', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tl-input-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const pool = (name: string, cidr: string) =>
    `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n  cidr: ${cidr}\n`;

  test('multi-document YAML, JSON list, namespaces from -n or "default"', () => {
    const yaml = `${pool('a', '10.1.0.0/16')}---\n${pool('b', '10.2.0.0/16')}---\napiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata:\n  name: s\nspec:\n  nets: [1.2.3.0/24]\n`;
    const out = decodeInput([{ source: 'x', text: yaml }]);
    assert.deepEqual(
      out.map((r) => r.metadata.name),
      ['a', 'b', 's'],
    );
    assert.equal(out[2].metadata.namespace, 'default');
    const netset = yaml.split('---\n')[2];
    assert.equal(decodeInput([{ source: 'x', text: netset }], { namespace: 'prod' })[0].metadata.namespace, 'prod');
    const json = JSON.stringify([
      { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'j' }, spec: { cidr: '10.3.0.0/16' } },
    ]);
    assert.equal(decodeInput([{ source: 'y', text: json }])[0].metadata.name, 'j');
  });

  test('every problem of every document is listed, read-only kinds refused', () => {
    const text = `${pool('ok', '10.1.0.0/16')}---\n${pool('bad', 'not-a-cidr')}---\napiVersion: projectcalico.org/v3\nkind: ClusterInformation\nmetadata:\n  name: default\nspec: {}\n---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: s\n  namespace: other\nspec: {}\n`;
    try {
      decodeInput([{ source: 'x', text }], { action: 'apply' });
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof InputError);
      assert.equal(e.lines.length, 3, e.message);
      assert.match(e.lines[0], /IPPool "bad": spec\.cidr/);
      assert.match(e.lines[1], /operation apply is not supported on ClusterInformation: resource is readonly/);
      assert.match(e.lines[2], /GlobalNetworkSet .*metadata\.namespace: must be empty/);
    }
  });

  test('-n: a namespaced resource naming another namespace, or a cluster-scoped kind, is refused (as Calico)', () => {
    const netset =
      'apiVersion: projectcalico.org/v3\nkind: NetworkSet\nmetadata:\n  name: s\n  namespace: other\nspec: {}\n';
    assert.throws(
      () => decodeInput([{ source: 'x', text: netset }], { namespace: 'prod' }),
      /NetworkSet "other\/s": metadata\.namespace: resource namespace does not match client namespace\. other != prod/,
    );
    assert.throws(
      () => decodeInput([{ source: 'x', text: pool('a', '10.1.0.0/16') }], { namespace: 'prod' }),
      /IPPool is not namespaced/,
    );
  });

  test('directories: resource files only, sub-directories with -R; problems name their file', () => {
    writeFileSync(path.join(dir, 'a.yaml'), pool('a', '10.1.0.0/16'));
    writeFileSync(path.join(dir, 'notes.txt'), 'not a resource');
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(
      path.join(dir, 'sub', 'b.json'),
      JSON.stringify({
        apiVersion: 'projectcalico.org/v3',
        kind: 'IPPool',
        metadata: { name: 'b' },
        spec: { cidr: 'bad' },
      }),
    );
    assert.deepEqual(
      readInput(dir, false).map((s) => path.basename(s.source)),
      ['a.yaml'],
    );
    const all = readInput(dir, true);
    assert.deepEqual(
      all.map((s) => path.basename(s.source)),
      ['a.yaml', 'b.json'],
    );
    assert.throws(() => decodeInput(all), /sub\/b\.json: IPPool "b": spec\.cidr/);
    assert.throws(() => readInput(path.join(dir, 'missing.yaml'), false), /no such file or directory/);
    assert.equal(readInput('-', false, () => 'text')[0].text, 'text');
  });
});

describe('version check', () => {
  test('release numbers must be equal; an unrecorded cluster version never mismatches', async () => {
    const { versionMismatch, releaseOf } = await import('./version.js');
    assert.equal(releaseOf('v3.29.0-calico-ts'), '3.29.0');
    assert.equal(versionMismatch('v3.29.0-calico-ts', 'v3.29.0'), false);
    assert.equal(versionMismatch('v3.29.0-calico-ts', 'v3.29.1'), true);
    assert.equal(versionMismatch('v3.29.0-calico-ts', ''), false);
  });
});
