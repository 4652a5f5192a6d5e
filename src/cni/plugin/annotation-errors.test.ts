// The address annotations' refusals in Calico's own words (kubelet events and users' alerts match on them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANNOTATION, type PodInfo } from '../k8s/pod.js';
import type { CniRequest } from '../skel/types.js';
import { parseCalicoConfig } from './config.js';
import { allowedSourcePrefixes, assignAddresses, floatingIpNats } from './addresses.js';
import type { PluginDeps } from './deps.js';
import type { WorkloadIdentity } from './workload.js';

const info = (annotations: Record<string, string>): PodInfo =>
  ({
    labels: {},
    annotations,
    namespaceAnnotations: {},
    namespaceLabels: {},
    serviceAccountName: 'default',
    ports: [],
  }) as PodInfo;

/** Runs assignAddresses up to its checks; deps are never reached when a check refuses. */
function assign(ipamType: string, annotations: Record<string, string>, features: Record<string, boolean> = {}) {
  const raw = { cniVersion: '1.0.0', name: 'n', type: 'calico', ipam: { type: ipamType }, feature_control: features };
  const conf = parseCalicoConfig(raw, {});
  const req = { command: 'ADD', containerId: 'c1', ifName: 'eth0', args: {}, path: [], config: raw, env: {} };
  return assignAddresses({
    req: req as unknown as CniRequest,
    conf,
    id: { handleId: 'n.c1' } as WorkloadIdentity,
    node: 'node1',
    info: info(annotations),
    existing: undefined,
    deps: {} as PluginDeps,
    undo: [],
  });
}

test('ipAddrs and ipAddrsNoIpam together are refused', async () => {
  await assert.rejects(
    assign('calico-ipam', { [ANNOTATION.ipAddrs]: '["10.0.0.1"]', [ANNOTATION.ipAddrsNoIpam]: '["10.0.0.2"]' }),
    { message: "can't have both annotations: 'ipAddrs' and 'ipAddrsNoIpam' in use at the same time" },
  );
});

test('ipAddrsNoIpam: calico-ipam only, then its feature flag', async () => {
  const noIpam = { [ANNOTATION.ipAddrsNoIpam]: '["10.0.0.2"]' };
  await assert.rejects(assign('host-local', noIpam, { ip_addrs_no_ipam: true }), {
    code: 999,
    message: 'ipAddrsNoIpam is not compatible with configured IPAM: host-local',
  });
  await assert.rejects(assign('calico-ipam', noIpam), {
    code: 999,
    message: 'requested feature is not enabled: ip_addrs_no_ipam',
  });
  assert.deepEqual(await assign('calico-ipam', noIpam, { ip_addrs_no_ipam: true }), {
    addresses: ['10.0.0.2/32'],
    source: 'ipAddrsNoIpam',
    routes: [],
  });
});

test('ipAddrs needs calico-ipam', async () => {
  await assert.rejects(assign('host-local', { [ANNOTATION.ipAddrs]: '["10.0.0.1"]' }), {
    message: 'ipAddrs is not compatible with configured IPAM: host-local',
  });
});

test('a floating IP that is no address is refused before the endpoint is written', () => {
  const conf = parseCalicoConfig(
    {
      cniVersion: '1.0.0',
      name: 'n',
      type: 'calico',
      ipam: { type: 'calico-ipam' },
      feature_control: { floating_ips: true },
    },
    {},
  );
  assert.throws(() => floatingIpNats(conf, info({ [ANNOTATION.floatingIPs]: '["1.2.3.x"]' }), ['10.0.0.5/32']), {
    message: 'annotation cni.projectcalico.org/floatingIPs: "1.2.3.x" is not an IP address',
  });
});

test('allowedSourcePrefixes: addresses become /32 or /128, CIDRs their network; anything else is refused', () => {
  const prefixes = '["192.0.2.7", "198.51.100.9/24", "fd00::1"]';
  assert.deepEqual(allowedSourcePrefixes(info({ [ANNOTATION.allowedSourcePrefixes]: prefixes })), [
    '192.0.2.7/32',
    '198.51.100.0/24',
    'fd00::1/128',
  ]);
  assert.equal(allowedSourcePrefixes(info({})), undefined);
  assert.throws(() => allowedSourcePrefixes(info({ [ANNOTATION.allowedSourcePrefixes]: '["nope"]' })), {
    message: "failed to parse 'nope' as an IP address or CIDR",
  });
});
