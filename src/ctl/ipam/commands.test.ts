import { test, describe, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDatastore } from '../../datastore/memory.js';
import { resourceKey } from '../../datastore/keys.js';
import { IpamClient } from '../../ipam/client.js';
import { putNode, putPool, putReservation } from '../../../test/support/ipam.js';
import { ipamCheck, ipamConfigure, ipamReleaseFromReport, ipamReleaseIp, ipamShow, ipamSplit } from './commands.js';
import { boxedTable, goG5, withPercent } from './table.js';
import { ResourceClient } from '../../datastore/resources.js';
import { executeAction, summarize } from '../actions.js';

test('numbers print as Go %.5g', () => {
  assert.equal(goG5(65536), '65536');
  assert.equal(goG5(1048576), '1.0486e+06');
  assert.equal(goG5(1e6), '1e+06');
  assert.equal(goG5(64), '64');
  assert.equal(goG5(0), '0');
});

test('boxed table as go-pretty draws it: headers left-aligned, configured cells right-aligned', () => {
  const text = boxedTable(
    ['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE'],
    [
      ['IP Pool', '10.10.0.0/24', '256', '9 (4%)'],
      ['Block', '10.10.0.128/26', '64', '9 (14%)'],
    ],
    [2, 3],
  );
  assert.equal(
    text,
    [
      '+----------+----------------+-----------+------------+',
      '| GROUPING | CIDR           | IPS TOTAL | IPS IN USE |',
      '+----------+----------------+-----------+------------+',
      '| IP Pool  | 10.10.0.0/24   |       256 |     9 (4%) |',
      '| Block    | 10.10.0.128/26 |        64 |    9 (14%) |',
      '+----------+----------------+-----------+------------+',
      '',
    ].join('\n'),
  );
});

test('ties round to even as Go does, in the count and in the percentage', () => {
  // 131065 lies exactly between 1.3106e+05 and 1.3107e+05; Go keeps the even digit.
  assert.equal(goG5(131065), '1.3106e+05');
  assert.equal(goG5(131075), '1.3108e+05');
  assert.equal(goG5(100005), '1e+05');
  assert.equal(goG5(999995), '1e+06');
  assert.equal(goG5(131066), '1.3107e+05');
  // 8 of a 64-address block is 12.5%: Go's %.f prints 12, 24 of 64 (37.5%) prints 38.
  assert.equal(withPercent(8, 64), '8 (12%)');
  assert.equal(withPercent(24, 64), '24 (38%)');
  assert.equal(withPercent(1, 200), '1 (0%)');
  assert.equal(withPercent(3, 200), '3 (2%)');
  assert.equal(withPercent(5, 64), '5 (8%)');
});

async function putWep(ds: MemoryDatastore, ns: string, name: string, ip: string): Promise<void> {
  const wep = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: { name, namespace: ns },
    spec: { node: 'node-a', pod: name, ipNetworks: [`${ip}/32`] },
  };
  await ds.put(resourceKey('WorkloadEndpoint', name, ns), JSON.stringify(wep));
}

test('calicoctl create/apply/replace refuse an IPPool overlapping another, writing nothing', async () => {
  const c = new ResourceClient(new MemoryDatastore());
  const pool = (name: string, cidr: string) => ({
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name },
    spec: { cidr },
  });
  assert.equal(summarize('create', await executeAction(c, 'create', [pool('a', '10.1.0.0/16')])).code, 0);
  const rev = await c.datastore.currentRevision();
  for (const action of ['create', 'apply'] as const) {
    const out = summarize(action, await executeAction(c, action, [pool('b', '10.1.5.0/24')]));
    assert.equal(out.code, 1);
    assert.equal(
      out.stderr,
      `Failed to ${action} 'IPPool' resource: [IPPool "b": spec.cidr: IPPool(b) CIDR overlaps with IPPool(a) CIDR 10.1.0.0/16]\n`,
    );
  }
  assert.equal(await c.datastore.currentRevision(), rev);
  // Re-applying a pool over itself is no overlap.
  assert.equal(summarize('apply', await executeAction(c, 'apply', [pool('a', '10.1.0.0/16')])).code, 0);
});

test('calicoctl delete ippool: disabled first, affinities released (empty blocks deleted, others kept non-affine), then deleted', async () => {
  const ds = new MemoryDatastore();
  const c = new ResourceClient(ds);
  const ipam = new IpamClient(ds);
  await putNode(ds, 'node-a');
  await putNode(ds, 'node-b');
  await putPool(ds, 'doomed', '10.3.0.0/24');
  const kept = await ipam.autoAssign({
    num4: 1,
    num6: 0,
    handleId: 'h1',
    attrs: { node: 'node-a' },
    hostname: 'node-a',
  });
  await ipam.autoAssign({ num4: 1, num6: 0, handleId: 'h2', attrs: { node: 'node-b' }, hostname: 'node-b' });
  await ipam.releaseByHandle('h2');
  const pool = { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'doomed' }, spec: {} };
  const out = summarize('delete', await executeAction(c, 'delete', [pool], { poolDeletePauseMs: 0 }));
  assert.deepEqual(out, { code: 0, stdout: "Successfully deleted 1 'IPPool' resource(s)\n", stderr: '' });
  assert.equal(await ds.get(resourceKey('IPPool', 'doomed')), undefined);
  assert.deepEqual((await ds.list('/calico/ipam/v2/host/')).items, []);
  const blocks = (await ds.list('/calico/ipam/v2/assignment/')).items.map((kv) => JSON.parse(kv.value));
  assert.equal(blocks.length, 1, 'the empty block is gone');
  assert.equal(blocks[0].affinity, null);
  assert.equal((await ipam.getAllocation(kept.ipv4[0].split('/')[0]))?.handleId, 'h1');
});

describe('calicoctl ipam', () => {
  let ds: MemoryDatastore;
  let ipam: IpamClient;
  beforeEach(async () => {
    ds = new MemoryDatastore();
    ipam = new IpamClient(ds);
    await putNode(ds, 'node-a');
    await putNode(ds, 'node-b');
    await putPool(ds, 'pool1', '10.0.0.0/24');
    await putReservation(ds, 'r', ['10.0.0.250/31']);
  });

  const assign = async (host: string, handle: string, pod: string) =>
    (
      await ipam.autoAssign({
        num4: 1,
        num6: 0,
        handleId: handle,
        attrs: { node: host, namespace: 'default', pod },
        hostname: host,
      })
    ).ipv4[0].split('/')[0];

  test('show: pool and block utilisation in a boxed table', async () => {
    await assign('node-a', 'h1', 'p1');
    await assign('node-a', 'h2', 'p2');
    const out = await ipamShow(ds, { showBlocks: true });
    const lines = out.stdout.trim().split('\n');
    assert.match(lines[0], /^\+-+\+-+\+/);
    assert.match(lines[1], /\| GROUPING \|.*CIDR.*\| IPS TOTAL \| IPS IN USE \| IPS RESERVED \|.*IPS FREE/);
    const pool = lines.find((l) => l.includes('IP Pool'))!;
    assert.deepEqual(
      pool
        .split('|')
        .map((c) => c.trim())
        .filter(Boolean),
      ['IP Pool', '10.0.0.0/24', '256', '2 (1%)', '2 (1%)', '252 (98%)'],
    );
    const block = lines.find((l) => l.includes('Block'))!;
    assert.equal(block.split('|')[4].trim(), '2 (3%)');
  });

  test('show: pools in name order; --show-blocks lists blocks of deleted pools last, under no pool row', async () => {
    await putPool(ds, 'a-pool', '10.9.0.0/24');
    await putPool(ds, 'z-pool', '10.1.0.0/24');
    await putPool(ds, 'gone', '10.5.0.0/24');
    await ipam.autoAssign({
      num4: 1,
      num6: 0,
      handleId: 'h',
      attrs: {},
      hostname: 'node-a',
      ipv4Pools: ['10.5.0.0/24'],
    });
    await ds.delete(resourceKey('IPPool', 'gone'));
    const cells = (await ipamShow(ds, { showBlocks: true })).stdout
      .split('\n')
      .filter((l) => l.startsWith('| IP Pool') || l.startsWith('| Block'))
      .map((l) => l.split('|')[2].trim());
    assert.deepEqual(cells.slice(0, 3), ['10.9.0.0/24', '10.0.0.0/24', '10.1.0.0/24']);
    assert.equal(cells.length, 4);
    assert.match(cells[3], /^10\.5\.0\.\d+\/26$/);
  });

  test('show --ip names the holder and its attributes; show --show-borrowed lists borrowed addresses', async () => {
    await putPool(ds, 'pool1', '10.0.0.0/26'); // one block only: node-b must borrow
    const ip = await assign('node-a', 'k8s-pod-network.c1', 'web-0');
    const out = await ipamShow(ds, { ip });
    assert.equal(
      out.stdout,
      `IP ${ip} is in use\nHandle ID: k8s-pod-network.c1\nActive Owner Attributes:\n  namespace: default\n  node: node-a\n  pod: web-0\n`,
    );
    assert.equal((await ipamShow(ds, { ip: '10.0.0.49' })).stdout, '10.0.0.49 is not assigned\n');
    const b = await assign('node-b', 'hb', 'db-0');
    const borrowed = await ipamShow(ds, { showBorrowed: true });
    const row = borrowed.stdout.split('\n').find((l) => l.includes(b))!;
    assert.deepEqual(
      row
        .split('|')
        .map((c) => c.trim())
        .filter(Boolean),
      [b, 'node-b', '10.0.0.0/26', 'node-a', 'pod', 'default/db-0'],
    );
  });

  test('show --show-borrowed: a tunnel address shows its type and no owner; node-less allocations go to the note', async () => {
    await putPool(ds, 'pool1', '10.0.0.0/26');
    await assign('node-a', 'h1', 'web-0');
    const tunnel = (
      await ipam.autoAssign({
        num4: 1,
        num6: 0,
        handleId: 'vxlan-tunnel-addr-node-b',
        attrs: { node: 'node-b', type: 'vxlanTunnelAddress' },
        hostname: 'node-b',
      })
    ).ipv4[0].split('/')[0];
    await ipam.autoAssign({ num4: 1, num6: 0, handleId: 'old', attrs: {}, hostname: 'node-b' });
    const out = (await ipamShow(ds, { showBorrowed: true })).stdout;
    const row = out.split('\n').find((l) => l.includes(`| ${tunnel} `))!;
    assert.deepEqual(
      row
        .split('|')
        .map((c) => c.trim())
        .slice(1, -1),
      [tunnel, 'node-b', '10.0.0.0/26', 'node-a', 'vxlanTunnelAddress', ''],
    );
    assert.equal(out.split('\n').filter((l) => l.startsWith('| 10.')).length, 1);
    assert.ok(
      out.endsWith(
        '\nNote: found 1 IP allocations without an explicit node association. Unable to determine if they are borrowed.\n',
      ),
    );
  });

  test('check counts exactly the leaks, writes the report, and release --from-report frees only those', async () => {
    const used = await assign('node-a', 'h-used', 'a');
    const leaked = await assign('node-a', 'h-leak', 'b');
    await putWep(ds, 'default', 'a', used);
    let written = '';
    const out = await ipamCheck(ds, { output: '/tmp/report.json' }, async (_p, text) => {
      written = text;
    });
    assert.equal(out.code, 0);
    assert.match(out.stdout, /Found 1 IPs that are allocated in IPAM but not actually in use\./);
    assert.match(out.stdout, /Check complete; found 1 problems\.\n$/);
    const report = JSON.parse(written);
    assert.equal(report.allocations[leaked][0].inUse, false);
    assert.equal(report.allocations[used][0].inUse, true);
    assert.equal(typeof report.allocations[leaked][0].sequenceNumber, 'number');
    const refused = await ipamReleaseFromReport(ds, [{ path: 'r.json', text: written }], false);
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr, 'data store is not locked. Either lock the data store, or re-run with --force\n');
    const rel = await ipamReleaseFromReport(ds, [{ path: 'r.json', text: written }], true);
    assert.equal(rel.code, 0, rel.stderr);
    assert.equal(
      rel.stdout,
      'WARNING: Data store is not locked. Ignoring due to --force option\n' +
        'Releasing 1 old IPs...\n' +
        'Released 1 IPs successfully\n' +
        "Report didn't contain any handles to clean up.\n" +
        'You may now unlock the data store.\n',
    );
    assert.equal(await ipam.getAllocation(leaked), undefined);
    assert.equal((await ipam.getAllocation(used))?.handleId, 'h-used');
    assert.match((await ipamCheck(ds, {}, async () => undefined)).stdout, /found 0 problems/);
  });

  test('release from a report never frees an address re-allocated since', async () => {
    const ip = await assign('node-a', 'h-old', 'x');
    let written = '';
    await ipamCheck(ds, { output: 'r.json' }, async (_p, t) => {
      written = t;
    });
    await ipam.releaseByHandle('h-old');
    await ipam.assignIp({ ip, handleId: 'h-new', attrs: {}, hostname: 'node-a' });
    const rel = await ipamReleaseFromReport(ds, [{ path: 'r.json', text: written }], true);
    // Calico reports the refused release and still exits 0.
    assert.equal(rel.code, 0);
    assert.match(
      rel.stdout,
      /\nAn error occurred while releasing some IPs: .*Try regenerating the IPAM report and retry\.\n/,
    );
    assert.equal((await ipam.getAllocation(ip))?.handleId, 'h-new');
  });

  test("release --from-report: refusals with Calico's texts, handles deleted by revision, several reports intersected", async () => {
    const ciKey = resourceKey('ClusterInformation', 'default');
    const ci = (spec: Record<string, unknown>) =>
      JSON.stringify({
        apiVersion: 'projectcalico.org/v3',
        kind: 'ClusterInformation',
        metadata: { name: 'default' },
        spec,
      });
    await ds.put(ciKey, ci({ clusterGUID: 'g1', datastoreReady: false }));
    const a = await assign('node-a', 'ha', 'a');
    const b = await assign('node-a', 'hb', 'b');
    await ds.put('/calico/ipam/v2/handle/orphan', JSON.stringify({ block: {}, deleted: false }));
    const check = async () => {
      let t = '';
      await ipamCheck(ds, { output: 'x' }, async (_p, text) => {
        t = text;
      });
      return t;
    };
    const first = await check();
    const parsed = JSON.parse(first);
    assert.deepEqual(Object.keys(parsed.leakedHandles[0]), ['ID', 'UID', 'Revision']);
    assert.equal(parsed.leakedHandles[0].ID, 'orphan');
    assert.equal(parsed.allocations[a][0].node, 'node-a');
    assert.equal('borrowed' in parsed.allocations[a][0], false);
    // b gets a workload before the second report: only a is leaked in both.
    await putWep(ds, 'default', 'b', b);
    const second = await check();

    const other = first.replace('"clusterGUID": "g1"', '"clusterGUID": "g2"');
    const guid = await ipamReleaseFromReport(ds, [{ path: 'o.json', text: other }], true);
    assert.equal(
      guid.stderr,
      'cluster does not match the provided report (o.json): mismatched cluster GUID. Refusing to release\n',
    );
    const oldVersion = first.replace(/"version": "[^"]*"/, '"version": "v3.0.0"');
    const ver = await ipamReleaseFromReport(ds, [{ path: 'v.json', text: oldVersion }], false);
    assert.equal(
      ver.stderr,
      'the provided report (v.json) was produced using a different version (v3.0.0) of calicoctl. Refusing to release\n',
    );

    const rel = await ipamReleaseFromReport(
      ds,
      [
        { path: '1.json', text: first },
        { path: '2.json', text: second },
      ],
      false,
    );
    assert.equal(rel.code, 0, rel.stderr);
    assert.equal(
      rel.stdout,
      'Releasing 1 old IPs...\nReleased 1 IPs successfully\nDeleting 1 handles...\n' +
        "Key: '.' = Deleted OK; 'x' = skip, handle missing/changed.\n.\nReleased 1 handles; 0 skipped; 0 errors.\n" +
        'You may now unlock the data store.\n',
    );
    assert.equal(await ipam.getAllocation(a), undefined);
    assert.equal((await ipam.getAllocation(b))?.handleId, 'hb');
    assert.equal(await ds.get('/calico/ipam/v2/handle/orphan'), undefined);

    // A change of ClusterInformation since the reports makes them all stale.
    await ds.put(ciKey, ci({ clusterGUID: 'g1', datastoreReady: false, clusterType: 'k8s' }));
    const stale = await ipamReleaseFromReport(ds, [{ path: '2.json', text: second }], true);
    assert.equal(
      stale.stderr,
      'the provided reports are all stale - at least one should be up-to-date. Please generate a new report while the data store is locked and try again\n',
    );
  });

  test("check prints Calico's lines in Calico's order", async () => {
    const used = await assign('node-a', 'h-used', 'a');
    const leaked = await assign('node-a', 'h-leak', 'b');
    await putWep(ds, 'default', 'a', used);
    const out = (await ipamCheck(ds, { showProblemIps: true }, async () => undefined)).stdout.split('\n');
    const block = out.find((l) => l.startsWith(' IPAM block '))!;
    const expected = [
      'Checking IPAM for inconsistencies...',
      '',
      'Loading all IPAM blocks...',
      'Found 1 IPAM blocks.',
      block,
      'IPAM blocks record 2 allocations.',
      '',
      'Loading all IPAM pools...',
      '  10.0.0.0/24',
      'Found 1 active IP pools.',
      '',
      'Loading all nodes.',
      'Found 0 node tunnel IPs.',
      '',
      'Loading all workload endpoints.',
      'Found 1 workload IPs.',
      'Workloads and nodes are using 1 IPs.',
      '',
      'Loading all handles',
      'Looking for top (up to 20) nodes by allocations...',
      '  node-a has 2 allocations',
      'Node with most allocations has 2; median is 2',
      '',
      'Scanning for IPs that are allocated but not actually in use...',
    ];
    assert.deepEqual(out.slice(0, expected.length), expected);
    assert.match(block, /^ IPAM block 10\.0\.0\.\d+\/26 affinity=host:node-a:$/);
    const rest = out.slice(expected.length);
    assert.match(
      rest[0],
      new RegExp(
        `^  ${leaked.replace(/\./g, '\\.')} leaked; attrs Main:h-leak Extra:namespace=default,node=node-a,pod=b$`,
      ),
    );
    assert.deepEqual(rest.slice(1, 9), [
      'Found 1 IPs that are allocated in IPAM but not actually in use.',
      'Scanning for IPs that are in use by a workload or node but not allocated in IPAM...',
      'Found 0 in-use IPs that are not in active IP pools.',
      'Found 0 in-use IPs that are in active IP pools but have no corresponding IPAM allocation.',
      '',
      'Scanning for IPAM handles with no matching IPs...',
      'Found 0 handles with no matching IPs (and 2 handles with matches).',
      'Scanning for IPs with missing handle...',
    ]);
    assert.equal(out[out.length - 2], 'Check complete; found 1 problems.');
  });

  test('check: an address used by two workloads is listed with --show-problem-ips, named in owners, and not counted', async () => {
    const ip = await assign('node-a', 'h1', 'a');
    await putWep(ds, 'default', 'a', ip);
    await putWep(ds, 'default', 'a2', ip);
    let written = '';
    const plain = await ipamCheck(ds, { output: 'x' }, async (_p, t) => {
      written = t;
    });
    assert.doesNotMatch(plain.stdout, /multiple owners/);
    assert.match(plain.stdout, /Check complete; found 0 problems\.\n$/);
    assert.deepEqual(JSON.parse(written).allocations[ip][0].owners, ['Workload(default/a)', 'Workload(default/a2)']);
    const shown = await ipamCheck(ds, { showProblemIps: true }, async () => undefined);
    assert.match(shown.stdout, new RegExp(`\\n  ${ip.replace(/\./g, '\\.')} has multiple owners\\.\\n`));
  });

  test('check reports affinities of nodes that are gone, leaked handles and in-use addresses without allocation', async () => {
    await assign('node-b', 'hb', 'b');
    await ds.delete(resourceKey('Node', 'node-b'));
    await putWep(ds, 'default', 'ghost', '10.0.0.200');
    await ds.put('/calico/ipam/v2/handle/orphan', JSON.stringify({ block: { '10.0.0.0/26': 1 }, deleted: false }));
    const out = await ipamCheck(ds, {}, async () => undefined);
    assert.match(out.stdout, /Found 1 block affinities of nodes that no longer exist\./);
    assert.match(out.stdout, /Found 1 handles with no matching IPs/);
    assert.match(
      out.stdout,
      /Found 1 in-use IPs that are in active IP pools but have no corresponding IPAM allocation\./,
    );
    // 1 leak (node-b's pod) + 1 leaked handle + 1 in-use without allocation.
    assert.match(out.stdout, /Check complete; found 3 problems\./);
  });

  test('release --ip, configure and show --show-configuration', async () => {
    const ip = await assign('node-a', 'h', 'p');
    assert.equal((await ipamReleaseIp(ds, ip)).stdout, `Successfully released IP address ${ip}\n`);
    assert.deepEqual(await ipamReleaseIp(ds, ip), {
      code: 1,
      stdout: '',
      stderr: `IP address ${ip} is not assigned\n`,
    });
    for (const out of [await ipamReleaseIp(ds, '10.0.0.300'), await ipamShow(ds, { ip: 'nope' })]) {
      assert.equal(out.code, 1);
      assert.match(out.stdout, /^Error executing command: invalid IP address specified: (10\.0\.0\.300|nope)\n$/);
    }
    assert.equal((await ipamConfigure(ds, { strictAffinity: 'maybe' })).code, 1);
    assert.equal((await ipamConfigure(ds, { strictAffinity: 'true' })).code, 0);
    const cfg = await ipamShow(ds, { showConfiguration: true });
    assert.match(cfg.stdout, /\| StrictAffinity\s+\| true\s+\|/);
    assert.match(cfg.stdout, /\| MaxBlocksPerHost\s+\| 0\s+\|/);
  });

  test("configure: Go booleans, Calico's refusals and messages; nothing written when refused", async () => {
    const err = async (o: Parameters<typeof ipamConfigure>[1]) => (await ipamConfigure(ds, o)).stderr;
    assert.equal(await err({ strictAffinity: 'maybe' }), 'invalid value. Use true or false to set strictaffinity\n');
    assert.equal(await err({ maxBlocksPerHost: 'many' }), 'invalid value for maxblockhost. Use a valid number\n');
    assert.equal(await err({}), 'at least one configuration option must be specified\n');
    assert.equal(
      await err({ maxBlocksPerHost: '2' }),
      'error: MaxBlocksPerHost requires StrictAffinity to be enabled\n',
    );
    assert.equal((await ipam.getConfig()).maxBlocksPerHost, 0);
    const ok = await ipamConfigure(ds, { strictAffinity: 'T', maxBlocksPerHost: '2' });
    assert.equal(ok.stdout, 'Successfully set StrictAffinity to: true\nSuccessfully set MaxBlocksPerHost to: 2\n');
    assert.equal(await err({ strictAffinity: '0' }), 'error: MaxBlocksPerHost requires StrictAffinity to be enabled\n');
    assert.equal((await ipamConfigure(ds, { maxBlocksPerHost: '0', strictAffinity: 'False' })).code, 0);
    assert.deepEqual([(await ipam.getConfig()).strictAffinity, (await ipam.getConfig()).maxBlocksPerHost], [false, 0]);
  });

  test('configure --ip-cooldown-seconds takes 0..1200, shows in --show-configuration, and show --ip says a released address cools down', async () => {
    for (const bad of ['1201', '-1', 'abc', '1.5', '']) {
      const out = await ipamConfigure(ds, { ipCooldownSeconds: bad });
      assert.equal(out.code, 1, bad);
      assert.match(out.stderr!, /--ip-cooldown-seconds: expected a whole number of seconds from 0 to 1200/);
    }
    assert.equal((await ipam.getConfig()).ipCooldownSeconds, 0, 'nothing written by a refused value');
    const ok = await ipamConfigure(ds, { ipCooldownSeconds: '1200' });
    assert.equal(ok.stdout, 'Successfully set IPCooldownSeconds to: 1200\n');
    const cfg = await ipamShow(ds, { showConfiguration: true });
    assert.match(cfg.stdout, /\| IPCooldownSeconds\s+\| 1200\s+\|/);

    const ip = await assign('node-a', 'h1', 'web-0');
    await ipam.releaseByHandle('h1');
    const shown = await ipamShow(ds, { ip });
    assert.match(
      shown.stdout,
      new RegExp(
        `^${ip.replace(/\./g, '\\.')} is not assigned: released at \\S+, cooling down until \\S+\nPrevious Handle ID: h1\n$`,
      ),
    );
    // The cooling address is not free: the pool counts it in use.
    const table = await ipamShow(ds, {});
    assert.match(
      table.stdout,
      /\| IP Pool\s+\| 10\.0\.0\.0\/24 \|\s+256 \|\s+1 \(0%\) \|\s+2 \(1%\) \| 253 \(99%\) \|/,
    );
  });

  test('split needs a locked datastore and replaces the pool by equal parts', async () => {
    assert.equal(
      (await ipamSplit(ds, '2', { name: 'pool1' })).stderr,
      'datastore is not locked. Run the `calicoctl datastore migrate lock` command in order split the IP pools\n',
    );
    assert.equal(
      (await ipamSplit(ds, 'two', { name: 'pool1' })).stderr,
      'error reading number to split IP pools into. two is not a valid number: strconv.Atoi: parsing "two": invalid syntax\n',
    );
    assert.equal(
      (await ipamSplit(ds, '2', {})).stderr,
      'no name or CIDR provided. Provide a name or CIDR to denote the IP pool to split\n',
    );
    await ds.put(
      resourceKey('ClusterInformation', 'default'),
      JSON.stringify({ kind: 'ClusterInformation', metadata: { name: 'default' }, spec: { datastoreReady: false } }),
    );
    assert.equal(
      (await ipamSplit(ds, '3', { name: 'pool1' })).stderr,
      'error splitting the CIDR 10.0.0.0/24 into 3 CIDRs: number to split CIDR into is not a valid power of 2: 3\n',
    );
    assert.equal(
      (await ipamSplit(ds, '2', { cidr: '10.9.0.0/24' })).stderr,
      'unable to find IP pool  covering the specified CIDR 10.9.0.0/24\n',
    );
    // Nothing was written by the refusals.
    assert.equal(JSON.parse((await ds.get(resourceKey('IPPool', 'pool1')))!.value).spec.disabled, undefined);
    await putPool(ds, 'pool1', '10.0.0.0/24', { disabled: true, natOutgoing: true });
    const kv = (await ds.get(resourceKey('IPPool', 'pool1')))!;
    const labelled = JSON.parse(kv.value);
    labelled.metadata.labels = { team: 'a' };
    await ds.put(kv.key, JSON.stringify(labelled));
    const out = await ipamSplit(ds, '2', { cidr: '10.0.0.0/24' });
    assert.equal(
      out.stdout,
      'IP Pool pool1 was successfully split into 2 smaller pools.\n' +
        'Created split-pool1-0 with CIDR 10.0.0.0/25.\nCreated split-pool1-1 with CIDR 10.0.0.128/25.\n' +
        'Please refer to the documentation for final steps.\n',
    );
    assert.equal(await ds.get(resourceKey('IPPool', 'pool1')), undefined);
    const part = JSON.parse((await ds.get(resourceKey('IPPool', 'split-pool1-1')))!.value);
    assert.deepEqual(part.metadata.labels, { team: 'a' });
    assert.deepEqual([part.spec.cidr, part.spec.disabled, part.spec.natOutgoing], ['10.0.0.128/25', false, true]);
    assert.equal(typeof part.metadata.uid, 'string');
  });
});
