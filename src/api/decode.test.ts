import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeDocuments } from './decode.js';
import { ResourceValidationError } from './problems.js';

describe('decodeDocuments', () => {
  test('multi-document YAML, skipping empty documents', () => {
    const docs = decodeDocuments('---\nkind: A\n---\n---\nkind: B\n...\n');
    assert.deepEqual(
      docs.map((d) => [d.document, (d.value as { kind: string }).kind]),
      [
        [1, 'A'],
        [3, 'B'],
      ],
    );
  });
  test('a JSON object', () => {
    assert.deepEqual(decodeDocuments('{"kind": "A", "spec": {"x": 1}}')[0].value, { kind: 'A', spec: { x: 1 } });
  });
  test('a JSON array is a list of documents', () => {
    const docs = decodeDocuments('[{"kind": "A"}, {"kind": "B"}]');
    assert.deepEqual(
      docs.map((d) => d.document),
      [1, 2],
    );
  });
  test('concatenated JSON objects', () => {
    const docs = decodeDocuments('{"kind": "A", "s": "}{"}\n{"kind": "B"}');
    assert.deepEqual(
      docs.map((d) => (d.value as { kind: string }).kind),
      ['A', 'B'],
    );
  });
  test('kind: List is expanded into its items', () => {
    const docs = decodeDocuments('apiVersion: v1\nkind: List\nitems:\n- kind: A\n- kind: B\n');
    assert.deepEqual(
      docs.map((d) => [d.document, d.item]),
      [
        [1, 0],
        [1, 1],
      ],
    );
  });
  test('kind: <Kind>List (calicoctl get -o yaml) is expanded', () => {
    const docs = decodeDocuments(
      'apiVersion: projectcalico.org/v3\nkind: IPPoolList\nitems:\n- kind: IPPool\nmetadata: {}\n',
    );
    assert.equal(docs.length, 1);
    assert.equal((docs[0].value as { kind: string }).kind, 'IPPool');
  });
  test('YAML 1.2: yes/no stay strings', () => {
    assert.deepEqual(decodeDocuments('a: yes\nb: on\n')[0].value, { a: 'yes', b: 'on' });
  });
  test('syntax errors name the document', () => {
    assert.throws(
      () => decodeDocuments('kind: A\n---\nkind: [B\n'),
      (e: unknown) =>
        e instanceof ResourceValidationError &&
        e.problems[0].document === 2 &&
        /YAML syntax error/.test(e.problems[0].reason),
    );
  });
});
