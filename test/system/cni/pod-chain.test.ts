// The pod-side chain (nsenter -> sh -> ip in the pod's namespace) is started when the ADD arrives, before its
// addresses are known, and fed once they are: whatever becomes of the ADD, it must leave no process behind — not
// after success, not when IPAM fails or a fault is injected (the chain is then never fed), not in the one-shot
// plugin, and not when the agent itself is killed while the chain waits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SqliteDatastore } from '../../../src/datastore/sqlite.js';
import { resourceKey } from '../../../src/datastore/keys.js';
import { putNode, putPool } from '../../support/ipam.js';
import { CniWorld, inNs, startAgent, type CniCall } from './world.js';

let w: CniWorld;
let seq = 0;

before(async () => {
  w = await CniWorld.create('c', 'tu');
  const ds = await SqliteDatastore.open(w.sqlitePath, { timeoutMs: 5000 });
  await putPool(ds, 'tu-v4', '10.161.0.0/16', { blockSize: 26 });
  await putPool(ds, 'tu-v6', 'fd16:1::/64', { blockSize: 122 });
  await putNode(ds, 'tc-node-1');
  await ds.close();
});
after(async () => {
  await w?.destroy();
});

/** PIDs of the processes whose network namespace is the one at netnsPath. */
function processesIn(netnsPath: string): number[] {
  const want = `net:[${statSync(netnsPath).ino}]`;
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) === want) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** The live descendants of pid (children, their children, ...). */
function descendantsOf(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, ppid] of parent) {
      if (ppid !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return !/^\S+ \S+ Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/\(.*\)/, 'x'));
  } catch {
    return false;
  }
};

/** Polls until check() holds (chains end a few milliseconds after their launcher or input does). */
async function eventually(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`${what} (after ${ms} ms)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function endpointOf(id: string): Promise<unknown> {
  const ds = await SqliteDatastore.open(w.sqlitePath, { timeoutMs: 5000 });
  try {
    const kv = await ds.get(resourceKey('WorkloadEndpoint', `tc--node--1-cni-${id}-eth0`, 'default'));
    return kv?.value;
  } finally {
    await ds.close();
  }
}

/** An ADD that must fail: afterwards no process in the pod, no host link or route, no endpoint. */
async function failsCleanly(call: Omit<CniCall, 'command'>, msg: RegExp): Promise<void> {
  const r = await w.run({ ...call, command: 'ADD' });
  assert.equal(r.code, 1, `ADD should fail: ${r.stdout} ${r.stderr}`);
  assert.match(r.json?.msg ?? '', msg);
  await eventually('no process left in the pod namespace', () => processesIn(call.netns!).length === 0);
  assert.deepEqual(w.hostVeths(), [], 'no host link');
  assert.deepEqual(w.hostRoutes(), [], 'no host route');
  assert.equal(await endpointOf(call.containerId!), undefined, 'no endpoint');
}

const dual = () => w.netconf({ ipam: { type: 'calico-ipam', assign_ipv4: 'true', assign_ipv6: 'true' } });

const modes: [string, Record<string, string>][] = [
  ['agent', { CALICO_CNI_HANDOFF: 'required' }],
  ['in-process plugin', {}],
];
for (const [label, env] of modes) {
  describe(`pod-side chain, ${label}`, () => {
    let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
    before(async () => {
      if (label === 'agent') agent = await startAgent(w);
    });
    after(async () => {
      await agent?.stop();
    });

    test('a successful ADD leaves a configured pod and no process in its namespace', async () => {
      const pod = w.addPod();
      const id = `tu${++seq}`;
      const call = { containerId: id, netns: pod.netns, ifName: 'eth0', config: dual(), env };
      try {
        const add = await w.run({ ...call, command: 'ADD' });
        assert.equal(add.code, 0, `ADD: ${add.stdout} ${add.stderr}`);
        const addrs = inNs(pod.name, ['ip', 'addr', 'show', 'dev', 'eth0']);
        for (const ip of add.json.ips as { address: string }[]) assert.ok(addrs.includes(ip.address), addrs);
        assert.match(inNs(pod.name, ['ip', 'neigh', 'show', '169.254.1.1']), /ee:ee:ee:ee:ee:ee PERMANENT/);
        assert.equal(inNs(pod.name, ['cat', '/proc/sys/net/ipv6/conf/eth0/disable_ipv6']).trim(), '0');
        await eventually('no process left in the pod namespace', () => processesIn(pod.netns).length === 0);
        assert.equal((await w.run({ ...call, command: 'DEL' })).code, 0);
      } finally {
        w.removePod(pod.name);
      }
    });

    test('IPAM fails (unknown pool): the chain is never fed and ends, nothing is left', async () => {
      const pod = w.addPod();
      const config = w.netconf({ ipam: { type: 'calico-ipam', ipv4_pools: ['tu-no-such-pool'] } });
      try {
        await failsCleanly(
          { containerId: `tu${++seq}`, netns: pod.netns, ifName: 'eth0', config, env },
          /tu-no-such-pool/,
        );
      } finally {
        w.removePod(pod.name);
      }
    });

    for (const point of ['after-ipam', 'after-veth', 'after-endpoint']) {
      test(`fault injected ${point}: rollback leaves no process, link, route or endpoint`, async () => {
        const pod = w.addPod();
        try {
          await failsCleanly(
            {
              containerId: `tu${++seq}`,
              netns: pod.netns,
              ifName: 'eth0',
              config: dual(),
              env: { ...env, CALICO_CNI_FAULT_INJECT: point },
            },
            new RegExp(`fault injected at ${point}`),
          );
        } finally {
          w.removePod(pod.name);
        }
      });
    }
  });
}

test('the chain is waiting in the pod before IPAM answers; killing the agent then leaves no process', async () => {
  const agent = await startAgent(w);
  const pod = w.addPod();
  // A live holder of the host's IPAM lock (this test) keeps the ADD waiting in IPAM.
  const lock = path.join(w.dir, 'ipam.lock');
  let killed = false;
  writeFileSync(lock, String(process.pid), { flag: 'wx' });
  try {
    const add = w.run({
      command: 'ADD',
      containerId: `tu${++seq}`,
      netns: pod.netns,
      ifName: 'eth0',
      config: dual(),
      env: { CALICO_CNI_HANDOFF: 'required' },
    });
    await eventually(
      'the chain waits in the pod namespace while IPAM waits',
      () => processesIn(pod.netns).length > 0,
      10_000,
    );
    const helpers = descendantsOf(agent.pid);
    assert.ok(helpers.length > 0, 'the agent has its resident helpers');
    process.kill(agent.pid, 'SIGKILL');
    killed = true;
    const r = await add;
    assert.notEqual(r.code, 0, 'the ADD cannot complete without its agent');
    await eventually('no process left in the pod namespace', () => processesIn(pod.netns).length === 0);
    await eventually("the agent's helpers (ip session, launcher, chain) are gone", () => !helpers.some(alive));
  } finally {
    rmSync(lock, { force: true });
    if (!killed) await agent.stop();
    w.removePod(pod.name);
  }
});

test('the agent keeps spare chains: one is used per ADD and replaced, also after a failed ADD', async () => {
  const agent = await startAgent(w, { CALICO_CNI_POD_SPARES: '3' });
  /** The agent's spare chains: shells waiting for a pod's namespace (the spare script reads it first). */
  const spares = () =>
    descendantsOf(agent.pid).filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('read -r netns');
      } catch {
        return false;
      }
    });
  const pod = w.addPod();
  try {
    await eventually('three spares wait at start', () => spares().length === 3, 10_000);
    const before = spares();
    const call = {
      containerId: `tu${++seq}`,
      netns: pod.netns,
      ifName: 'eth0',
      config: dual(),
      env: { CALICO_CNI_HANDOFF: 'required' },
    };
    const add = await w.run({ ...call, command: 'ADD' });
    assert.equal(add.code, 0, `ADD: ${add.stdout} ${add.stderr}`);
    await eventually('the used spare is replaced', () => spares().length === 3);
    assert.equal(
      spares().filter((pid) => before.includes(pid)).length,
      2,
      'one of the spares became the pod side and exited',
    );
    assert.equal((await w.run({ ...call, command: 'DEL' })).code, 0);
    const failed = await w.run({
      ...call,
      command: 'ADD',
      env: { ...call.env, CALICO_CNI_FAULT_INJECT: 'after-ipam' },
    });
    assert.equal(failed.code, 1);
    await eventually('no process left in the pod namespace', () => processesIn(pod.netns).length === 0);
    await eventually('the released spare is replaced', () => spares().length === 3);
  } finally {
    await agent.stop();
    w.removePod(pod.name);
  }
});

test('util-linux pod entry (CALICO_CNI_POD_ENTRY=util-linux) in the agent: the chain runs there too', async () => {
  const agent = await startAgent(w, { CALICO_CNI_POD_ENTRY: 'util-linux' });
  const pod = w.addPod();
  const call = {
    containerId: `tu${++seq}`,
    netns: pod.netns,
    ifName: 'eth0',
    config: dual(),
    env: { CALICO_CNI_HANDOFF: 'required' },
  };
  try {
    const add = await w.run({ ...call, command: 'ADD' });
    assert.equal(add.code, 0, `ADD: ${add.stdout} ${add.stderr}`);
    assert.match(inNs(pod.name, ['ip', '-6', 'route', 'show', 'default']), /via fe80::ecee:eeff:feee:eeee dev eth0/);
    await eventually('no process left in the pod namespace', () => processesIn(pod.netns).length === 0);
    assert.equal((await w.run({ ...call, command: 'DEL' })).code, 0);
  } finally {
    await agent.stop();
    w.removePod(pod.name);
  }
});
