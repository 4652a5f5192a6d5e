// What the lab's kubelet knows about each pod it started, one JSON file per pod under <labdir>/pods/<ns>/<name>.json:
// the probe command and `exec` read it from the root namespace without asking the API server.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface PodRecord {
  namespace: string;
  name: string;
  node: string;
  netns: string;
  containerId: string;
  ips: string[];
  ports: { port: number; protocol: 'TCP' | 'UDP' | 'SCTP'; name?: string }[];
  controlSocket: string;
  /** The CNI ADD result, kept for DEL (as kubelet's CNI cache does). */
  cniResult?: unknown;
}

const podsDir = (labDir: string) => path.join(labDir, 'pods');
export const podRecordFile = (labDir: string, namespace: string, name: string): string =>
  path.join(podsDir(labDir), namespace, `${name}.json`);

export function writePodRecord(labDir: string, rec: PodRecord): void {
  const file = podRecordFile(labDir, rec.namespace, rec.name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(rec, null, 2));
  renameSync(`${file}.tmp`, file);
}

export function readPodRecord(labDir: string, namespace: string, name: string): PodRecord | undefined {
  try {
    return JSON.parse(readFileSync(podRecordFile(labDir, namespace, name), 'utf8')) as PodRecord;
  } catch {
    return undefined;
  }
}

export function removePodRecord(labDir: string, namespace: string, name: string): void {
  rmSync(podRecordFile(labDir, namespace, name), { force: true });
}

export function listPodRecords(labDir: string): PodRecord[] {
  const out: PodRecord[] = [];
  let namespaces: string[] = [];
  try {
    namespaces = readdirSync(podsDir(labDir));
  } catch {
    return out;
  }
  for (const ns of namespaces) {
    for (const f of readdirSync(path.join(podsDir(labDir), ns))) {
      if (!f.endsWith('.json')) continue;
      const rec = readPodRecord(labDir, ns, f.slice(0, -5));
      if (rec) out.push(rec);
    }
  }
  return out.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}
