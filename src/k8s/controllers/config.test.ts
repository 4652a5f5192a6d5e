import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateResource } from '../../api/validate/index.js';
import {
  ConfigError,
  DEFAULT_KUBE_CONTROLLERS_SPEC,
  enabledControllersFromEnv,
  formatGoDuration,
  parseGoDuration,
  runConfigFrom,
  runningConfigOf,
} from './config.js';

describe('KubeControllersConfiguration -> run settings', () => {
  test('Calico defaults: five controllers every 5 minutes, 15 minute leak grace, metrics on 9094', () => {
    const c = runConfigFrom(DEFAULT_KUBE_CONTROLLERS_SPEC);
    assert.deepEqual(Object.keys(c.controllers).sort(), [
      'namespace',
      'node',
      'policy',
      'serviceaccount',
      'workloadendpoint',
    ]);
    assert.equal(c.controllers.policy?.reconcilerPeriodMs, 300_000);
    assert.equal(c.leakGracePeriodMs, 900_000);
    assert.equal(c.prometheusMetricsPort, 9094);
    assert.equal(c.syncLabels, true);
    assert.equal(c.healthChecks, true);
  });

  test('the default resource we write passes the datastore validator', () => {
    validateResource({
      apiVersion: 'projectcalico.org/v3',
      kind: 'KubeControllersConfiguration',
      metadata: { name: 'default' },
      spec: DEFAULT_KUBE_CONTROLLERS_SPEC,
    });
  });

  test('a controller runs only when its section is present', () => {
    const c = runConfigFrom({ controllers: { policy: {}, node: { leakGracePeriod: '0' } } });
    assert.deepEqual(Object.keys(c.controllers).sort(), ['node', 'policy']);
    assert.equal(c.controllers.policy?.reconcilerPeriodMs, 300_000, 'missing period takes the default');
    assert.equal(c.leakGracePeriodMs, 0, '0 disables leak release');
  });

  test('ENABLED_CONTROLLERS overrides the set; periods still come from the resource', () => {
    const c = runConfigFrom(
      { controllers: { namespace: { reconcilerPeriod: '30s' } } },
      { ENABLED_CONTROLLERS: 'namespace, pod,policy' },
    );
    assert.deepEqual(Object.keys(c.controllers), ['namespace', 'workloadendpoint', 'policy']);
    assert.equal(c.controllers.namespace?.reconcilerPeriodMs, 30_000);
  });

  test('an empty ENABLED_CONTROLLERS is the same as unset', () => {
    assert.equal(enabledControllersFromEnv(''), undefined);
    assert.equal(enabledControllersFromEnv(undefined), undefined);
  });

  test('an unknown controller name is refused, naming the variable', () => {
    assert.throws(
      () => enabledControllersFromEnv('node,flannel'),
      (e: Error) => e instanceof ConfigError && /ENABLED_CONTROLLERS: unknown controller "flannel"/.test(e.message),
    );
  });

  test('a zero reconciler period is refused, naming the field', () => {
    assert.throws(
      () => runConfigFrom({ controllers: { policy: { reconcilerPeriod: '0s' } } }),
      /spec\.controllers\.policy\.reconcilerPeriod: must be more than 0/,
    );
  });

  test('status.runningConfig: the effective settings in the resource shape, accepted by the validator', () => {
    const spec = { controllers: { node: { leakGracePeriod: '90s' }, policy: { reconcilerPeriod: '1h' } } };
    const running = runningConfigOf(runConfigFrom(spec, { ENABLED_CONTROLLERS: 'node,policy,namespace' }), spec);
    assert.deepEqual(running.controllers, {
      node: { reconcilerPeriod: '5m0s', syncLabels: 'Enabled', leakGracePeriod: '1m30s' },
      policy: { reconcilerPeriod: '1h0m0s' },
      namespace: { reconcilerPeriod: '5m0s' },
    });
    validateResource({
      apiVersion: 'projectcalico.org/v3',
      kind: 'KubeControllersConfiguration',
      metadata: { name: 'default' },
      spec,
      status: { runningConfig: running, environmentVars: { ENABLED_CONTROLLERS: 'node,policy,namespace' } },
    });
  });

  test('Go durations', () => {
    assert.equal(formatGoDuration(250), '250ms');
    assert.equal(formatGoDuration(0), '0s');
    assert.equal(formatGoDuration(90_000), '1m30s');
    assert.equal(parseGoDuration('1m30s', 'x'), 90_000);
    assert.equal(parseGoDuration('250ms', 'x'), 250);
    assert.equal(parseGoDuration('1h', 'x'), 3_600_000);
    assert.equal(parseGoDuration('0', 'x'), 0);
    assert.throws(() => parseGoDuration('5 minutes', 'spec.x'), /spec\.x: "5 minutes" is not a duration/);
  });
});
