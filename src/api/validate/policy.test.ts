import { describe, test } from 'node:test';
import { expectProblem, expectValid, resource } from '../testing/expect.js';

const gnp = (spec: Record<string, unknown>, name = 'p1') => resource('GlobalNetworkPolicy', spec, { name });
const np = (spec: Record<string, unknown>, name = 'p1') => resource('NetworkPolicy', spec, { name, namespace: 'prod' });

describe('policy specs', () => {
  test('a full NetworkPolicy is valid', () =>
    expectValid(
      np({ tier: 'default', order: 100, selector: 'app == "db"', types: ['Ingress'], ingress: [{ action: 'Allow' }] }),
    ));
  test('selector syntax', () =>
    expectProblem(np({ selector: 'app ==' }), 'spec.selector', /invalid selector: .*position/));
  test('global() not allowed in spec.selector', () =>
    expectProblem(gnp({ selector: 'global()' }), 'spec.selector', /global\(\)/));
  test('global() not allowed in spec.namespaceSelector', () =>
    expectProblem(gnp({ namespaceSelector: 'global()' }), 'spec.namespaceSelector', /global\(\)/));
  test('global() not allowed in serviceAccountSelector', () =>
    expectProblem(np({ serviceAccountSelector: 'global()' }), 'spec.serviceAccountSelector', /global\(\)/));
  test('types values', () => expectProblem(np({ types: ['Inbound'] }), 'spec.types[0]', /Ingress, Egress/));
  test('types without duplicates', () =>
    expectProblem(np({ types: ['Ingress', 'Ingress'] }), 'spec.types', /more than once/));
  test('tier name must be a DNS label', () => expectProblem(np({ tier: 'my.tier' }), 'spec.tier', /invalid name/));
  test('order is a number', () => expectProblem(np({ order: 'first' }), 'spec.order', /must be a number/));
  test('NetworkPolicy has no namespaceSelector', () =>
    expectProblem(np({ namespaceSelector: 'all()' }), 'spec.namespaceSelector', /unknown field/));
  test('NetworkPolicy has no preDNAT', () => expectProblem(np({ preDNAT: true }), 'spec.preDNAT', /unknown field/));
  test('performanceHints values', () =>
    expectProblem(np({ performanceHints: ['Fast'] }), 'spec.performanceHints[0]', /AssumeNeededOnEveryNode/));
});

describe('GlobalNetworkPolicy host-endpoint flags', () => {
  test('preDNAT with applyOnForward and ingress only is valid', () =>
    expectValid(gnp({ preDNAT: true, applyOnForward: true, ingress: [{ action: 'Deny' }] })));
  test('preDNAT requires applyOnForward', () =>
    expectProblem(
      gnp({ preDNAT: true, ingress: [{ action: 'Deny' }] }),
      'spec.applyOnForward',
      /must be true when preDNAT/,
    ));
  test('preDNAT has no egress rules', () =>
    expectProblem(
      gnp({ preDNAT: true, applyOnForward: true, egress: [{ action: 'Deny' }] }),
      'spec.egress',
      /preDNAT policy cannot have egress/,
    ));
  test('preDNAT types cannot include Egress', () =>
    expectProblem(
      gnp({ preDNAT: true, applyOnForward: true, types: ['Ingress', 'Egress'] }),
      'spec.types',
      /cannot include Egress/,
    ));
  test('doNotTrack requires applyOnForward', () =>
    expectProblem(
      gnp({ doNotTrack: true, ingress: [{ action: 'Allow' }] }),
      'spec.applyOnForward',
      /must be true when doNotTrack/,
    ));
  test('doNotTrack with applyOnForward is valid', () => expectValid(gnp({ doNotTrack: true, applyOnForward: true })));
  test('preDNAT and doNotTrack exclude each other', () =>
    expectProblem(
      gnp({ preDNAT: true, doNotTrack: true, applyOnForward: true }),
      'spec.preDNAT',
      /cannot both be true/,
    ));
});

describe('staged policies', () => {
  test('stagedAction values', () =>
    expectProblem(
      resource('StagedGlobalNetworkPolicy', { stagedAction: 'Maybe' }, { name: 'p1' }),
      'spec.stagedAction',
      /Set, Delete, Learn, Ignore/,
    ));
  test('Delete keeps only the tier', () =>
    expectProblem(
      resource('StagedNetworkPolicy', { stagedAction: 'Delete', selector: 'all()' }, { name: 'p1', namespace: 'a' }),
      'spec.selector',
      /must be empty when stagedAction is Delete/,
    ));
  test('Delete with types set is refused', () =>
    expectProblem(
      resource('StagedGlobalNetworkPolicy', { stagedAction: 'Delete', types: ['Ingress'] }, { name: 'p1' }),
      'spec.types',
      /must be empty/,
    ));
  test('Delete with only the tier is valid', () =>
    expectValid(
      resource('StagedNetworkPolicy', { stagedAction: 'Delete', tier: 'default' }, { name: 'p1', namespace: 'a' }),
    ));
  test('staged rules are validated like enforced ones', () =>
    expectProblem(
      resource('StagedGlobalNetworkPolicy', { ingress: [{ action: 'Permit' }] }, { name: 'p1' }),
      'spec.ingress[0].action',
      /one of/,
    ));
  test('StagedKubernetesNetworkPolicy uses the Kubernetes spec', () =>
    expectProblem(
      resource(
        'StagedKubernetesNetworkPolicy',
        { podSelector: {}, ingress: [{ ports: [{ port: 0 }] }] },
        { name: 'p1', namespace: 'a' },
      ),
      'spec.ingress[0].ports[0].port',
      /1\.\.65535/,
    ));
});

describe('Tier', () => {
  test('a tier with order and defaultAction Pass is valid', () =>
    expectValid(resource('Tier', { order: 100, defaultAction: 'Pass' }, { name: 'security' })));
  test('tier names have no dots', () =>
    expectProblem(resource('Tier', { order: 1 }, { name: 'sec.ops' }), 'metadata.name', /no dots/));
  test('tier names are at most 63 characters', () =>
    expectProblem(resource('Tier', {}, { name: 'a'.repeat(64) }), 'metadata.name', /too long by 1/));
  test('defaultAction is Deny or Pass', () =>
    expectProblem(resource('Tier', { defaultAction: 'Allow' }, { name: 't1' }), 'spec.defaultAction', /Deny, Pass/));
  test('the default tier keeps its order', () =>
    expectProblem(resource('Tier', { order: 5 }, { name: 'default' }), 'spec.order', /1000000/));
});
