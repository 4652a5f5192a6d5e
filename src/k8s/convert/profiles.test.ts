import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Namespace, Pod, ServiceAccount } from '../../api/k8s/types.js';
import { validateResource } from '../../api/validate/index.js';
import { namespaceToProfile, serviceAccountToProfile } from './profiles.js';
import { podWorkloadEndpointLabels } from './pod.js';
import { namespaceSelectorToCalico, podSelectorToCalico } from './selector.js';

describe('Namespace -> Profile kns.<ns>', () => {
  test('pcns. labels, the name label and allow-all rules both ways', () => {
    const ns: Namespace = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'prod', labels: { team: 'a', 'kubernetes.io/metadata.name': 'prod' } },
    };
    const p = namespaceToProfile(ns);
    assert.deepEqual(p, {
      apiVersion: 'projectcalico.org/v3',
      kind: 'Profile',
      metadata: { name: 'kns.prod' },
      spec: {
        ingress: [{ action: 'Allow' }],
        egress: [{ action: 'Allow' }],
        labelsToApply: {
          'pcns.team': 'a',
          'pcns.kubernetes.io/metadata.name': 'prod',
          'pcns.projectcalico.org/name': 'prod',
        },
      },
    });
    validateResource(p);
  });
  test('a namespace without labels still gets the name label', () => {
    const p = namespaceToProfile({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } });
    assert.deepEqual(p.spec.labelsToApply, { 'pcns.projectcalico.org/name': 'x' });
  });

  test('a label the prefix would make invalid is left out and reported; the profile stays valid', () => {
    const long = 'k'.repeat(60);
    const dropped: string[] = [];
    const p = namespaceToProfile(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', labels: { [long]: 'v', ok: 'y' } } },
      dropped,
    );
    assert.deepEqual(dropped, [long]);
    assert.deepEqual(p.spec.labelsToApply, { 'pcns.ok': 'y', 'pcns.projectcalico.org/name': 'x' });
    validateResource(p);
  });
});

describe('ServiceAccount -> Profile ksa.<ns>.<sa>', () => {
  test('pcsa. labels and the name label, no rules', () => {
    const sa: ServiceAccount = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'builder', namespace: 'ci', labels: { role: 'build' } },
    };
    const p = serviceAccountToProfile(sa);
    assert.deepEqual(p, {
      apiVersion: 'projectcalico.org/v3',
      kind: 'Profile',
      metadata: { name: 'ksa.ci.builder' },
      spec: { labelsToApply: { 'pcsa.role': 'build', 'pcsa.projectcalico.org/name': 'builder' } },
    });
    validateResource(p);
  });
});

describe('Pod -> WorkloadEndpoint labels', () => {
  const pod = (spec: Record<string, unknown>, labels?: Record<string, string>): Pod =>
    ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-0', namespace: 'prod', ...(labels ? { labels } : {}) },
      spec: { containers: [{ name: 'c' }], ...spec },
    }) as Pod;

  test('pod labels plus namespace, orchestrator and service account', () => {
    assert.deepEqual(podWorkloadEndpointLabels(pod({ serviceAccountName: 'web' }, { app: 'web' })), {
      app: 'web',
      'projectcalico.org/namespace': 'prod',
      'projectcalico.org/orchestrator': 'k8s',
      'projectcalico.org/serviceaccount': 'web',
    });
  });
  test('Calico labels win over pod labels of the same key', () => {
    const l = podWorkloadEndpointLabels(pod({}, { 'projectcalico.org/namespace': 'other' }));
    assert.equal(l['projectcalico.org/namespace'], 'prod');
  });
  test('a 63-character service account name gets no label', () => {
    const l = podWorkloadEndpointLabels(pod({ serviceAccountName: 'a'.repeat(63) }));
    assert.equal(l['projectcalico.org/serviceaccount'], undefined);
    assert.equal(
      podWorkloadEndpointLabels(pod({ serviceAccountName: 'a'.repeat(62) }))['projectcalico.org/serviceaccount'],
      'a'.repeat(62),
    );
  });
  test('legacy spec.serviceAccount is used when serviceAccountName is empty', () => {
    assert.equal(podWorkloadEndpointLabels(pod({ serviceAccount: 'old' }))['projectcalico.org/serviceaccount'], 'old');
  });
});

describe('label selectors', () => {
  test('absent pod selector: orchestrator term; absent namespace selector: empty', () => {
    assert.equal(podSelectorToCalico(undefined), "projectcalico.org/orchestrator == 'k8s'");
    assert.equal(namespaceSelectorToCalico(undefined), '');
  });
});
