// The datastore backends IPAM unit tests run on: in-memory and SQLite in a temp directory (removed by cleanup).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemoryDatastore } from '../../src/datastore/memory.js';
import { SqliteDatastore } from '../../src/datastore/sqlite.js';
import type { Datastore } from '../../src/datastore/types.js';

export interface IpamTestBackend {
  name: string;
  open(): Promise<{ ds: Datastore; cleanup(): Promise<void> }>;
}

export const ipamTestBackends: IpamTestBackend[] = [
  {
    name: 'memory',
    open: async () => {
      const ds = new MemoryDatastore();
      return { ds, cleanup: () => ds.close() };
    },
  },
  {
    name: 'sqlite',
    open: async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'ty-ipam-'));
      const ds = await SqliteDatastore.open(path.join(dir, 'calico.db'), { synchronous: 'NORMAL' });
      return {
        ds,
        cleanup: async () => {
          await ds.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];
