// The lab's record of everything it made, kept in <labdir>/lab.json so `down` can remove it all, also after a crash.
// Each resource is recorded BEFORE it is created (an intent log): a crash between the two leaves a record of
// something that may not exist, which `down` tolerates, never something that exists without a record.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LabOptions } from './layout.js';

export interface LabProcess {
  role: string;
  pid: number;
  netns?: string;
  startTicks?: number;
}

export interface LabState {
  options: LabOptions;
  netns: string[];
  processes: LabProcess[];
  /** Pods the lab's kubelet made: pod key (ns/name) -> its namespace and node. */
  pods: Record<string, { netns: string; node: string; containerId: string }>;
  phase: 'starting' | 'up' | 'stopping';
}

export const stateFile = (labDir: string): string => path.join(labDir, 'lab.json');

export function loadState(labDir: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(labDir), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

export function saveState(state: LabState): void {
  const file = stateFile(state.options.labDir);
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, file);
}

/** Loads, changes and saves the state in one step (the lab's processes may update it concurrently). */
export function updateState(labDir: string, change: (s: LabState) => void): LabState {
  const s = loadState(labDir);
  if (!s) throw new Error(`no lab state in ${labDir} (is the lab up?)`);
  change(s);
  saveState(s);
  return s;
}
