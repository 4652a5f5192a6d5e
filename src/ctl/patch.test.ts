// Patch types: JSON merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge with $patch directives, and the
// identity guard (kind, name and namespace cannot be patched away).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/resource.js';
import { jsonPatch, mergePatch, patchResource, strategicPatch } from './patch.js';

const node = (): Resource => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'Node',
  metadata: { name: 'n1', labels: { rack: 'a', zone: 'z1' }, resourceVersion: '7' },
  spec: { bgp: { ipv4Address: '10.0.0.1/24', asNumber: 65001 }, addresses: [{ address: '10.0.0.1' }] },
});

describe('merge patch', () => {
  test('merges objects, null deletes, lists are replaced', () => {
    const out = patchResource(
      node(),
      '{"metadata":{"labels":{"zone":null,"x":"1"}},"spec":{"bgp":{"routeReflectorClusterID":"224.0.0.1"},"addresses":[{"address":"10.0.0.9"}]}}',
      'merge',
    );
    assert.deepEqual(out.metadata.labels, { rack: 'a', x: '1' });
    assert.deepEqual(out.spec.bgp, {
      ipv4Address: '10.0.0.1/24',
      asNumber: 65001,
      routeReflectorClusterID: '224.0.0.1',
    });
    assert.deepEqual(out.spec.addresses, [{ address: '10.0.0.9' }]);
  });
  test('RFC 7386 appendix cases', () => {
    assert.deepEqual(mergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' });
    assert.deepEqual(mergePatch({ a: [{ b: 'c' }] }, { a: [1] }), { a: [1] });
    assert.deepEqual(mergePatch(['a', 'b'], ['c', 'd']), ['c', 'd']);
    assert.deepEqual(mergePatch({ a: { b: 'c' } }, { a: { b: 'd', c: null } }), { a: { b: 'd' } });
    assert.deepEqual(mergePatch({}, { a: { bb: { ccc: null } } }), { a: { bb: {} } });
  });
});

describe('strategic merge patch', () => {
  test('behaves as merge patch, plus $patch: replace and delete', () => {
    const out = patchResource(
      node(),
      'spec:\n  bgp:\n    $patch: replace\n    ipv4Address: 10.0.0.2/24\n',
      'strategic',
    );
    assert.deepEqual(out.spec.bgp, { ipv4Address: '10.0.0.2/24' });
    const del = strategicPatch({ spec: { bgp: { a: 1 }, x: 1 } }, { spec: { bgp: { $patch: 'delete' } } });
    assert.deepEqual(del, { spec: { x: 1 } });
    assert.throws(() => strategicPatch({}, { $patch: 'bogus' }), /\$patch/);
  });
});

describe('json patch', () => {
  test('add, remove, replace, move, copy, test', () => {
    const doc = { spec: { list: [1, 2], a: 'x' } };
    assert.deepEqual(
      jsonPatch(doc, [
        { op: 'add', path: '/spec/list/-', value: 3 },
        { op: 'add', path: '/spec/list/0', value: 0 },
        { op: 'remove', path: '/spec/list/1' },
        { op: 'replace', path: '/spec/a', value: 'y' },
        { op: 'copy', from: '/spec/a', path: '/spec/b' },
        { op: 'move', from: '/spec/b', path: '/spec/c' },
        { op: 'test', path: '/spec/c', value: 'y' },
      ]),
      { spec: { list: [0, 2, 3], a: 'y', c: 'y' } },
    );
    assert.deepEqual(doc, { spec: { list: [1, 2], a: 'x' } }, 'the input is not modified');
  });
  test('errors name the operation and the reason', () => {
    assert.throws(
      () => jsonPatch({ a: 1 }, [{ op: 'replace', path: '/b', value: 1 }]),
      /patch\[0\]\.path: \/b: no such location/,
    );
    assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]), /patch\[0\]: test failed/);
    assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'frob', path: '/a' }]), /patch\[0\]\.op/);
    assert.throws(() => jsonPatch({ a: 1 }, { op: 'add' }), /list of operations/);
    assert.throws(() => jsonPatch({ a: [1] }, [{ op: 'add', path: '/a/5', value: 1 }]), /index out of range/);
  });
  test('patching a resource by json patch', () => {
    const out = patchResource(node(), '[{"op":"add","path":"/metadata/labels/new","value":"v"}]', 'json');
    assert.equal(out.metadata.labels?.new, 'v');
  });
});

describe('identity guard', () => {
  test('name and kind may not change', () => {
    assert.throws(
      () => patchResource(node(), '{"metadata":{"name":"other"}}', 'merge'),
      /metadata\.name may not be changed/,
    );
    assert.throws(
      () => patchResource(node(), '[{"op":"replace","path":"/kind","value":"IPPool"}]', 'json'),
      /kind may not be changed/,
    );
    assert.throws(() => patchResource(node(), '{not json', 'merge'), /not valid JSON or YAML/);
  });
});
