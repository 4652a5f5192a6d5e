// Incremental behaviour of the graph: IP sets live exactly while an active rule uses them, members follow labels,
// addresses, namespace labels and network sets; policies activate and deactivate with their local endpoints;
// tier and order changes reorder endpoints. Each step checks the snapshot and what flush() reports.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector } from '../../selector/index.js';
import { CalcGraph } from './graph.js';
import { del, gnp, netset, node, np, nsProfile, put, tier, view, wep, NODE } from './testing/fixtures.js';

const setId = (sel: string): string => parseSelector(sel).uniqueId();
const members = (g: CalcGraph, sel: string): string[] | undefined => {
  const s = g.snapshot().ipSets.get(setId(sel));
  return s && [...s.v4Members, ...s.v6Members];
};

function fresh(): CalcGraph {
  const g = new CalcGraph({ nodeName: NODE });
  g.onUpdates([
    put(nsProfile('ns1', { team: 'a' })),
    put(nsProfile('ns2', { team: 'b' })),
    put(wep('a', { labels: { app: 'web' }, ips: ['10.0.0.1/32'] })),
    put(wep('r1', { ns: 'ns2', node: 'node2', labels: { role: 'client' }, ips: ['10.0.1.1/32'] })),
  ]);
  g.flush();
  return g;
}

const fromClients = (name: string, extra: Record<string, unknown> = {}) =>
  gnp(name, {
    selector: "app == 'web'",
    ingress: [{ action: 'Allow', source: { selector: "role == 'client'" } }],
    ...extra,
  });

describe('IP sets are reference-counted', () => {
  test('two policies share one set; it goes with the last user', () => {
    const g = fresh();
    const client = 'role == "client"';
    g.onUpdates([put(fromClients('p1')), put(fromClients('p2'))]);
    assert.deepEqual(members(g, client), ['10.0.1.1/32']);
    let f = g.flush();
    assert.deepEqual(
      f.ipSets.updated.filter((id) => id.startsWith('s:')),
      [setId(client)],
    );
    g.onUpdate(del(fromClients('p1')));
    assert.deepEqual(members(g, client), ['10.0.1.1/32']);
    f = g.flush();
    assert.deepEqual(f.policies, { updated: [], removed: ['gnp/default/p1'] });
    assert.deepEqual(f.ipSets, { updated: [], removed: [] });
    g.onUpdate(del(fromClients('p2')));
    assert.equal(members(g, client), undefined);
    assert.deepEqual(g.flush().ipSets, { updated: [], removed: [setId(client)] });
  });

  test('AssumeNeededOnEveryNode programs a policy (and its sets) before any local endpoint needs it', () => {
    const g = fresh();
    g.onUpdate(
      put(fromClients('warm', { selector: "app == 'nothing-here'", performanceHints: ['AssumeNeededOnEveryNode'] })),
    );
    assert.ok(g.snapshot().policies.has('gnp/default/warm'));
    assert.deepEqual(members(g, 'role == "client"'), ['10.0.1.1/32']);
    assert.deepEqual(view(g.snapshot()).endpoints['wep/ns1/a']!.in, ['profile kns.ns1'], 'yet it selects no endpoint');
  });

  test('a policy that stops selecting any local endpoint is withdrawn with its sets', () => {
    const g = fresh();
    g.onUpdate(put(fromClients('p1')));
    assert.ok(g.snapshot().policies.has('gnp/default/p1'));
    g.flush();
    g.onUpdate(put(wep('a', { labels: { app: 'other' }, ips: ['10.0.0.1/32'] })));
    const f = g.flush();
    assert.deepEqual(f.policies.removed, ['gnp/default/p1']);
    assert.deepEqual(f.ipSets.removed, [setId('role == "client"')]);
    assert.deepEqual(f.endpoints.updated, ['wep/ns1/a']);
    assert.deepEqual(view(g.snapshot()).endpoints['wep/ns1/a']!.in, ['profile kns.ns1']);
    g.onUpdate(put(wep('a', { labels: { app: 'web' }, ips: ['10.0.0.1/32'] })));
    assert.deepEqual(g.flush().policies.updated, ['gnp/default/p1']);
  });

  test('editing a rule swaps sets without dropping the shared ones', () => {
    const g = fresh();
    g.onUpdate(put(fromClients('p1')));
    g.flush();
    g.onUpdate(
      put(
        gnp('p1', {
          selector: "app == 'web'",
          ingress: [
            { action: 'Allow', source: { selector: "role == 'client'" } },
            { action: 'Deny', source: { selector: "role == 'bad'" } },
          ],
        }),
      ),
    );
    const f = g.flush();
    assert.deepEqual(f.policies.updated, ['gnp/default/p1']);
    assert.deepEqual(f.ipSets, { updated: [setId('role == "bad"')], removed: [] });
    assert.deepEqual(members(g, 'role == "bad"'), []);
  });
});

describe('IP set members follow the cluster', () => {
  test('remote relabel, address change, duplicate addresses, deletion', () => {
    const g = fresh();
    const client = 'role == "client"';
    g.onUpdate(put(fromClients('p1')));
    g.flush();
    g.onUpdate(
      put(wep('r2', { ns: 'ns2', node: 'node3', labels: { role: 'client' }, ips: ['10.0.1.2/32', 'fd00::12/128'] })),
    );
    assert.deepEqual(members(g, client), ['10.0.1.1/32', '10.0.1.2/32', 'fd00::12/128']);
    let f = g.flush();
    assert.deepEqual(f.ipSets.updated, [setId(client)]);
    assert.deepEqual(f.endpoints.updated, [], 'a remote pod changes no local endpoint');
    g.onUpdate(put(wep('r2', { ns: 'ns2', node: 'node3', labels: { role: 'client' }, ips: ['10.0.1.3/32'] })));
    assert.deepEqual(members(g, client), ['10.0.1.1/32', '10.0.1.3/32']);
    g.onUpdate(put(wep('r3', { ns: 'ns2', node: 'node3', labels: { role: 'client' }, ips: ['10.0.1.3/32'] })));
    g.onUpdate(del(wep('r2', { ns: 'ns2' })));
    assert.deepEqual(members(g, client), ['10.0.1.1/32', '10.0.1.3/32'], 'r3 still holds 10.0.1.3');
    g.flush();
    g.onUpdate(put(wep('r1', { ns: 'ns2', node: 'node2', labels: { role: 'server' }, ips: ['10.0.1.1/32'] })));
    assert.deepEqual(members(g, client), ['10.0.1.3/32']);
    f = g.flush();
    assert.deepEqual(f.ipSets.updated, [setId(client)]);
  });

  test('namespace labels (profile labelsToApply) drive namespaceSelector sets', () => {
    const g = fresh();
    g.onUpdate(
      put(
        gnp('p', {
          selector: "app == 'web'",
          ingress: [{ action: 'Allow', source: { namespaceSelector: "team == 'b'" } }],
        }),
      ),
    );
    const sel = 'pcns.team == "b"';
    assert.deepEqual(members(g, sel), ['10.0.1.1/32']);
    g.onUpdate(put(nsProfile('ns2', { team: 'c' })));
    assert.deepEqual(members(g, sel), []);
    g.onUpdate(put(nsProfile('ns1', { team: 'b' })));
    assert.deepEqual(members(g, sel), ['10.0.0.1/32']);
    g.onUpdate(del(nsProfile('ns1')));
    assert.deepEqual(members(g, sel), []);
  });

  test('network set nets are members, in their namespace only', () => {
    const g = fresh();
    g.onUpdate(
      put(
        np('p', 'ns1', {
          selector: "app == 'web'",
          egress: [{ action: 'Allow', destination: { selector: "k == 'v'" } }],
        }),
      ),
    );
    const sel = '(projectcalico.org/namespace == "ns1" && k == "v")';
    g.onUpdates([
      put(netset('a', 'ns1', ['192.168.1.0/24'], { k: 'v' })),
      put(netset('b', 'ns2', ['192.168.2.0/24'], { k: 'v' })),
    ]);
    assert.deepEqual(members(g, sel), ['192.168.1.0/24']);
    g.onUpdate(put(netset('a', 'ns1', ['192.168.1.0/24', '192.168.3.0/24', 'fd00:1::/64'], { k: 'v' })));
    assert.deepEqual(members(g, sel), ['192.168.1.0/24', '192.168.3.0/24', 'fd00:1::/64']);
    g.onUpdate(del(netset('a', 'ns1', [], {})));
    assert.deepEqual(members(g, sel), []);
  });

  test('named-port sets hold address,protocol:port of endpoints declaring the port', () => {
    const g = fresh();
    g.onUpdate(
      put(
        gnp('p', {
          selector: "app == 'web'",
          ingress: [
            { action: 'Allow', protocol: 'UDP', destination: { selector: "role == 'client'", ports: ['dns'] } },
          ],
        }),
      ),
    );
    const id = [...g.snapshot().ipSets.values()].find((s) => s.namedPort)!;
    assert.deepEqual(id.namedPort, { name: 'dns', protocol: 'udp' });
    assert.deepEqual(id.v4Members, []);
    g.onUpdate(
      put(
        wep('r1', {
          ns: 'ns2',
          node: 'node2',
          labels: { role: 'client' },
          ips: ['10.0.1.1/32'],
          ports: [
            { name: 'dns', protocol: 'UDP', port: 53 },
            { name: 'dns', protocol: 'TCP', port: 53 },
          ],
        }),
      ),
    );
    assert.deepEqual(g.snapshot().ipSets.get(id.id)!.v4Members, ['10.0.1.1,udp:53']);
  });
});

describe('ordering follows tiers and orders as they change', () => {
  test('tier order and default action changes re-resolve endpoints', () => {
    const g = fresh();
    g.onUpdates([
      put(tier('t1', { order: 1 })),
      put(tier('t2', { order: 2 })),
      put(gnp('t1.p', { tier: 't1', selector: 'all()' })),
      put(gnp('t2.p', { tier: 't2', selector: 'all()' })),
    ]);
    assert.deepEqual(view(g.snapshot()).endpoints['wep/ns1/a']!.in, [
      'tier t1: gnp/t1/t1.p',
      'tier t2: gnp/t2/t2.p',
      'profile kns.ns1',
    ]);
    g.flush();
    g.onUpdate(put(tier('t1', { order: 3, defaultAction: 'Pass' })));
    assert.deepEqual(view(g.snapshot()).endpoints['wep/ns1/a']!.in, [
      'tier t2: gnp/t2/t2.p',
      'tier t1 (pass): gnp/t1/t1.p',
      'profile kns.ns1',
    ]);
    assert.deepEqual(g.flush().endpoints.updated, ['wep/ns1/a']);
    g.onUpdate(del(tier('t1', {})));
    assert.deepEqual(
      view(g.snapshot()).endpoints['wep/ns1/a']!.in,
      ['tier t2: gnp/t2/t2.p', 'tier t1: gnp/t1/t1.p', 'profile kns.ns1'],
      'a tier without a resource sorts last and drops',
    );
  });

  test('moving a policy to another tier replaces its id', () => {
    const g = fresh();
    g.onUpdate(put(gnp('p', { selector: 'all()' })));
    g.flush();
    g.onUpdate(put(gnp('p', { tier: 'sec', selector: 'all()' })));
    const f = g.flush();
    assert.deepEqual(f.policies, { updated: ['gnp/sec/p'], removed: ['gnp/default/p'] });
    assert.deepEqual(view(g.snapshot()).endpoints['wep/ns1/a']!.in, ['tier sec: gnp/sec/p', 'profile kns.ns1']);
  });

  test('order changes reorder within the tier', () => {
    const g = fresh();
    g.onUpdates([put(gnp('x', { order: 1, selector: 'all()' })), put(gnp('y', { order: 2, selector: 'all()' }))]);
    assert.deepEqual(view(g.snapshot()).endpoints['wep/ns1/a']!.in, [
      'tier default: gnp/default/x gnp/default/y',
      'profile kns.ns1',
    ]);
    g.onUpdate(put(gnp('x', { order: 3, selector: 'all()' })));
    assert.deepEqual(view(g.snapshot()).endpoints['wep/ns1/a']!.in, [
      'tier default: gnp/default/y gnp/default/x',
      'profile kns.ns1',
    ]);
    g.onUpdate(put(gnp('y', { selector: 'all()' })));
    assert.deepEqual(
      view(g.snapshot()).endpoints['wep/ns1/a']!.in,
      ['tier default: gnp/default/x gnp/default/y', 'profile kns.ns1'],
      'no order sorts last',
    );
  });
});

describe('endpoints and hosts', () => {
  test('an endpoint moving to another node leaves the local dataplane but stays in IP sets', () => {
    const g = fresh();
    g.onUpdate(
      put(gnp('p', { selector: 'all()', ingress: [{ action: 'Allow', source: { selector: "app == 'web'" } }] })),
    );
    g.flush();
    g.onUpdate(put(wep('a', { node: 'node9', labels: { app: 'web' }, ips: ['10.0.0.1/32'] })));
    const f = g.flush();
    assert.deepEqual(f.endpoints.removed, ['wep/ns1/a']);
    assert.deepEqual(f.policies.removed, ['gnp/default/p']);
    assert.equal(g.snapshot().endpoints.size, 0);
  });

  test('a local workload without an interface name is reported, not programmed', () => {
    const g = fresh();
    g.onUpdate(put(wep('x', { iface: '', ips: ['10.0.0.9/32'] })));
    assert.equal(g.snapshot().endpoints.has('wep/ns1/x'), false);
    assert.deepEqual(view(g.snapshot()).problems, [
      'WorkloadEndpoint ns1/x: spec.interfaceName: is required for an endpoint on this node',
    ]);
  });

  test('node addresses feed hostIps, this-host and all-hosts-net', () => {
    const g = fresh();
    g.onUpdates([put(node(NODE, '192.0.2.1/24')), put(node('node2', '192.0.2.2/24'))]);
    const s = g.snapshot();
    assert.deepEqual(s.hostIps, { v4: ['192.0.2.1'], v6: [] });
    assert.deepEqual(s.ipSets.get('all-hosts-net')!.v4Members, ['192.0.2.1/32', '192.0.2.2/32']);
    assert.equal(g.flush().hostIpsChanged, true);
    g.onUpdate(del(node('node2', '')));
    assert.deepEqual(g.snapshot().ipSets.get('all-hosts-net')!.v4Members, ['192.0.2.1/32']);
    const f = g.flush();
    assert.equal(f.hostIpsChanged, false);
    assert.deepEqual(f.ipSets.updated, ['all-hosts-net']);
  });
});

describe('malformed input never throws out of the graph', () => {
  test('bad shapes are reported per resource and treated as absent; fixing them programs them', () => {
    const g = fresh();
    const badWep = wep('n', { labels: { app: 'web' }, ips: ['10.0.0.7/32'] });
    (badWep.metadata.labels as any).count = 3;
    g.onUpdates([
      put(badWep),
      put(gnp('shape', { selector: 'all()', ingress: 'allow everything' })),
      put(gnp('weird', { selector: 'all()', ingress: [{ action: 'Allow', source: 'nowhere' }] })),
      { type: 'put', resource: { kind: 'HostEndpoint', metadata: { name: 'h' }, spec: { node: NODE } } },
    ]);
    assert.doesNotThrow(() => g.onUpdate({ type: 'put', resource: { kind: 'Profile' } as any }));
    assert.equal(g.snapshot().problems.at(0)?.resource, '(unnamed resource)');
    g.onUpdate({ type: 'delete', kind: 'Profile', name: 'never-seen' });
    assert.deepEqual(view(g.snapshot()).problems, [
      '(unnamed resource): kind and metadata.name are required; update ignored',
      'GlobalNetworkPolicy shape: spec.ingress: must be a list of rules',
      'GlobalNetworkPolicy weird: spec.ingress[0].source: must be an object (nets, selector, ports, ...)',
      'HostEndpoint h: spec.interfaceName: either interfaceName or expectedIPs is required',
      'WorkloadEndpoint ns1/n: metadata.labels.count: must be a string, not 3',
    ]);
    assert.deepEqual([...g.snapshot().policies.keys()], []);
    assert.equal(g.snapshot().endpoints.has('wep/ns1/n'), false);
    g.onUpdate(put(wep('n', { labels: { app: 'web' }, ips: ['10.0.0.7/32'] })));
    g.onUpdate(put(gnp('shape', { selector: 'all()', ingress: [] })));
    assert.deepEqual(view(g.snapshot()).problems, [
      '(unnamed resource): kind and metadata.name are required; update ignored',
      'GlobalNetworkPolicy weird: spec.ingress[0].source: must be an object (nets, selector, ports, ...)',
      'HostEndpoint h: spec.interfaceName: either interfaceName or expectedIPs is required',
    ]);
    assert.deepEqual([...g.snapshot().policies.keys()], ['gnp/default/shape']);
    assert.equal(g.snapshot().endpoints.has('wep/ns1/n'), true);
  });
});
