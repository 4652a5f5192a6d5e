// Table output: Go tabwriter alignment (min width 5, padding 3; last column unpadded) and each kind's columns and
// cell rules from the reference (resources.md §4.3).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/resource.js';
import { tabwrite } from './tabwriter.js';
import { columnsFor, goFloat, joinAndTruncate, tableRows } from './columns.js';
import { renderGet } from './output.js';

const ctx = { globalAsNumber: '64512' };
const res = (kind: string, name: string, spec: Record<string, unknown>, namespace?: string): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
  spec,
});
/** Lines without the padding after the last column (checked once, exactly, below). */
const trimLines = (text: string): string => text.replace(/ +$/gm, '');
/** A listed kind as a table, without the empty line calicoctl prints after each table. */
const table = (kind: string, items: Resource[], type: 'ps' | 'wide', ns = false): string =>
  trimLines(
    renderGet([{ type: 'list', kind, items, revision: 1 }], { type }, ctx, { printNamespace: ns, exported: false }),
  ).replace(/\n\n$/, '\n');

describe('tabwriter', () => {
  test('pads every column but the last to widest cell + 3, at least 5', () => {
    assert.equal(
      tabwrite([
        ['A', 'BB', 'C'],
        ['xxxxxx', 'y', 'zzzzzzzzz'],
      ]),
      'A        BB   C\nxxxxxx   y    zzzzzzzzz\n',
    );
  });
  test('empty cells still take the column width; the last cell is never padded', () => {
    assert.equal(
      tabwrite([
        ['NAME', 'X'],
        ['', ''],
      ]),
      'NAME   X\n       \n',
    );
  });
});

describe('cell formats', () => {
  test("goFloat prints as Go's %v does", () => {
    assert.equal(goFloat(100), '100');
    assert.equal(goFloat(1000000), '1e+06');
    assert.equal(goFloat(123456), '123456');
    assert.equal(goFloat(1.5), '1.5');
    assert.equal(goFloat(0.00001), '1e-05');
  });
  test('joinAndTruncate cuts to 80 with an ellipsis', () => {
    const nets = Array.from({ length: 10 }, (_, i) => `10.${i}.0.0/16`);
    const s = joinAndTruncate(nets, 80);
    assert.equal(s.length, 80);
    assert.ok(s.endsWith('...'));
    assert.equal(joinAndTruncate(['1.2.3.0/24', '5.6.0.0/16'], 80), '1.2.3.0/24,5.6.0.0/16');
  });
});

describe('kind tables', () => {
  test('IPPool wide: the reference example, unset modes print Never, bools print true/false', () => {
    const pool = res('IPPool', 'default-ipv4-ippool', {
      cidr: '192.168.0.0/16',
      natOutgoing: true,
      ipipMode: 'Always',
      nodeSelector: 'all()',
      assignmentMode: 'Automatic',
    });
    assert.equal(
      table('IPPool', [pool], 'wide'),
      'NAME                  CIDR             NAT    IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR   ASSIGNMENTMODE\n' +
        'default-ipv4-ippool   192.168.0.0/16   true   Always     Never       false      false              all()      Automatic\n',
    );
    assert.equal(
      table('IPPool', [pool], 'ps'),
      'NAME                  CIDR             SELECTOR\ndefault-ipv4-ippool   192.168.0.0/16   all()\n',
    );
  });

  test('Node: inherited AS in parentheses, own AS plain, no bgp: empty', () => {
    const out = table(
      'Node',
      [
        res('Node', 'n1', { bgp: { ipv4Address: '10.0.0.1/24' } }),
        res('Node', 'n2', { bgp: { asNumber: 65001, ipv4Address: '10.0.0.2/24', ipv6Address: 'fd00::2/64' } }),
        res('Node', 'n3', {}),
      ],
      'wide',
    );
    assert.equal(
      out,
      'NAME   ASN       IPV4          IPV6\n' +
        'n1     (64512)   10.0.0.1/24\n' +
        'n2     65001     10.0.0.2/24   fd00::2/64\n' +
        'n3\n',
    );
    assert.equal(table('Node', [res('Node', 'n1', {})], 'ps'), 'NAME\nn1\n');
  });

  test('BGPPeer NODE: node, else nodeSelector, else (global)', () => {
    const rows = tableRows(
      'BGPPeer',
      columnsFor('BGPPeer', { type: 'ps' }, false),
      [
        res('BGPPeer', 'a', { peerIP: '10.0.0.9', node: 'n1', asNumber: 65000 }),
        res('BGPPeer', 'b', { peerIP: '10.0.0.8', nodeSelector: 'rack == "a"', asNumber: 65000 }),
        res('BGPPeer', 'c', { peerIP: '10.0.0.7', asNumber: 64999 }),
      ],
      ctx,
    );
    assert.deepEqual(
      rows.map((r) => r[2]),
      ['NODE', 'n1', 'rack == "a"', '(global)'],
    );
  });

  test('BGPConfiguration prints - for unset fields', () => {
    assert.deepEqual(
      tableRows(
        'BGPConfiguration',
        columnsFor('BGPConfiguration', { type: 'ps' }, false),
        [res('BGPConfiguration', 'default', {})],
        ctx,
      )[1],
      ['default', '-', '-', '-'],
    );
  });

  test('NetworkPolicy with -A gets NAMESPACE first; wide adds ORDER and SELECTOR', () => {
    const np = res('NetworkPolicy', 'allow-dns', { tier: 'default', order: 100, selector: 'app == "web"' }, 'prod');
    assert.equal(
      table('NetworkPolicy', [np], 'ps', true),
      'NAMESPACE   NAME        TIER\nprod        allow-dns   default\n',
    );
    assert.equal(
      table('NetworkPolicy', [np], 'wide'),
      'NAME        TIER      ORDER   SELECTOR\nallow-dns   default   100     app == "web"\n',
    );
  });

  test('WorkloadEndpoint shows the pod (or workload); lists comma-joined without spaces', () => {
    const wep = res(
      'WorkloadEndpoint',
      'n1-k8s-web-eth0',
      {
        pod: 'web',
        node: 'n1',
        ipNetworks: ['10.1.0.5/32', 'fd00::5/128'],
        interfaceName: 'cali1234',
        profiles: ['kns.default', 'ksa.default.default'],
      },
      'default',
    );
    const rows = tableRows('WorkloadEndpoint', columnsFor('WorkloadEndpoint', { type: 'wide' }, false), [wep], ctx);
    assert.deepEqual(rows[0], ['NAME', 'WORKLOAD', 'NODE', 'NETWORKS', 'INTERFACE', 'PROFILES', 'NATS']);
    assert.deepEqual(rows[1], [
      'n1-k8s-web-eth0',
      'web',
      'n1',
      '10.1.0.5/32,fd00::5/128',
      'cali1234',
      'kns.default,ksa.default.default',
      '',
    ]);
  });

  test('unset order prints <nil>; NATS print as Go structs', () => {
    assert.equal(
      table('GlobalNetworkPolicy', [res('GlobalNetworkPolicy', 'p', { tier: 'default', selector: 'all()' })], 'wide'),
      'NAME   TIER      ORDER   SELECTOR\np      default   <nil>   all()\n',
    );
    const wep = res(
      'WorkloadEndpoint',
      'w',
      { pod: 'p', ipNATs: [{ internalIP: '10.1.0.5', externalIP: '172.16.0.5' }] },
      'd',
    );
    const rows = tableRows(
      'WorkloadEndpoint',
      columnsFor('WorkloadEndpoint', { type: 'custom', columns: ['NATS'] }, false),
      [wep],
      ctx,
    );
    assert.deepEqual(rows[1], ['{10.1.0.5 172.16.0.5}']);
  });

  test('Tier order in Go float form; IPAMConfiguration, ClusterInformation, HostEndpoint, Profile, sets', () => {
    assert.equal(
      table('Tier', [res('Tier', 'default', { order: 1000000 })], 'ps'),
      'NAME      ORDER\ndefault   1e+06\n',
    );
    assert.deepEqual(
      tableRows(
        'IPAMConfiguration',
        columnsFor('IPAMConfiguration', { type: 'ps' }, false),
        [res('IPAMConfiguration', 'default', { strictAffinity: false, autoAllocateBlocks: true, maxBlocksPerHost: 0 })],
        ctx,
      )[1],
      ['default', 'false', 'true', '0'],
    );
    assert.deepEqual(
      tableRows(
        'HostEndpoint',
        columnsFor('HostEndpoint', { type: 'wide' }, false),
        [res('HostEndpoint', 'h', { node: 'n1', interfaceName: 'eth0', expectedIPs: ['10.0.0.1', '10.0.0.2'] })],
        ctx,
      )[1],
      ['h', 'n1', 'eth0', '10.0.0.1,10.0.0.2', ''],
    );
    assert.deepEqual(
      tableRows(
        'Profile',
        columnsFor('Profile', { type: 'wide' }, false),
        [res('Profile', 'kns.x', { labelsToApply: { 'pcns.b': '2', 'pcns.a': '1' } })],
        ctx,
      )[1],
      ['kns.x', 'pcns.a=1,pcns.b=2'],
    );
    assert.deepEqual(columnsFor('GlobalNetworkSet', { type: 'wide' }, false), ['NAME', 'NETS']);
    assert.deepEqual(columnsFor('IPReservation', { type: 'wide' }, false), ['NAME', 'CIDRS']);
    assert.deepEqual(columnsFor('ClusterInformation', { type: 'ps' }, false), [
      'NAME',
      'CLUSTERGUID',
      'CLUSTERTYPE',
      'CALICOVERSION',
      'DATASTOREREADY',
    ]);
    assert.deepEqual(columnsFor('FelixConfiguration', { type: 'wide' }, false), ['NAME']);
  });

  test('custom-columns picks known headings (any case) and rejects unknown ones by name', () => {
    const pool = res('IPPool', 'p', { cidr: '10.0.0.0/8', natOutgoing: false });
    assert.equal(
      renderGet(
        [{ type: 'list', kind: 'IPPool', items: [pool], revision: 1 }],
        { type: 'custom', columns: ['name', 'NAT'] },
        ctx,
        {
          printNamespace: false,
          exported: false,
        },
      ),
      'NAME   NAT     \np      false   \n\n',
      'every column, the last one too, is padded (Calico ends every cell with a tab)',
    );
    assert.throws(() => columnsFor('IPPool', { type: 'custom', columns: ['NAME', 'BOGUS'] }, false), /BOGUS/);
  });

  test('an empty list prints only the header', () => {
    assert.equal(table('IPPool', [], 'ps'), 'NAME   CIDR   SELECTOR\n');
  });

  test('each result is its own table followed by an empty line; NAMESPACE only for namespaced kinds', () => {
    const a = res('NetworkSet', 'a', {}, 'x');
    const b = res('NetworkSet', 'b', {}, 'y');
    assert.equal(
      renderGet(
        [
          { type: 'resource', kind: 'NetworkSet', resource: a },
          { type: 'resource', kind: 'NetworkSet', resource: b },
        ],
        { type: 'ps' },
        ctx,
        { printNamespace: true, exported: false },
      ),
      'NAMESPACE   NAME   \nx           a      \n\nNAMESPACE   NAME   \ny           b      \n\n',
    );
    assert.equal(
      renderGet([{ type: 'list', kind: 'IPPool', items: [], revision: 1 }], { type: 'ps' }, ctx, {
        printNamespace: true,
        exported: false,
      }),
      'NAME   CIDR   SELECTOR   \n\n',
    );
  });

  test('yaml/json: one result prints the object (a List for a list), several print a sequence; --export strips', () => {
    const a = {
      ...res('IPPool', 'a', { cidr: '10.0.0.0/8' }),
      metadata: { name: 'a', uid: 'u', resourceVersion: '5', creationTimestamp: 't' },
    };
    const one = renderGet([{ type: 'resource', kind: 'IPPool', resource: a }], { type: 'yaml' }, ctx, {
      printNamespace: false,
      exported: true,
    });
    assert.equal(
      one,
      'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: a\nspec:\n  cidr: 10.0.0.0/8\n',
    );
    const list = JSON.parse(
      renderGet([{ type: 'list', kind: 'IPPool', items: [a], revision: 9 }], { type: 'json' }, ctx, {
        printNamespace: false,
        exported: false,
      }),
    );
    assert.deepEqual(Object.keys(list), ['kind', 'apiVersion', 'metadata', 'items']);
    assert.equal(list.kind, 'IPPoolList');
    assert.equal(list.metadata.resourceVersion, '9');
    const two = JSON.parse(
      renderGet(
        [
          { type: 'resource', kind: 'IPPool', resource: a },
          { type: 'resource', kind: 'IPPool', resource: a },
        ],
        { type: 'json' },
        ctx,
        { printNamespace: false, exported: false },
      ),
    );
    assert.ok(Array.isArray(two) && two.length === 2);
    const stamped = { ...a, metadata: { name: 'a', creationTimestamp: '2026-11-25T15:14:17Z' } };
    assert.match(
      renderGet([{ type: 'resource', kind: 'IPPool', resource: stamped }], { type: 'yaml' }, ctx, {
        printNamespace: false,
        exported: false,
      }),
      /^ {2}creationTimestamp: "2026-11-25T15:14:17Z"$/m,
      'quoted as Go quotes a string that reads as a timestamp',
    );
  });
});
