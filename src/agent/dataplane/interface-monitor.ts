// IpInterfaceMonitor: the host's interfaces and their addresses, kept current for host endpoint resolution
// (expectedIPs) and interfaceExclude /regex/ entries. Lists with `ip -j addr show`, re-lists when `ip monitor link
// address` reports a change (debounced) and every interfaceRefreshInterval as a safety net, as Felix's interface
// monitor does with netlink. `commandPrefix` runs both inside a node namespace (`ip netns exec <ns>`) for tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { run } from '../../common/exec.js';
import type { HostInterface } from './host-endpoints.js';

export interface InterfaceSource {
  /** Starts watching; resolves with the first listing; then calls onChange with each different full listing. */
  start(onChange: (interfaces: HostInterface[]) => void): Promise<HostInterface[]>;
  stop(): void;
}

/** `ip -j addr show` output -> interfaces with their addresses, sorted by name. */
export function parseIpAddrJson(json: string): HostInterface[] {
  const raw = JSON.parse(json) as { ifname?: string; addr_info?: { local?: string }[] }[];
  const out: HostInterface[] = [];
  for (const link of raw) {
    if (!link.ifname) continue;
    const addresses = (link.addr_info ?? []).map((a) => a.local).filter((a): a is string => !!a);
    out.push({ name: link.ifname, addresses: addresses.sort() });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export class IpInterfaceMonitor implements InterfaceSource {
  private proc: ChildProcess | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private stopped = false;
  private last = '';

  constructor(
    private readonly commandPrefix: readonly string[] = [],
    private readonly refreshMs = 90_000,
    private readonly onError: (err: Error) => void = () => {},
  ) {}

  private command(args: string[]): [string, string[]] {
    const full = [...this.commandPrefix, 'ip', ...args];
    return [full[0]!, full.slice(1)];
  }

  async list(): Promise<HostInterface[]> {
    const [program, args] = this.command(['-j', 'addr', 'show']);
    return parseIpAddrJson(await run(program, args, { timeoutMs: 30_000 }));
  }

  async start(onChange: (interfaces: HostInterface[]) => void): Promise<HostInterface[]> {
    const relist = (): void => {
      this.list().then(
        (ifaces) => {
          const text = JSON.stringify(ifaces);
          if (this.stopped || text === this.last) return;
          this.last = text;
          onChange(ifaces);
        },
        (err: unknown) => this.onError(err as Error),
      );
    };
    const watch = (): void => {
      if (this.stopped) return;
      const [program, args] = this.command(['monitor', 'link', 'address']);
      const proc = spawn(program, args, { stdio: ['ignore', 'pipe', 'ignore'] });
      this.proc = proc;
      createInterface({ input: proc.stdout! }).on('line', () => {
        if (this.debounce) return;
        this.debounce = setTimeout(() => {
          this.debounce = undefined;
          relist();
        }, 20);
      });
      proc.once('error', (err) => this.onError(err));
      proc.once('exit', () => {
        // The monitor went away (not by stop()): start another and re-list, so nothing is missed meanwhile.
        if (this.stopped) return;
        setTimeout(() => {
          watch();
          relist();
        }, 1000).unref();
      });
    };
    const first = await this.list();
    this.last = JSON.stringify(first);
    watch();
    relist(); // a change between the first listing and the monitor's start is not missed
    this.refreshTimer = setInterval(relist, this.refreshMs);
    this.refreshTimer.unref();
    return first;
  }

  stop(): void {
    this.stopped = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    if (this.debounce) clearTimeout(this.debounce);
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGTERM');
  }
}
