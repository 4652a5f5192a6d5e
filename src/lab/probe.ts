// `calico-lab probe`: the reachability matrix between the lab's pods. Every source pod's resident agent probes all
// targets in parallel, each with a fresh source port and a short timeout; SCTP cannot be carried by this kernel, so it
// is reported as skipped rather than as blocked.
import { listPodRecords, type PodRecord } from './pod-record.js';
import { requestProbes } from './pod-agent.js';
import type { Matrix } from './matrix.js';

export interface ProbeOptions {
  port: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  from?: string;
  to?: string;
  timeoutMs?: number;
  family?: 4 | 6;
}

export class ProbeSkipped extends Error {}

const keyOf = (p: PodRecord) => `${p.namespace}/${p.name}`;
const selects = (filter: string | undefined, p: PodRecord) =>
  !filter || filter === keyOf(p) || filter === `${p.namespace}/*` || filter === p.namespace;

export async function probeMatrix(labDir: string, opts: ProbeOptions): Promise<Matrix> {
  if (opts.protocol === 'SCTP') {
    throw new ProbeSkipped('SCTP probes skipped: this kernel is built without SCTP (CONFIG_IP_SCTP is not set)');
  }
  const pods = listPodRecords(labDir).filter((p) => p.ips.length > 0);
  const sources = pods.filter((p) => selects(opts.from, p));
  const targets = pods.filter((p) => selects(opts.to, p));
  const family = opts.family ?? 4;
  const targetIp = (p: PodRecord) => p.ips.find((ip) => ip.includes(':') === (family === 6));
  const matrix: Matrix = {};
  await Promise.all(
    sources.map(async (src) => {
      const reachable = targets.map((t) => targetIp(t));
      const wanted = targets.filter((_t, i) => reachable[i] !== undefined);
      const results = await requestProbes(src.controlSocket, {
        timeoutMs: opts.timeoutMs ?? 1000,
        targets: wanted.map((t) => ({ ip: targetIp(t)!, port: opts.port, protocol: opts.protocol as 'TCP' | 'UDP' })),
      });
      matrix[keyOf(src)] = Object.fromEntries(wanted.map((t, i) => [keyOf(t), results[i]!]));
    }),
  );
  return matrix;
}
