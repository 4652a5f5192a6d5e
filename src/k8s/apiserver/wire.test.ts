// Unit tests for the API server's pure wire pieces: label/field selector parsing and matching, the three patch
// kinds, command-line flags, service-account token signing, and defaulting/validation on admission.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { admit, checkEnvelope } from './admission.js';
import { TokenAuthority } from './auth.js';
import { parseApiServerFlags } from './main.js';
import { applyPatch, jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { findResource } from './resources.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js';
import { ApiError } from './status.js';

describe('label selectors', () => {
  const m = (sel: string, labels: Record<string, string>) => matchesLabels(parseLabelSelector(sel), labels);
  test('equality, inequality, set, existence and numeric comparisons', () => {
    assert.equal(m('app=web', { app: 'web' }), true);
    assert.equal(m('app==web,tier!=db', { app: 'web', tier: 'fe' }), true);
    assert.equal(m('tier!=db', {}), true, '!= matches a missing label');
    assert.equal(m('env in (prod, staging),!legacy', { env: 'staging' }), true);
    assert.equal(m('env notin (prod)', { env: 'prod' }), false);
    assert.equal(m('app', { app: '' }), true);
    assert.equal(m('!app', { app: 'x' }), false);
    assert.equal(m('rank>3', { rank: '5' }), true);
    assert.equal(m('rank<3', { rank: 'x' }), false);
    assert.equal(m('app.kubernetes.io/name=web', { 'app.kubernetes.io/name': 'web' }), true);
    assert.equal(m('', { any: 'thing' }), true);
  });
  test('bad selectors name the problem', () => {
    assert.throws(() => parseLabelSelector('a in ('), SelectorError);
    assert.throws(() => parseLabelSelector('a=b,,c'), /found ','/);
    assert.throws(() => parseLabelSelector('a=b c'), /unable to parse requirement/);
    assert.throws(() => parseLabelSelector('rank>x'), /must be an integer/);
  });
});

describe('field selectors', () => {
  const pod = { metadata: { name: 'p', namespace: 'ns' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } };
  test('supported fields match with = == and !=; unset fields are empty strings', () => {
    const sup = ['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase'];
    assert.equal(matchesFields(parseFieldSelector('spec.nodeName=n1,status.phase!=Failed', sup), pod), true);
    assert.equal(matchesFields(parseFieldSelector('metadata.name==q', sup), pod), false);
    assert.equal(matchesFields(parseFieldSelector('spec.nodeName=', sup), { metadata: {}, spec: {} }), true);
  });
  test('an unsupported field label is refused', () => {
    assert.throws(() => parseFieldSelector('spec.foo=x', ['metadata.name']), /field label not supported: spec.foo/);
  });
});

describe('patches', () => {
  const obj = {
    metadata: { labels: { a: '1', b: '2' }, finalizers: ['x'] },
    spec: {
      containers: [
        { name: 'c1', image: 'i1' },
        { name: 'c2', image: 'i2' },
      ],
    },
  };
  test('merge patch: null deletes, objects merge, lists replace', () => {
    assert.deepEqual(mergePatch(obj, { metadata: { labels: { a: null, c: '3' } } }).metadata.labels, {
      b: '2',
      c: '3',
    });
    assert.deepEqual(mergePatch(obj, { spec: { containers: [{ name: 'c3' }] } }).spec.containers, [{ name: 'c3' }]);
  });
  test('strategic merge: containers merge by name, $patch delete, finalizers as a set, $setElementOrder ignored', () => {
    const out = strategicMergePatch(
      obj,
      {
        $setElementOrder: 1,
        '$setElementOrder/containers': [{ name: 'c1' }],
        metadata: { finalizers: ['y', 'x'] },
        spec: {
          containers: [
            { name: 'c2', image: 'i2b' },
            { name: 'c1', $patch: 'delete' },
            { name: 'c9', image: 'i9' },
          ],
        },
      },
      '',
    );
    assert.deepEqual(out.spec.containers, [
      { name: 'c2', image: 'i2b' },
      { name: 'c9', image: 'i9' },
    ]);
    assert.deepEqual(out.metadata.finalizers, ['x', 'y']);
    assert.equal(out.$setElementOrder, 1, 'only the $setElementOrder/<list> directives are dropped');
  });
  test('JSON patch: add, remove, replace, move, copy, test; escaped pointers', () => {
    const out = jsonPatch(obj, [
      { op: 'add', path: '/metadata/labels/app.kubernetes.io~1name', value: 'w' },
      { op: 'remove', path: '/metadata/labels/a' },
      { op: 'replace', path: '/spec/containers/0/image', value: 'new' },
      { op: 'copy', from: '/spec/containers/0', path: '/spec/containers/-' },
      { op: 'move', from: '/metadata/labels/b', path: '/metadata/labels/bb' },
      { op: 'test', path: '/spec/containers/2/image', value: 'new' },
    ]);
    assert.deepEqual(out.metadata.labels, { 'app.kubernetes.io/name': 'w', bb: '2' });
    assert.deepEqual(
      out.spec.containers.map((c: any) => c.image),
      ['new', 'i2', 'new'],
    );
    assert.throws(() => jsonPatch(obj, [{ op: 'remove', path: '/nope' }]), ApiError);
    assert.throws(
      () => jsonPatch(obj, [{ op: 'test', path: '/metadata/labels/a', value: 'x' }]),
      (e: unknown) => e instanceof ApiError && e.code === 422,
    );
  });
  test('the content type picks the patch kind; unknown types are 415', () => {
    assert.deepEqual(applyPatch('application/merge-patch+json; charset=utf-8', { a: 1 }, '{"b":2}'), { a: 1, b: 2 });
    assert.throws(
      () => applyPatch('application/apply-patch+yaml', {}, '{}'),
      (e: unknown) => e instanceof ApiError && e.code === 415,
    );
    assert.throws(
      () => applyPatch('application/merge-patch+json', {}, '{nope'),
      (e: unknown) => e instanceof ApiError && e.code === 400,
    );
  });
});

describe('admission', () => {
  const np = findResource('networking.k8s.io', 'v1', 'networkpolicies')!;
  const pods = findResource('', 'v1', 'pods')!;
  test('defaults like kube-apiserver: policyTypes, port protocol, pod service account', () => {
    const policy = admit(
      np,
      checkEnvelope(
        np,
        { metadata: { name: 'p' }, spec: { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] } },
        'ns',
      ),
    );
    assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
    assert.equal(policy.spec.egress[0].ports[0].protocol, 'TCP');
    assert.equal(policy.apiVersion, 'networking.k8s.io/v1');
    const pod = admit(
      pods,
      checkEnvelope(pods, { metadata: { name: 'x' }, spec: { containers: [{ name: 'c' }] } }, 'ns'),
    );
    assert.equal(pod.spec.serviceAccountName, 'default');
    assert.equal(pod.metadata.namespace, 'ns');
  });
  test('refusals: 422 with a cause per field, 400 for a mismatched namespace or kind', () => {
    assert.throws(
      () => admit(pods, checkEnvelope(pods, { metadata: { name: 'Bad_Name' }, spec: { containers: [] } }, 'ns')),
      (e: unknown) =>
        e instanceof ApiError && e.code === 422 && e.status.details!.causes![0]!.field === 'metadata.name',
    );
    assert.throws(
      () => checkEnvelope(pods, { metadata: { name: 'x', namespace: 'a' } }, 'b'),
      /does not match the namespace/,
    );
    assert.throws(() => checkEnvelope(pods, { kind: 'Node', metadata: { name: 'x' } }, 'b'), /do not match/);
    const leases = findResource('coordination.k8s.io', 'v1', 'leases')!;
    assert.throws(
      () => admit(leases, checkEnvelope(leases, { metadata: { name: 'l' }, spec: { leaseDurationSeconds: -1 } }, 'ns')),
      /spec.leaseDurationSeconds/,
    );
  });
});

describe('tokens and flags', () => {
  test('service-account JWTs: signed, expiring, bound to the account uid', () => {
    let now = 1_000_000_000_000;
    const auth = new TokenAuthority('admin-secret', Buffer.from('k'.repeat(32)), undefined, () => now);
    const { token, expiresAt } = auth.issue('kube-system', 'cni', 'uid-1', 600, []);
    assert.equal(expiresAt.getTime(), now + 600_000);
    const claims = auth.verify(token)!;
    assert.equal(claims.sub, 'system:serviceaccount:kube-system:cni');
    assert.equal(claims['kubernetes.io'].serviceaccount.uid, 'uid-1');
    const forged = token.slice(0, -3) + (token.endsWith('AAA') ? 'BBB' : 'AAA');
    assert.equal(auth.verify(forged), undefined);
    const other = new TokenAuthority('admin-secret', Buffer.from('o'.repeat(32)), undefined, () => now);
    assert.equal(other.verify(token), undefined, 'another signing key');
    now += 600_000;
    assert.equal(auth.verify(token), undefined, 'expired');
  });
  test('--listen and --data-dir; bad flags name themselves', () => {
    assert.deepEqual(parseApiServerFlags(['--listen', '10.0.0.1:6443', '--data-dir=/d']), {
      host: '10.0.0.1',
      port: 6443,
      dataDir: '/d',
      minTokenSeconds: undefined,
      bookmarkIntervalMs: undefined,
    });
    assert.equal(parseApiServerFlags(['--listen', '[fd00::1]:443', '--data-dir', '/d']).host, 'fd00::1');
    assert.throws(() => parseApiServerFlags(['--data-dir', '/d', '--listen', 'nope']), /--listen: expected ADDR:PORT/);
    assert.throws(() => parseApiServerFlags(['--listen', '1.2.3.4:1']), /--data-dir is required/);
    assert.throws(
      () => parseApiServerFlags(['--data-dir', '/d', '--min-token-seconds', '0']),
      /--min-token-seconds: must be a positive integer/,
    );
    assert.throws(() => parseApiServerFlags(['--bogus']), /unknown flag "--bogus"/);
  });
});
