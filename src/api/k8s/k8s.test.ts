import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResourceValidationError } from '../problems.js';
import { defaultKubernetesObject } from './defaults.js';
import type { KubernetesObject } from './types.js';
import { kubernetesObjectProblems, validateKubernetesObject } from './validate.js';

const np = (spec: Record<string, unknown>): KubernetesObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'np1', namespace: 'prod' },
  spec,
});

function paths(obj: unknown): string[] {
  return kubernetesObjectProblems(obj).problems.map((p) => p.path);
}

describe('kube-apiserver defaulting', () => {
  test('policyTypes: Ingress only without egress rules', () => {
    assert.deepEqual(defaultKubernetesObject(np({ podSelector: {} })).spec?.policyTypes, ['Ingress']);
  });
  test('policyTypes: Ingress and Egress when egress rules exist', () => {
    assert.deepEqual(defaultKubernetesObject(np({ podSelector: {}, egress: [{}] })).spec?.policyTypes, [
      'Ingress',
      'Egress',
    ]);
  });
  test('policyTypes: an empty egress list adds no Egress', () => {
    assert.deepEqual(defaultKubernetesObject(np({ podSelector: {}, egress: [] })).spec?.policyTypes, ['Ingress']);
  });
  test('policyTypes given are kept', () => {
    assert.deepEqual(defaultKubernetesObject(np({ podSelector: {}, policyTypes: ['Egress'] })).spec?.policyTypes, [
      'Egress',
    ]);
  });
  test('ports default to TCP', () => {
    const out = defaultKubernetesObject(
      np({ podSelector: {}, ingress: [{ ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] }] }),
    );
    assert.deepEqual(out.spec?.ingress[0].ports, [
      { port: 80, protocol: 'TCP' },
      { port: 53, protocol: 'UDP' },
    ]);
  });
  test('Namespace gets kubernetes.io/metadata.name, overwriting another value', () => {
    const out = defaultKubernetesObject<KubernetesObject>({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'prod', labels: { 'kubernetes.io/metadata.name': 'x', team: 'a' } },
    });
    assert.deepEqual(out.metadata.labels, { 'kubernetes.io/metadata.name': 'prod', team: 'a' });
  });
  test('Pod serviceAccountName defaults to default', () => {
    const out = defaultKubernetesObject<KubernetesObject>({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: { containers: [{ name: 'c' }] },
    });
    assert.equal(out.spec?.serviceAccountName, 'default');
    assert.equal(out.metadata.namespace, 'default');
  });
  test('Pod legacy serviceAccount is copied', () => {
    const out = defaultKubernetesObject<KubernetesObject>({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'a' },
      spec: { serviceAccount: 'api', containers: [] },
    });
    assert.equal(out.spec?.serviceAccountName, 'api');
  });
  test('mirror pods get no service account', () => {
    const out = defaultKubernetesObject<KubernetesObject>({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'a', annotations: { 'kubernetes.io/config.mirror': 'x' } },
      spec: { containers: [] },
    });
    assert.equal(out.spec?.serviceAccountName, undefined);
  });
  test('defaulting is idempotent', () => {
    const once = defaultKubernetesObject(np({ podSelector: {}, egress: [{ ports: [{ port: 1 }] }] }));
    assert.deepEqual(defaultKubernetesObject(once), once);
  });
});

describe('Kubernetes validation', () => {
  test('a defaulted NetworkPolicy is valid', () => {
    const obj = defaultKubernetesObject(
      np({
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [
          {
            from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }],
            ports: [{ port: 5432, endPort: 5433 }],
          },
        ],
      }),
    );
    assert.equal(validateKubernetesObject(obj), obj);
  });
  test('name is required', () =>
    assert.deepEqual(paths({ apiVersion: 'v1', kind: 'Namespace', metadata: {} }), ['metadata.name']));
  test('Namespace names are DNS labels', () =>
    assert.deepEqual(paths({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a.b' } }), ['metadata.name']));
  test('NetworkPolicy port range', () =>
    assert.deepEqual(paths(np({ podSelector: {}, ingress: [{ ports: [{ port: 65536 }] }] })), [
      'spec.ingress[0].ports[0].port',
    ]));
  test('endPort not below port', () =>
    assert.deepEqual(paths(np({ podSelector: {}, egress: [{ ports: [{ port: 90, endPort: 80 }] }] })), [
      'spec.egress[0].ports[0].endPort',
    ]));
  test('ipBlock cidr must be a CIDR', () =>
    assert.deepEqual(paths(np({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.1' } }] }] })), [
      'spec.ingress[0].from[0].ipBlock.cidr',
    ]));
  test('ipBlock except within cidr', () =>
    assert.deepEqual(
      paths(
        np({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.2.0.0/24'] } }] }] }),
      ),
      ['spec.ingress[0].from[0].ipBlock.except[0]'],
    ));
  test('ipBlock not with selectors', () =>
    assert.deepEqual(
      paths(np({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] })),
      ['spec.ingress[0].from[0]'],
    ));
  test('matchExpressions In needs values', () =>
    assert.deepEqual(paths(np({ podSelector: { matchExpressions: [{ key: 'a', operator: 'In' }] } })), [
      'spec.podSelector.matchExpressions[0].values',
    ]));
  test('unknown NetworkPolicy fields are refused', () =>
    assert.deepEqual(paths(np({ podSelector: {}, action: 'Allow' })), ['spec.action']));
  test('container ports', () =>
    assert.deepEqual(
      paths({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p', namespace: 'a' },
        spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 0 }] }] },
      }),
      ['spec.containers[0].ports[0].containerPort'],
    ));
  test('wrong apiVersion for the kind', () =>
    assert.deepEqual(paths({ ...np({ podSelector: {} }), apiVersion: 'v1' }), ['apiVersion']));
  test('validateKubernetesObject throws every problem', () => {
    assert.throws(
      () => validateKubernetesObject({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'A' } }),
      ResourceValidationError,
    );
  });
});

describe('Kubernetes required fields', () => {
  test('a Pod needs containers', () =>
    assert.deepEqual(paths({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'a' } }), [
      'spec.containers',
    ]));
});
