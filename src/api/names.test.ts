import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labelKeyProblem, nameProblem, workloadEndpointName } from './names.js';

describe('names', () => {
  test('WorkloadEndpoint names double the dashes inside each part', () => {
    assert.equal(
      workloadEndpointName({ node: 'node-1', orchestrator: 'k8s', workload: 'web-0', endpoint: 'eth0' }),
      'node--1-k8s-web--0-eth0',
    );
    assert.equal(
      workloadEndpointName({ node: 'n1', orchestrator: 'cni', workload: 'abc', endpoint: 'eth0' }),
      'n1-cni-abc-eth0',
    );
  });
  test('tier names: DNS label, 63 characters at most', () => {
    assert.equal(nameProblem('Tier', 'a'.repeat(63)), undefined);
    assert.match(nameProblem('Tier', 'a'.repeat(64)) ?? '', /too long/);
  });
  test('label keys: prefix and name', () => {
    assert.equal(labelKeyProblem('app.kubernetes.io/name'), undefined);
    assert.match(labelKeyProblem(`a/${'b'.repeat(64)}`) ?? '', /1-63/);
  });
});
