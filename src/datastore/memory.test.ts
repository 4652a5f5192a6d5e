import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDatastore } from './memory.js';
import { AlreadyExistsError, ConflictError, NotFoundError, type WatchEvent } from './types.js';

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe('MemoryDatastore', () => {
  test('create, CAS update and delete follow the global revision', async () => {
    const ds = new MemoryDatastore();
    try {
      assert.equal(await ds.currentRevision(), 1);
      const a = await ds.create('/a', '1');
      assert.equal(a.revision, 2);
      await assert.rejects(ds.create('/a', 'x'), AlreadyExistsError);
      await assert.rejects(ds.update('/a', '2', 1), ConflictError);
      await assert.rejects(ds.update('/missing', '2', 1), NotFoundError);
      const b = await ds.update('/a', '2', a.revision);
      assert.equal(b.revision, 3);
      assert.equal((await ds.get('/a'))?.value, '2');
      await assert.rejects(ds.delete('/a', a.revision), ConflictError);
      const gone = await ds.delete('/a', b.revision);
      assert.equal(gone.value, '2');
      assert.equal(await ds.get('/a'), undefined);
      assert.equal(await ds.currentRevision(), 4);
    } finally {
      await ds.close();
    }
  });

  test('txn is all or nothing at one revision', async () => {
    const ds = new MemoryDatastore();
    try {
      const a = await ds.create('/t/a', 'a');
      await assert.rejects(
        ds.txn(
          [
            { key: '/t/a', kind: 'revision', revision: a.revision },
            { key: '/t/b', kind: 'revision', revision: 99 },
          ],
          [{ kind: 'put', key: '/t/c', value: 'c' }],
        ),
        ConflictError,
      );
      assert.equal(await ds.get('/t/c'), undefined);
      const { revision } = await ds.txn(
        [
          { key: '/t/a', kind: 'revision', revision: a.revision },
          { key: '/t/b', kind: 'absent' },
        ],
        [
          { kind: 'put', key: '/t/b', value: 'b' },
          { kind: 'delete', key: '/t/a' },
        ],
      );
      const list = await ds.list('/t/');
      assert.deepEqual(
        list.items.map((kv) => [kv.key, kv.revision]),
        [['/t/b', revision]],
      );
    } finally {
      await ds.close();
    }
  });

  test('watch replays history in order, then reports compaction', async () => {
    const ds = new MemoryDatastore();
    try {
      const start = (await ds.currentRevision()) + 1;
      await ds.create('/w/1', 'a');
      await ds.put('/other', 'x');
      await ds.put('/w/1', 'b');
      await ds.delete('/w/1');
      const events: WatchEvent[] = [];
      const w = ds.watch('/w/', start, (e) => events.push(e));
      await until(() => events.length === 3);
      assert.deepEqual(
        events.map((e) => (e.type === 'put' ? `put ${e.value}` : e.type)),
        ['put a', 'put b', 'delete'],
      );
      await w.close();
      await ds.compact(await ds.currentRevision());
      const late: WatchEvent[] = [];
      ds.watch('/w/', start, (e) => late.push(e));
      await until(() => late.length === 1);
      assert.equal(late[0]!.type, 'resync-required');
    } finally {
      await ds.close();
    }
  });

  test('a TTL key expires with a delete event', async () => {
    const ds = new MemoryDatastore();
    try {
      const events: WatchEvent[] = [];
      ds.watch('/ttl', 0, (e) => events.push(e));
      await ds.put('/ttl', 'v', { ttlSeconds: 0.05 });
      await until(() => events.some((e) => e.type === 'delete'));
      assert.equal(await ds.get('/ttl'), undefined);
    } finally {
      await ds.close();
    }
  });
});

test('old history is compacted automatically beyond retainRevisions', async () => {
  const ds = new MemoryDatastore('retain', { retainRevisions: 20 });
  try {
    for (let i = 0; i < 100; i++) await ds.put('/k', String(i));
    const events: WatchEvent[] = [];
    ds.watch('/k', 2, (e) => events.push(e));
    await until(() => events.length === 1);
    assert.equal(events[0]!.type, 'resync-required');
    const recent: WatchEvent[] = [];
    ds.watch('/k', (await ds.currentRevision()) - 5, (e) => recent.push(e));
    await until(() => recent.length === 6);
  } finally {
    await ds.close();
  }
});
