// The pod side of a pod's dataplane, run inside the pod's network namespace by process chains the resident launcher
// shell starts (Node has neither setns nor netlink): nsenter -> sh -> iproute2's `ip -batch`. For an ADD the chain is
// started when the request arrives and waits, iproute2 already loaded, while the veth and IPAM are made; it is then
// fed the sysctl choice and the batch lines (PodSideChain). In: the pod's namespace, interface and forwarding choice,
// later its batch; out: the exit code (naming the failed step) and output. Other pod-side scripts run as plain jobs.
import { existsSync, realpathSync } from 'node:fs';
import { NOT_STARTED, shQuote, shellLauncher, type LaunchResult, type WaitingChain } from './shell-launcher.js';

/** Exit codes of the pod-side scripts, naming the step that failed. */
export const EXIT_SYSCTL = 20;
/** The chain's input ended before its first line: it was released unfed. */
export const EXIT_NO_INPUT = 21;
export const EXIT_IP_BATCH = 22;

/** The line that ends the chain's input. */
const INPUT_END = '@@calico-input-end';

/**
 * The chain's script, started before the addresses are known ($1 the pod's interface, $2 1 or 0 for IP forwarding,
 * $3 iproute2's `ip`): iproute2 starts at once and reads the batch the left side passes on; the left side waits for
 * its input's first line (`v4`, or `v6` when the IPv6 sysctls are needed), writes the sysctls, then forwards the
 * batch lines up to INPUT_END. Input ended before the first line: 21; a sysctl failed: 20 (iproute2 gets nothing);
 * a batch line failed: 22.
 */
export const POD_CHAIN_SCRIPT = `set -o pipefail
{
  read -r families || exit ${EXIT_NO_INPUT}
  echo "$2" > /proc/sys/net/ipv4/ip_forward || exit ${EXIT_SYSCTL}
  if [ "$families" = v6 ]; then
    for scope in all default lo "$1"; do
      echo 0 > "/proc/sys/net/ipv6/conf/$scope/disable_ipv6" || exit ${EXIT_SYSCTL}
    done
    echo 0 > "/proc/sys/net/ipv6/conf/$1/accept_dad" || exit ${EXIT_SYSCTL}
    echo "$2" > /proc/sys/net/ipv6/conf/all/forwarding || exit ${EXIT_SYSCTL}
  fi
  while IFS= read -r line && [ "$line" != ${INPUT_END} ]; do printf '%s\\n' "$line"; done
} | "$3" -batch -
status=$?
case $status in 0 | ${EXIT_SYSCTL} | ${EXIT_NO_INPUT}) exit $status ;; *) exit ${EXIT_IP_BATCH} ;; esac`;

/**
 * A spare chain, started before any request ($0 the chain's script, $1 iproute2's `ip`): it waits for the pod's
 * namespace and interface lines, enters the namespace and becomes the chain. The forks and execs up to there (the
 * launcher's, the shell's) are then already done when an ADD arrives.
 */
const SPARE_SCRIPT = (enter: string) => `IFS= read -r netns || exit ${EXIT_NO_INPUT}
read -r ifname forwarding || exit ${EXIT_NO_INPUT}
exec ${enter}`;
const SPARE_BUSYBOX = SPARE_SCRIPT('busybox nsenter --net="$netns" busybox sh -c "$0" sh "$ifname" "$forwarding" "$1"');
const SPARE_UTIL_LINUX = SPARE_SCRIPT('nsenter --net="$netns" bash -c "$0" bash "$ifname" "$forwarding" "$1"');

// How a pod-side script enters the pod's namespace. A static busybox does nsenter's and sh's jobs without the
// dynamic loader's work at each of the two execs (a quarter of the ~3 ms chain here, measured interleaved); its sh
// prefers its own `ip` applet, so iproute2's is then named by its path. util-linux's nsenter and the system sh serve
// where there is no busybox with those applets, or no iproute2 on a known path. CALICO_CNI_POD_ENTRY=util-linux
// skips busybox.
let podEntry: 'busybox' | 'util-linux' | undefined =
  process.env.CALICO_CNI_POD_ENTRY === 'util-linux' ? 'util-linux' : undefined;
let iproute2 = 'ip';

/** iproute2's `ip` by absolute path (not a busybox applet), from PATH or the usual directories. */
function findIproute2(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (!dir.startsWith('/')) continue;
    const candidate = `${dir}/ip`;
    try {
      if (!realpathSync(candidate).endsWith('/busybox')) return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}

function decidePodEntry(): 'busybox' | 'util-linux' {
  if (podEntry === undefined) {
    const found = findIproute2();
    podEntry = found ? 'busybox' : 'util-linux';
    if (found) iproute2 = shQuote(found);
  }
  return podEntry;
}

/**
 * Runs a script inside a network namespace as a launcher job (no process start from Node). `script` gets the
 * command to name iproute2's `ip` by.
 */
export async function inNetns(netns: string, script: (ip: string) => string): Promise<LaunchResult> {
  const ns = shQuote(netns);
  if (decidePodEntry() === 'busybox') {
    const r = await shellLauncher().run(`exec busybox nsenter --net=${ns} busybox sh -c ${shQuote(script(iproute2))}`);
    // 127 ("not found"): no busybox, or one without these applets, so nothing ran. (The script's own `ip` missing
    // gives 127 too; the script is idempotent, and the retry below reports it.)
    if (r.code !== 127) return r;
    podEntry = 'util-linux';
  }
  return shellLauncher().run(`exec nsenter --net=${ns} sh -c ${shQuote(script('ip'))}`);
}

/** What the pod side needs before the addresses are known. */
export interface PodSideSpec {
  netns: string;
  ifName: string;
  allowIpForwarding: boolean;
}

/**
 * Spare chains for a long-lived process (calico-node's CNI server): each ADD takes one, and one is started again
 * once that ADD's pod side is done. One-shot plugin processes keep none (their chain starts with the request).
 */
class SparePodChains {
  private size = 0;
  private readonly spares: WaitingChain[] = [];
  private refilling = false;

  keep(size: number): void {
    this.size = size;
    for (const extra of this.spares.splice(size)) extra.release();
    this.refill();
  }

  /** A spare chain told the pod's namespace and interface; undefined when none could take them. */
  take(spec: PodSideSpec): WaitingChain | undefined {
    if (process.env.CALICO_CNI_POD_SPARES === '0') return undefined;
    const lines = `${spec.netns}\n${spec.ifName} ${spec.allowIpForwarding ? 1 : 0}\n`;
    for (let chain = this.spares.shift(); chain; chain = this.spares.shift()) {
      if (chain.send(lines)) return chain;
    }
    return undefined;
  }

  /**
   * Starts spares up to the pool's size, a little later: their forks and execs then fall between requests rather
   * than on the end of the one just served (its reply, the plugin's exit), when cores are short.
   */
  refill(): void {
    if (this.refilling || this.spares.length >= this.size) return;
    this.refilling = true;
    setTimeout(() => {
      this.refilling = false;
      while (this.spares.length < this.size) {
        const busybox = decidePodEntry() === 'busybox';
        const chain = shellLauncher().startChain(
          ([spare, script]) =>
            busybox ? `busybox sh -c ${spare} ${script} ${iproute2}` : `bash -c ${spare} ${script} ip`,
          [busybox ? SPARE_BUSYBOX : SPARE_UTIL_LINUX, POD_CHAIN_SCRIPT],
          { spare: true },
        );
        if (!chain) return;
        this.spares.push(chain);
      }
    }, SPARE_REFILL_DELAY_MS).unref();
  }
}

const SPARE_REFILL_DELAY_MS = 20;
const spares = new SparePodChains();

/**
 * Keeps `size` pod-side chains started ahead of requests (for a process serving many ADDs; CALICO_CNI_POD_SPARES
 * overrides, 0 for none).
 */
export function keepSparePodChains(size = Number(process.env.CALICO_CNI_POD_SPARES ?? 2)): void {
  if (process.env.CALICO_CNI_POD_PRESTART === 'off' || !shellLauncher().chains) return;
  spares.keep(Number.isFinite(size) && size >= 0 ? size : 2);
}

/**
 * The pod side of one ADD: its chain is a spare (when the process keeps them) or started at construction (when the
 * launcher can hold one: bash on PATH; CALICO_CNI_POD_PRESTART=off never); `run` feeds it once, `release` ends it
 * unfed. Without a chain, or when the chain is gone or failed before its script ran (no busybox: 127, say), `run`
 * runs the same work as a launcher job, which reports why or falls back to util-linux.
 */
export class PodSideChain {
  private chain?: WaitingChain;

  constructor(private readonly spec: PodSideSpec) {
    this.chain = this.start();
  }

  private start(): WaitingChain | undefined {
    const { netns, ifName, allowIpForwarding } = this.spec;
    if (process.env.CALICO_CNI_POD_PRESTART === 'off') return undefined;
    // Names the veth creation would refuse are not started here; the namespace must exist to be entered.
    if (/["\\\n]/.test(netns) || !/^[A-Za-z0-9_.@%+=-]+$/.test(ifName) || !existsSync(netns)) return undefined;
    const spare = spares.take(this.spec);
    if (spare) return spare;
    const ns = shQuote(netns);
    const args = `${ifName} ${allowIpForwarding ? 1 : 0}`;
    return shellLauncher().startChain(
      ([script]) =>
        decidePodEntry() === 'busybox'
          ? `busybox nsenter --net=${ns} busybox sh -c ${script} sh ${args} ${iproute2}`
          : // util-linux's nsenter; bash for the script (set -o pipefail), as the launcher is bash.
            `nsenter --net=${ns} bash -c ${script} bash ${args} ip`,
      [POD_CHAIN_SCRIPT],
    );
  }

  /**
   * Sysctls, then the batch, in the pod. `sysctls` (lines exiting EXIT_SYSCTL on failure) serve the job; the chain
   * derives the same from `v6`.
   */
  async run(v6: boolean, sysctls: string[], batch: string[]): Promise<LaunchResult> {
    const chain = this.chain;
    this.chain = undefined;
    if (chain) {
      const r = await chain.feed(`${v6 ? 'v6' : 'v4'}\n${batch.join('\n')}\n${INPUT_END}\n`);
      spares.refill();
      if (r !== NOT_STARTED && [0, EXIT_SYSCTL, EXIT_IP_BATCH].includes(r.code)) return r;
    }
    // The shell becomes `ip` (exec: no fork); the interface already exists, so the sysctls can all come first.
    return inNetns(this.spec.netns, (ip) =>
      [...sysctls, `exec ${ip} -batch - <<'CALICO_POD'`, ...batch, 'CALICO_POD'].join('\n'),
    );
  }

  /** Ends the chain if it was not fed (harmless after `run`). */
  release(): void {
    if (!this.chain) return;
    this.chain.release();
    this.chain = undefined;
    spares.refill();
  }
}
