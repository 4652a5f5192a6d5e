import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryDatastore } from '../../datastore/memory.js';
import { resourceKey } from '../../datastore/keys.js';
import { EndpointStore, type WorkloadEndpoint } from './endpoints.js';

const RFC3339_SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

const wep = (containerID: string): WorkloadEndpoint => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'WorkloadEndpoint',
  metadata: { name: 'node1-k8s-web-eth0', namespace: 'prod', labels: {} },
  spec: {
    orchestrator: 'k8s',
    node: 'node1',
    pod: 'web',
    containerID,
    endpoint: 'eth0',
    ipNetworks: ['10.0.0.5/32'],
    profiles: ['kns.prod'],
    interfaceName: 'cali0123456789a',
  },
});

describe('EndpointStore', () => {
  test('stored endpoints and profiles carry creationTimestamp in whole seconds, as the resource client writes it', async () => {
    const ds = new MemoryDatastore();
    const store = new EndpointStore(ds);
    await store.write(wep('c1'));
    const stored = await store.get('prod', 'node1-k8s-web-eth0');
    assert.match(String(stored?.metadata.creationTimestamp), RFC3339_SECONDS);
    await store.ensureNetworkProfile('net1', 'cni');
    const profile = JSON.parse((await ds.get(resourceKey('Profile', 'net1')))!.value);
    assert.match(profile.metadata.creationTimestamp, RFC3339_SECONDS);
  });

  test('DEL of an older sandbox keeps the endpoint a newer container owns', async () => {
    const store = new EndpointStore(new MemoryDatastore());
    await store.write(wep('new'));
    assert.equal(await store.deleteOwned('prod', 'node1-k8s-web-eth0', 'old'), undefined);
    assert.ok(await store.get('prod', 'node1-k8s-web-eth0'));
    assert.ok(await store.deleteOwned('prod', 'node1-k8s-web-eth0', 'new'));
    assert.equal(await store.get('prod', 'node1-k8s-web-eth0'), undefined);
  });
});
