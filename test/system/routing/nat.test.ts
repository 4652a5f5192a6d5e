// NAT-outgoing: pods of a natOutgoing pool reach a server outside every pool with the node's address as source,
// traffic between pods keeps pod addresses, and without natOutgoing the server sees the pod's own address.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { RoutingWorld, ipn, nsExec, shOk, waitFor } from '../../support/routing-world.js';

const PORT = '18080';

function startEchoServer(ns: string): ChildProcess {
  return spawn(
    'ip',
    ['netns', 'exec', ns, 'socat', `TCP-LISTEN:${PORT},fork,reuseaddr`, 'SYSTEM:echo $SOCAT_PEERADDR'],
    { stdio: 'ignore' },
  );
}

/** The source address the server saw for a connection from fromNs. */
function sourceSeen(fromNs: string, serverIp: string): string {
  return nsExec(fromNs, 'socat', '-T', '2', '-', `TCP:${serverIp}:${PORT},connect-timeout=2`).trim();
}

describe('NAT-outgoing', () => {
  const w = new RoutingWorld({ tag: 'nat', nodes: 2 });
  const servers: ChildProcess[] = [];

  before(async () => {
    await w.build();
    await w.putNode(w.nodes[0], { vtep: '10.65.1.1' });
    await w.putNode(w.nodes[1], { vtep: '10.65.2.1' });
    await w.putResource('IPPool', 'default-ipv4-ippool', {
      cidr: '10.65.0.0/16',
      vxlanMode: 'Always',
      natOutgoing: true,
    });
    await w.putBlock('10.65.1.0/26', 'node1', { '10.65.1.1': 'node1', '10.65.1.2': 'node1' });
    await w.putBlock('10.65.2.0/26', 'node2', { '10.65.2.1': 'node2', '10.65.2.2': 'node2' });
    await w.addPod(w.nodes[0], '10.65.1.2');
    await w.addPod(w.nodes[1], '10.65.2.2');
    // The underlay routes the pool back to node1, so un-masqueraded replies can return.
    ipn(w.ul, 'route', 'add', '10.65.1.0/26', 'via', w.nodes[0].ip);
    servers.push(startEchoServer(w.ul), startEchoServer(w.pods[1].ns));
    await w.startControllers('vxlan');
    await w.settle();
    await waitFor(
      'echo servers',
      () => shOk('ip', ['netns', 'exec', w.ul, 'ss', '-ltn']).out.includes(`:${PORT}`),
      5000,
    );
  });
  after(async () => {
    for (const s of servers) if (s.pid) shOk('kill', ['-9', String(s.pid)]);
    await w.teardown();
  });

  test('natOutgoing: the underlay server sees the node address; pod-to-pod keeps the pod address', () => {
    assert.equal(sourceSeen(w.pods[0].ns, '172.31.1.1'), w.nodes[0].ip);
    assert.equal(sourceSeen(w.pods[0].ns, w.pods[1].ip), w.pods[0].ip);
    const ruleset = nsExec(w.nodes[0].ns, 'nft', 'list', 'table', 'ip', 'calico');
    assert.match(ruleset, /ip saddr @masq-ipam-pools ip daddr != @all-ipam-pools masquerade/);
  });

  test('natOutgoing off: the server sees the pod address', async () => {
    await w.putResource('IPPool', 'default-ipv4-ippool', {
      cidr: '10.65.0.0/16',
      vxlanMode: 'Always',
      natOutgoing: false,
    });
    await w.settle();
    assert.equal(sourceSeen(w.pods[0].ns, '172.31.1.1'), w.pods[0].ip);
  });

  test('host traffic into the tunnel from a non-tunnel source takes the VXLAN tunnel address', () => {
    const seen = nsExec(
      w.nodes[0].ns,
      'socat',
      '-T',
      '2',
      '-',
      `TCP:${w.pods[1].ip}:${PORT},bind=${w.nodes[0].ip},connect-timeout=2`,
    );
    assert.equal(seen.trim(), '10.65.1.1');
  });
});
