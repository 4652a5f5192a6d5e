import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectProblem, expectValid, resource } from '../testing/expect.js';
import { resourceProblems } from './index.js';

describe('names', () => {
  test('name is required', () =>
    expectProblem(resource('IPPool', { cidr: '10.0.0.0/16' }, {}), 'metadata.name', /required/));
  test('default names are DNS-1123 subdomains', () =>
    expectProblem(resource('GlobalNetworkSet', {}, { name: 'My_Set' }), 'metadata.name', /invalid name/));
  test('names are at most 253 characters', () =>
    expectProblem(
      resource('GlobalNetworkSet', {}, { name: `${'a'.repeat(60)}.`.repeat(4) + 'a'.repeat(20) }),
      'metadata.name',
      /too long by/,
    ));
  test('NetworkPolicy names: label or tier.label', () => {
    expectValid(resource('NetworkPolicy', {}, { name: 'allow-dns', namespace: 'a' }));
    expectValid(resource('NetworkPolicy', {}, { name: 'security.allow-dns', namespace: 'a' }));
    expectProblem(
      resource('NetworkPolicy', {}, { name: 'a.b.c', namespace: 'a' }),
      'metadata.name',
      /invalid policy name/,
    );
  });
  test('knp.default. prefix allows a subdomain', () =>
    expectValid(resource('NetworkPolicy', {}, { name: 'knp.default.allow.web', namespace: 'a' })));
  test('knp.default. names are reserved when a user writes them', () => {
    const obj = resource('NetworkPolicy', {}, { name: 'knp.default.allow', namespace: 'a' });
    assert.equal(resourceProblems(obj, 0, { userWrite: true }).problems[0]?.path, 'metadata.name');
    assert.match(resourceProblems(obj, 0, { userWrite: true }).problems[0]?.reason ?? '', /Kubernetes API/);
  });
  test('GlobalNetworkPolicy names take at most one dot', () =>
    expectProblem(
      resource('GlobalNetworkPolicy', {}, { name: 'knp.default.x' }),
      'metadata.name',
      /invalid policy name/,
    ));
  test('namespace must be a DNS label', () =>
    expectProblem(
      resource('NetworkSet', {}, { name: 'n1', namespace: 'Prod' }),
      'metadata.namespace',
      /DNS-1123 label/,
    ));
  test('cluster-scoped kinds have no namespace', () =>
    expectProblem(
      resource('GlobalNetworkSet', {}, { name: 'n1', namespace: 'prod' }),
      'metadata.namespace',
      /not namespaced/,
    ));
  test('singleton kinds are named default', () =>
    expectProblem(resource('ClusterInformation', {}, { name: 'cluster' }), 'metadata.name', /named "default"/));
});

describe('labels and annotations', () => {
  test('label keys follow Kubernetes syntax', () =>
    expectProblem(
      resource('GlobalNetworkSet', {}, { name: 'n', labels: { 'bad key': 'x' } }),
      'metadata.labels["bad key"]',
      /invalid key/,
    ));
  test('label key prefixes are DNS subdomains', () =>
    expectProblem(
      resource('GlobalNetworkSet', {}, { name: 'n', labels: { 'Example.com/a': 'x' } }),
      'metadata.labels["Example.com/a"]',
      /prefix/,
    ));
  test('label values are at most 63 characters', () =>
    expectProblem(
      resource('GlobalNetworkSet', {}, { name: 'n', labels: { a: 'v'.repeat(64) } }),
      'metadata.labels.a',
      /invalid label value/,
    ));
  test('label values must be strings', () =>
    expectProblem(
      resource('GlobalNetworkSet', {}, { name: 'n', labels: { a: 1 } }),
      'metadata.labels.a',
      /must be a string/,
    ));
  test('projectcalico.org/namespace is reserved on network sets', () =>
    expectProblem(
      resource('NetworkSet', {}, { name: 'n', namespace: 'a', labels: { 'projectcalico.org/namespace': 'a' } }),
      'metadata.labels["projectcalico.org/namespace"]',
      /reserved/,
    ));
  test('annotation keys follow Kubernetes syntax', () =>
    expectProblem(
      resource('GlobalNetworkSet', {}, { name: 'n', annotations: { '-x': 'y' } }),
      'metadata.annotations["-x"]',
      /invalid key/,
    ));
  test('unknown metadata fields are refused', () =>
    expectProblem(resource('GlobalNetworkSet', {}, { name: 'n', tags: ['x'] }), 'metadata.tags', /unknown field/));
});

describe('envelope', () => {
  test('apiVersion must be projectcalico.org/v3', () =>
    expectProblem(
      { apiVersion: 'v1', kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/16' } },
      'apiVersion',
      /projectcalico\.org\/v3/,
    ));
  test('unknown kind', () =>
    expectProblem(
      { apiVersion: 'projectcalico.org/v3', kind: 'Pool', metadata: { name: 'p' } },
      'kind',
      /unknown kind "Pool"/,
    ));
  test('unknown top-level field', () =>
    expectProblem({ ...resource('Tier', {}, { name: 't' }), extra: 1 }, 'extra', /unknown field/));
  test('spec must be an object', () =>
    expectProblem(resource('Tier', 'x' as never, { name: 't' }), 'spec', /must be an object/));
});
