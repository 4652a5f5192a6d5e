// Test fixture, run inside a test network namespace (never the root one): exercises the resident `ip -batch` session
// the way the plugin does and prints what it saw as one JSON line for test/system/cni/ip-session.test.ts.
import { execFileSync } from 'node:child_process';
import { IpBatchSession } from '../../../src/cni/plugin/ip-session.js';

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
const s = new IpBatchSession();
const out: Record<string, unknown> = {};

// A link the session has looked up, then deleted and re-created by someone else: its cached index is stale.
ip('link', 'add', 'tcs0', 'type', 'veth', 'peer', 'name', 'tcs1');
out.first = await s.run(['link set dev tcs0 up'], ['tcs0']);
ip('link', 'del', 'tcs0');
ip('link', 'add', 'tcs0', 'type', 'veth', 'peer', 'name', 'tcs1');
out.recreated = await s.run(['link set dev tcs0 up', 'link set dev tcs1 up'], ['tcs0']);
out.upAfter = /UP/.test(ip('-br', 'link', 'show', 'tcs0'));

// Failures are reported per line, the rest of the group still runs.
out.partial = await s.run(['link set dev tcs-missing up', 'route add 10.99.0.1/32 dev tcs0 scope link'], []);
out.route = ip('route', 'show', '10.99.0.1').trim();

// A line that makes iproute2 exit, and another group in flight at the same time: both answered, the good one done.
const [bad, good] = await Promise.allSettled([
  s.run(['link add dev tcs2 type veth peer name tcs3 netns /nonexistent/ns'], []),
  s.run(['route add 10.99.0.2/32 dev tcs0 scope link'], []),
]);
out.bad = bad.status === 'rejected' ? String(bad.reason) : bad.value;
out.good = good.status === 'fulfilled' ? good.value : String(good.reason);
out.route2 = ip('route', 'show', '10.99.0.2').trim();
s.close();
process.stdout.write(JSON.stringify(out) + '\n');
