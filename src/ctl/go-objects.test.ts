import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/resource.js';
import { goFieldName } from './go-objects.js';
import { parseOutputFormat, renderGet, type GetResult } from './output.js';

const pool = (name: string, cidr: string, extra: Record<string, unknown> = {}): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: {
    name,
    resourceVersion: '7',
    uid: 'f5b8c3a4-0000-4000-8000-000000000001',
    creationTimestamp: '2026-01-02T03:04:05Z',
    labels: { zone: 'a' },
  },
  spec: { cidr, blockSize: 26, ipipMode: 'Never', natOutgoing: true, ...extra },
});
const pools: GetResult[] = [
  {
    type: 'list',
    kind: 'IPPool',
    items: [pool('p1', '10.0.0.0/16'), pool('p2', '10.1.0.0/16', { disabled: true })],
    revision: 9,
  },
];
const ctx = { globalAsNumber: '64512' };
const render = (template: string, results: GetResult[] = pools, exported = false): string =>
  renderGet(results, parseOutputFormat(`go-template=${template}`), ctx, { printNamespace: false, exported });

describe('calicoctl -o go-template', () => {
  test('Go field names from JSON names, initialisms included', () => {
    const cases: Record<string, string> = {
      cidr: 'CIDR',
      ipipMode: 'IPIPMode',
      vxlanMode: 'VXLANMode',
      natOutgoing: 'NATOutgoing',
      disableBGPExport: 'DisableBGPExport',
      ipv4Address: 'IPv4Address',
      ipv4VXLANTunnelAddr: 'IPv4VXLANTunnelAddr',
      asNumber: 'ASNumber',
      peerIP: 'PeerIP',
      ipNetworks: 'IPNetworks',
      ipNATs: 'IPNATs',
      containerID: 'ContainerID',
      mac: 'MAC',
      clusterGUID: 'ClusterGUID',
      uid: 'UID',
      apiVersion: 'APIVersion',
      defaultAction: 'DefaultAction',
      reservedCIDRs: 'ReservedCIDRs',
      bgp: 'BGP',
      icmp: 'ICMP',
      notICMP: 'NotICMP',
    };
    for (const [json, go] of Object.entries(cases)) assert.equal(goFieldName(json), go, json);
  });

  test('a list is one *<Kind>List with .Items; fields read by Go name; unset fields are zero values', () => {
    assert.equal(
      render(
        '{{range .}}{{.Kind}} rv={{.ResourceVersion}} n={{len .Items}}{{"\\n"}}{{range .Items}}{{.ObjectMeta.Name}} {{.Spec.CIDR}} {{.Spec.IPIPMode}} [{{.Spec.VXLANMode}}] {{.Spec.NATOutgoing}} {{.Spec.Disabled}} {{.Spec.AllowedUses}}{{"\\n"}}{{end}}{{end}}',
      ),
      'IPPoolList rv=9 n=2\np1 10.0.0.0/16 Never [] true false []\np2 10.1.0.0/16 Never [] true true []\n',
    );
  });

  test('metadata: promoted ObjectMeta fields, labels map, Go time format', () => {
    assert.equal(
      render(
        '{{range .}}{{range .Items}}{{.Name}} {{.Labels.zone}} {{index .Labels "zone"}} {{.CreationTimestamp}} {{.ResourceVersion}}|{{end}}{{end}}',
      ),
      'p1 a a 2026-01-02 03:04:05 +0000 UTC 7|p2 a a 2026-01-02 03:04:05 +0000 UTC 7|',
    );
  });

  test('named gets give the objects themselves; --export strips metadata as for yaml', () => {
    const one: GetResult[] = [{ type: 'resource', kind: 'IPPool', resource: pool('p1', '10.0.0.0/16') }];
    assert.equal(
      render('{{range .}}{{.Name}} {{.Spec.BlockSize}} uid={{.UID}}{{end}}', one),
      'p1 26 uid=f5b8c3a4-0000-4000-8000-000000000001',
    );
    assert.equal(render('{{range .}}{{.Name}} uid={{.UID}} rv={{.ResourceVersion}}{{end}}', one, true), 'p1 uid= rv=');
  });

  test('floats print as Go prints float64; nested structs; a field the kind lacks is an error naming its Go type', () => {
    const tiers: GetResult[] = [
      {
        type: 'list',
        kind: 'Tier',
        revision: 3,
        items: [
          {
            apiVersion: 'projectcalico.org/v3',
            kind: 'Tier',
            metadata: { name: 'default' },
            spec: { order: 1_000_000, defaultAction: 'Deny' },
          },
          { apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 'x' }, spec: {} },
        ],
      },
    ];
    assert.equal(
      render('{{range .}}{{range .Items}}{{.Name}}={{.Spec.Order}} {{end}}{{end}}', tiers),
      'default=1e+06 x=<nil> ',
    );
    const nodes: GetResult[] = [
      {
        type: 'list',
        kind: 'Node',
        revision: 3,
        items: [
          {
            apiVersion: 'projectcalico.org/v3',
            kind: 'Node',
            metadata: { name: 'n1' },
            spec: { bgp: { ipv4Address: '10.0.0.1/24' } },
          },
          { apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n2' }, spec: {} },
        ],
      },
    ];
    assert.equal(
      render(
        '{{range .}}{{range .Items}}{{.Name}}:{{if .Spec.BGP}}{{.Spec.BGP.IPv4Address}}{{else}}no-bgp{{end}} {{end}}{{end}}',
        nodes,
      ),
      'n1:10.0.0.1/24 n2:no-bgp ',
    );
    assert.throws(
      () => render('{{range .}}{{range .Items}}{{.Spec.Cidr}}{{end}}{{end}}'),
      /^Error: template: get:1:30: executing "get" at <\.Spec\.Cidr>: can't evaluate field Cidr in type v3\.IPPoolSpec$/,
    );
  });

  test("kubectl's habit {{range .Items}} on the results slice fails as calicoctl's does", () => {
    assert.throws(
      () => render('{{range .Items}}{{.Name}}{{end}}'),
      /^Error: template: get:1:9: executing "get" at <\.Items>: can't evaluate field Items in type \[\]runtime\.Object$/,
    );
  });

  test('-o parsing: go-template= and go-template-file= need a value, as calicoctl says', () => {
    assert.deepEqual(parseOutputFormat('go-template={{.}}={{"x"}}'), {
      type: 'go-template',
      template: '{{.}}={{"x"}}',
    });
    assert.deepEqual(parseOutputFormat('go-template-file=/tmp/t.tmpl'), {
      type: 'go-template-file',
      file: '/tmp/t.tmpl',
    });
    assert.throws(() => parseOutputFormat('go-template='), /^Error: need to specify a template$/);
    assert.throws(() => parseOutputFormat('go-template-file='), /^Error: need to specify a template file$/);
  });
});
