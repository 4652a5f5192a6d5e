import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseResources } from './parse.js';
import { ResourceValidationError } from './problems.js';
import { validateResource } from './validate/index.js';

const twoBad = `
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: p1
spec:
  cidr: 10.0.0.0/16
  blockSize: 33
  ipipMode: Always
  vxlanMode: Always
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: allow
  namespace: prod
spec:
  ingress:
  - action: Allow
    destination:
      ports: [80]
`;

function catchError(fn: () => unknown): ResourceValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ResourceValidationError) return e;
    throw e;
  }
  assert.fail('expected a ResourceValidationError');
}

describe('parseResources', () => {
  test('returns validated resources as written', () => {
    const res = parseResources(
      'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p1}\nspec: {cidr: 10.0.0.0/16, natOutgoing: true}\n',
    );
    assert.deepEqual(res, [
      {
        apiVersion: 'projectcalico.org/v3',
        kind: 'IPPool',
        metadata: { name: 'p1' },
        spec: { cidr: '10.0.0.0/16', natOutgoing: true },
      },
    ]);
  });
  test('lists every problem of every document', () => {
    const err = catchError(() => parseResources(twoBad));
    assert.deepEqual(
      err.problems.map((p) => [p.document, p.kind, p.name, p.path]),
      [
        [1, 'IPPool', 'p1', 'spec.blockSize'],
        [1, 'IPPool', 'p1', 'spec.vxlanMode'],
        [2, 'NetworkPolicy', 'prod/allow', 'spec.ingress[0].destination.ports[0]'],
      ],
    );
  });
  test('message lines name the object, the field and the reason', () => {
    const err = catchError(() => parseResources(twoBad));
    assert.match(err.message, /^ {2}IPPool "p1": spec\.blockSize: must be 20\.\.32 for an IPv4 pool, got 33$/m);
  });
  test('a single problem is the whole message', () => {
    const err = catchError(() =>
      parseResources(
        '{"apiVersion":"projectcalico.org/v3","kind":"Tier","metadata":{"name":"t"},"spec":{"order":"x"}}',
      ),
    );
    assert.equal(err.message, 'Tier "t": spec.order: must be a number, got string "x"');
  });
  test('problems without a kind name their document', () => {
    const err = catchError(() => parseResources('kind: IPPool\n---\n- a\n'));
    assert.match(err.message, /^ {2}document 2: a resource must be a mapping/m);
  });
  test('an object without a name is named by its document', () => {
    const err = catchError(() => parseResources('kind: Tier\napiVersion: projectcalico.org/v3\nmetadata: {}\n'));
    assert.equal(err.message, 'Tier (document 1): metadata.name: required');
  });
  test('unknown fields are refused at any depth, with their path', () => {
    const err = catchError(() =>
      parseResources(
        'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: b}\nspec: {peerIP: 192.0.2.1, asNumber: 1, password: {secretKeyRef: {name: s, key: k, mode: x}}}\n',
      ),
    );
    assert.deepEqual(
      err.problems.map((p) => p.path),
      ['spec.password.secretKeyRef.mode'],
    );
  });
  test('known fields of unimplemented features round-trip unchanged', () => {
    const text = JSON.stringify({
      apiVersion: 'projectcalico.org/v3',
      kind: 'FelixConfiguration',
      metadata: { name: 'default' },
      spec: { bpfEnabled: true, bpfLogFilters: { all: 'tcp' }, wireguardEnabled: true, flowLogsFlushInterval: '15s' },
    });
    assert.deepEqual(parseResources(text)[0], JSON.parse(text));
  });
  test('items of a List are validated', () => {
    const err = catchError(() =>
      parseResources('kind: List\nitems:\n- {apiVersion: projectcalico.org/v3, kind: Tier, metadata: {name: a.b}}\n'),
    );
    assert.deepEqual(
      err.problems.map((p) => [p.document, p.path]),
      [[1, 'metadata.name']],
    );
  });
  test('Kubernetes kinds are refused unless asked for', () => {
    const pod = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n';
    const refused = catchError(() => parseResources(pod)).problems;
    assert.deepEqual(
      refused.map((p) => p.path),
      ['kind', 'apiVersion'],
    );
    assert.match(refused[0].reason, /unknown kind "Namespace"/);
    const [ns] = parseResources(pod, { kubernetes: true });
    assert.equal(ns.metadata.labels?.['kubernetes.io/metadata.name'], 'prod');
  });
});

describe('validateResource', () => {
  test('returns the object when valid', () => {
    const obj = {
      apiVersion: 'projectcalico.org/v3',
      kind: 'GlobalNetworkSet',
      metadata: { name: 's' },
      spec: { nets: ['10.0.0.0/8'] },
    };
    assert.equal(validateResource(obj), obj);
  });
  test('throws with every problem of the object', () => {
    const err = catchError(() =>
      validateResource({ apiVersion: 'projectcalico.org/v3', kind: 'HostEndpoint', metadata: { name: 'H' }, spec: {} }),
    );
    assert.deepEqual(err.problems.map((p) => p.path).sort(), ['metadata.name', 'spec.interfaceName', 'spec.node']);
    assert.equal(err.problems[0].document, 0);
  });
});
