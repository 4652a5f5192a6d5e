import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetConf } from '../skel/types.js';
import { DEFAULT_POD_ROUTES, podRouteDestinations } from './pod-routes.js';

const conf = (ipam: Record<string, unknown>, extra: Record<string, unknown> = {}): NetConf =>
  ({ cniVersion: '1.0.0', name: 'n', type: 'calico', ipam, ...extra }) as NetConf;

test("a Kubernetes pod on host-local gets ipam.routes' destinations instead of the defaults", () => {
  const c = conf({ type: 'host-local', routes: [{ dst: '10.200.0.0/16', gw: '10.0.0.1' }, { dst: 'fd00:1::5/64' }] });
  assert.deepEqual(podRouteDestinations(c, 'k8s'), ['10.200.0.0/16', 'fd00:1::/64']);
  // include_default_routes puts Calico's defaults in front.
  assert.deepEqual(podRouteDestinations({ ...c, include_default_routes: true }, 'k8s'), [
    '0.0.0.0/0',
    '::/0',
    '10.200.0.0/16',
    'fd00:1::/64',
  ]);
});

test('the defaults everywhere else: other IPAM, no routes, routes without dst, or orchestrator cni', () => {
  const routes = [{ dst: '10.200.0.0/16' }];
  assert.deepEqual(podRouteDestinations(conf({ type: 'calico-ipam', routes }), 'k8s'), DEFAULT_POD_ROUTES);
  assert.deepEqual(podRouteDestinations(conf({ type: 'host-local' }), 'k8s'), DEFAULT_POD_ROUTES);
  assert.deepEqual(
    podRouteDestinations(conf({ type: 'host-local', routes: [{ gw: '1.2.3.4' }] }), 'k8s'),
    DEFAULT_POD_ROUTES,
  );
  assert.deepEqual(podRouteDestinations(conf({ type: 'host-local', routes }), 'cni'), DEFAULT_POD_ROUTES);
});

test('a malformed routes section is a config error naming it', () => {
  assert.throws(() => podRouteDestinations(conf({ type: 'host-local', routes: {} }), 'k8s'), {
    code: 7,
    message: /host-local IPAM routes section; expecting list/,
  });
  assert.throws(() => podRouteDestinations(conf({ type: 'host-local', routes: [{ dst: 5 }] }), 'k8s'), {
    message: /expecting 'dst' to be a string/,
  });
  assert.throws(() => podRouteDestinations(conf({ type: 'host-local', routes: [{ dst: '10.1.2.3' }] }), 'k8s'), {
    message: /ipam.routes: dst "10.1.2.3" is not a CIDR/,
  });
});
