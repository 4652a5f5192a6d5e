import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdRequests, keyAfter, prefixEnd, rangeStart, type RangePage } from './etcd-requests.js';
import { jsonEncoding } from './etcd-json.js';
import { grpcEncoding } from './etcd.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const json = new EtcdRequests(jsonEncoding);
const grpc = new EtcdRequests(grpcEncoding);

describe('etcd key ranges', () => {
  test('a prefix ends at its last byte plus one; the empty prefix covers the whole keyspace', () => {
    assert.deepEqual(prefixEnd('/calico/'), Buffer.from('/calico0'));
    assert.deepEqual(prefixEnd('a\u00ff'), Buffer.from([0x61, 0xc3, 0xc0]));
    assert.deepEqual(prefixEnd(''), Buffer.from([0]));
    assert.deepEqual(rangeStart(''), Buffer.from([0]));
    assert.deepEqual(rangeStart('/calico/'), Buffer.from('/calico/'));
    assert.deepEqual(keyAfter(Buffer.from('/a')), Buffer.from('/a\0'));
  });
});

describe('etcd requests on the JSON gateway (base64 bytes, decimal int64, enum names)', () => {
  test("Datastore.txn: each condition's compare, the operations, and the failure reads", () => {
    const req = json.conditionalTxn(
      [
        { kind: 'absent', key: '/a' },
        { kind: 'revision', key: '/b', revision: 5 },
        { kind: 'unchangedSince', key: '/p/', revision: 7 },
      ],
      [
        { kind: 'put', key: '/a', value: 'v', ttlSeconds: 30 },
        { kind: 'put', key: '/c', value: 'w' },
        { kind: 'delete', key: '/b' },
      ],
      ['42', undefined, undefined],
    );
    assert.deepEqual(req, {
      compare: [
        { key: b64('/a'), target: 'VERSION', result: 'EQUAL', version: '0' },
        { key: b64('/b'), target: 'MOD', result: 'EQUAL', mod_revision: '5' },
        { key: b64('/p/'), range_end: b64('/p0'), target: 'MOD', result: 'LESS', mod_revision: '8' },
      ],
      success: [
        { request_put: { key: b64('/a'), value: b64('v'), lease: '42' } },
        { request_put: { key: b64('/c'), value: b64('w') } },
        { request_delete_range: { key: b64('/b') } },
      ],
      failure: [
        { request_range: { key: b64('/a') } },
        { request_range: { key: b64('/b') } },
        {
          request_range: {
            key: b64('/p/'),
            range_end: b64('/p0'),
            sort_order: 'DESCEND',
            sort_target: 'MOD',
            limit: '1',
          },
        },
      ],
    });
  });

  test('create, update and delete are one-key compare-and-swaps that read the key on failure', () => {
    assert.deepEqual(json.createTxn('/k', 'v', undefined), {
      compare: [{ key: b64('/k'), target: 'VERSION', result: 'EQUAL', version: '0' }],
      success: [{ request_put: { key: b64('/k'), value: b64('v') } }],
      failure: [{ request_range: { key: b64('/k') } }],
    });
    assert.deepEqual(json.updateTxn('/k', 'v', 9, '7'), {
      compare: [{ key: b64('/k'), target: 'MOD', result: 'EQUAL', mod_revision: '9' }],
      success: [{ request_put: { key: b64('/k'), value: b64('v'), lease: '7' } }],
      failure: [{ request_range: { key: b64('/k') } }],
    });
    assert.deepEqual(json.deleteTxn('/k', 9), {
      compare: [{ key: b64('/k'), target: 'MOD', result: 'EQUAL', mod_revision: '9' }],
      success: [{ request_delete_range: { key: b64('/k'), prev_kv: true } }],
      failure: [{ request_range: { key: b64('/k') } }],
    });
  });

  test('single requests: watch range, revision probe, lease, compaction', () => {
    assert.deepEqual(json.prefix(''), { key: 'AA==', range_end: 'AA==' });
    assert.deepEqual(json.prefix('/calico/'), { key: b64('/calico/'), range_end: b64('/calico0') });
    assert.deepEqual(json.currentRevision(), { key: b64('/calico/'), count_only: true });
    assert.deepEqual(json.leaseGrant(0.2), { TTL: '1' });
    assert.deepEqual(json.leaseGrant(30.5), { TTL: '31' });
    assert.deepEqual(json.compaction(12), { revision: '12', physical: true });
  });
});

describe('etcd requests on gRPC (Buffers, numbers, rpc.proto enum values)', () => {
  test('a create compares Version == 0 and an unchangedSince compares Mod < revision + 1 over the range', () => {
    assert.deepEqual(grpc.createTxn('/k', 'v', '3'), {
      compare: [{ key: Buffer.from('/k'), target: 0, result: 0, version: 0 }],
      success: [{ request_put: { key: Buffer.from('/k'), value: Buffer.from('v'), lease: '3' } }],
      failure: [{ request_range: { key: Buffer.from('/k') } }],
    });
    const req = grpc.conditionalTxn([{ kind: 'unchangedSince', key: '/p/', revision: 7 }], [], []);
    assert.deepEqual(req.compare, [
      { key: Buffer.from('/p/'), range_end: Buffer.from('/p0'), target: 2, result: 2, mod_revision: 8 },
    ]);
    assert.deepEqual(req.failure, [
      {
        request_range: {
          key: Buffer.from('/p/'),
          range_end: Buffer.from('/p0'),
          sort_order: 2,
          sort_target: 3,
          limit: 1,
        },
      },
    ]);
  });
});

describe('EtcdRequests.list', () => {
  test('reads pages after the last key, all at the first page revision, until etcd says no more', async () => {
    const requests: unknown[] = [];
    const pages: RangePage[] = [
      {
        items: [
          { key: '/p/a', value: '1', revision: 3 },
          { key: '/p/b', value: '2', revision: 4 },
        ],
        lastKey: Buffer.from('/p/b'),
        more: true,
        revision: 10,
      },
      { items: [{ key: '/p/c', value: '3', revision: 9 }], lastKey: Buffer.from('/p/c'), more: false, revision: 11 },
    ];
    const result = await json.list('/p/', async (request) => {
      requests.push(request);
      return pages.shift()!;
    });
    assert.deepEqual(
      result.items.map((kv) => kv.key),
      ['/p/a', '/p/b', '/p/c'],
    );
    assert.equal(result.revision, 10);
    assert.deepEqual(requests, [
      { key: b64('/p/'), range_end: b64('/p0'), limit: '1000' },
      { key: b64('/p/b\0'), range_end: b64('/p0'), limit: '1000', revision: '10' },
    ]);
  });
});
