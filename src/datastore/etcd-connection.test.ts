import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EtcdErrors, readTlsFiles } from './etcd-connection.js';
import {
  AlreadyExistsError,
  ConflictError,
  DatastoreError,
  NotFoundError,
  TxnConflictError,
  UnreachableError,
} from './types.js';

const settings = { endpoints: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379'] };
const errors = new EtcdErrors(settings, { timeoutMs: 800 });

describe('EtcdErrors', () => {
  test('names every endpoint and refuses settings without one', () => {
    assert.equal(errors.description, 'etcdv3 http://10.0.0.1:2379,http://10.0.0.2:2379');
    assert.equal(new EtcdErrors(settings, {}).timeoutMs, 5000);
    assert.throws(
      () => new EtcdErrors({ endpoints: [] }, {}),
      (e: Error) => e instanceof DatastoreError && /no endpoints configured \(ETCD_ENDPOINTS\)/.test(e.message),
    );
  });

  test('a transport failure becomes one readable UnreachableError line', () => {
    const grpc = errors.unreachable(
      new Error('14 UNAVAILABLE: No connection established\n  Last error: refused\nResolution note: '),
    );
    assert.ok(grpc instanceof UnreachableError);
    assert.equal(
      grpc.message,
      'etcdv3 http://10.0.0.1:2379,http://10.0.0.2:2379: 14 UNAVAILABLE: No connection established Last error: refused',
    );
    const socket = Object.assign(new Error(''), { code: 'ECONNRESET' });
    assert.equal(errors.unreachable(socket).message, `${errors.description}: ECONNRESET`);
    assert.equal(errors.noResponse().message, `${errors.description}: no response within 800 ms`);
    assert.equal(errors.watchNotEstablished().message, `${errors.description}: watch not established within 800 ms`);
    assert.equal(errors.closed().message, `${errors.description}: datastore is closed`);
  });

  test('refused compare-and-swaps: exists, gone, or at another revision', () => {
    assert.ok(errors.alreadyExists('/k') instanceof AlreadyExistsError);
    assert.throws(() => errors.casRefused('/k', 5, undefined), NotFoundError);
    assert.throws(
      () => errors.casRefused('/k', 5, { key: '/k', value: 'v', revision: 8 }),
      (e: Error) => e instanceof ConflictError && e.message === 'update conflict: /k (revision 5 expected, 8 found)',
    );
  });

  test('a refused txn names its first failing condition and what the store held', () => {
    const held = { key: '/p/x', value: 'v', revision: 9 };
    assert.throws(
      () =>
        errors.conditionsRefused(
          [
            { kind: 'absent', key: '/a' },
            { kind: 'unchangedSince', key: '/p/', revision: 7 },
          ],
          [undefined, held],
        ),
      (e: Error) =>
        e instanceof TxnConflictError &&
        e.key === '/p/' &&
        e.current === held &&
        /\/p\/x at revision 9 found/.test(e.message),
    );
  });

  test('compaction: again is a no-op, the future is a conflict, anything else is passed on', () => {
    assert.doesNotThrow(() => errors.compactionRefused(new Error('mvcc: required revision has been compacted'), 3));
    assert.throws(
      () => errors.compactionRefused(new Error('mvcc: required revision is a future revision'), 99),
      (e: Error) => e instanceof ConflictError && /compaction revision 99 is in the future/.test(e.message),
    );
    const other = new Error('permission denied');
    assert.throws(
      () => errors.compactionRefused(other, 3),
      (e) => e === other,
    );
  });
});

describe('readTlsFiles', () => {
  test('reads the configured files, nothing when none is set, and names an unreadable one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'u1-etcd-tls-'));
    try {
      writeFileSync(path.join(dir, 'ca.pem'), 'CA');
      assert.equal(readTlsFiles(settings, 'etcdv3 x'), undefined);
      assert.deepEqual(readTlsFiles({ ...settings, caCertFile: path.join(dir, 'ca.pem') }, 'etcdv3 x'), {
        ca: Buffer.from('CA'),
      });
      const missing = path.join(dir, 'client.pem');
      assert.throws(
        () => readTlsFiles({ ...settings, certFile: missing }, 'etcdv3 x'),
        (e: Error) =>
          e instanceof UnreachableError && e.message.startsWith(`etcdv3 x: cannot read client certificate ${missing}:`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
