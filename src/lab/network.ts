// Builds and removes the lab's network: an underlay namespace holding a bridge, and one namespace per node joined
// to it by a veth. Nothing is ever linked to the root namespace; every command names its namespace.
import { run, runStatus } from '../common/exec.js';
import type { LabLayout, LabNode } from './layout.js';

const ip = (args: string[]) => run('ip', args);
const inNetns = (netns: string, program: string, args: string[]) =>
  run('ip', ['netns', 'exec', netns, program, ...args]);

export async function netnsExists(name: string): Promise<boolean> {
  const out = await run('ip', ['netns', 'list']);
  return out.split('\n').some((line) => line.split(' ')[0] === name);
}

export async function listNetns(prefix: string): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}

async function addNetns(name: string): Promise<void> {
  if (await netnsExists(name)) return;
  await ip(['netns', 'add', name]);
  await ip(['-n', name, 'link', 'set', 'lo', 'up']);
}

export async function createUnderlay(layout: LabLayout): Promise<void> {
  const ns = layout.underlayNetns;
  await addNetns(ns);
  const hasBridge = (await runStatus('ip', ['-n', ns, 'link', 'show', layout.bridge])).code === 0;
  if (!hasBridge) {
    await ip(['-n', ns, 'link', 'add', layout.bridge, 'type', 'bridge']);
    await ip(['-n', ns, 'link', 'set', layout.bridge, 'up']);
  }
  for (const addr of [...layout.underlayAddresses, ...layout.underlayAddresses6]) {
    await ip(['-n', ns, 'addr', 'replace', addr, 'dev', layout.bridge]);
  }
  // The underlay routes between subnets (cross-subnet mode) and is the NAT-outgoing test's "outside world".
  await inNetns(ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  if (layout.underlayAddresses6.length) await inNetns(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
}

export async function createNode(layout: LabLayout, node: LabNode): Promise<void> {
  await addNetns(node.netns);
  const ns = node.netns;
  const hasEth0 = (await runStatus('ip', ['-n', ns, 'link', 'show', 'eth0'])).code === 0;
  if (!hasEth0) {
    await ip([
      '-n',
      ns,
      'link',
      'add',
      'eth0',
      'type',
      'veth',
      'peer',
      'name',
      node.underlayPort,
      'netns',
      layout.underlayNetns,
    ]);
  }
  await ip(['-n', layout.underlayNetns, 'link', 'set', node.underlayPort, 'master', layout.bridge, 'up']);
  await ip(['-n', ns, 'addr', 'replace', `${node.ipv4}/${node.prefixLength}`, 'dev', 'eth0']);
  await ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
  await ip(['-n', ns, 'route', 'replace', 'default', 'via', node.gateway4, 'dev', 'eth0']);
  await inNetns(ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  if (node.ipv6 && node.gateway6) {
    await inNetns(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1', 'net.ipv6.conf.eth0.accept_dad=0']);
    await ip(['-n', ns, 'addr', 'replace', `${node.ipv6}/64`, 'dev', 'eth0', 'nodad']);
    await ip(['-n', ns, '-6', 'route', 'replace', 'default', 'via', node.gateway6, 'dev', 'eth0']);
  }
}

/** Deletes a namespace after killing every process still inside it (a namespace with processes lives on). */
export async function deleteNetns(name: string): Promise<void> {
  const pids = await runStatus('ip', ['netns', 'pids', name]);
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await runStatus('ip', ['netns', 'del', name]);
}
