// What a Kubernetes API server would reject in the input kinds Calico reads: names, required fields, label
// selectors, NetworkPolicy ports/peers/ipBlocks and container ports. Unknown-field checks come from types.ts.
import { cidrContainsCidr, isCidr, parseCidr } from '../../net/ip.js';
import { portNameProblem } from '../formats.js';
import { isDns1123Label, isDns1123Subdomain } from '../names.js';
import { at, ProblemSink, ResourceValidationError } from '../problems.js';
import { checkShape, isPlainObject, obj } from '../schema.js';
import { metadataFields } from '../v3/common.js';
import { validateAnnotations, validateLabels } from '../validate/metadata.js';
import { asArray, asObject, asString } from '../validate/values.js';
import { KUBERNETES_KINDS, type KubernetesObject } from './types.js';

export const isKubernetesKind = (kind: string, apiVersion?: string): boolean =>
  Object.hasOwn(KUBERNETES_KINDS, kind) &&
  (apiVersion === undefined || KUBERNETES_KINDS[kind].apiVersion === apiVersion);

function validateLabelSelector(sel: unknown, path: string, sink: ProblemSink): void {
  const s = asObject(sel);
  validateLabels(s.matchLabels, at(path, 'matchLabels'), sink);
  asArray(s.matchExpressions).forEach((e, i) => {
    const expr = asObject(e);
    const p = at(at(path, 'matchExpressions'), i);
    const values = asArray(expr.values);
    if ((expr.operator === 'In' || expr.operator === 'NotIn') && values.length === 0) {
      sink.add(at(p, 'values'), `must be non-empty when operator is ${expr.operator}`);
    }
    if ((expr.operator === 'Exists' || expr.operator === 'DoesNotExist') && values.length > 0) {
      sink.add(at(p, 'values'), `must be empty when operator is ${expr.operator}`);
    }
  });
}

function validatePort(port: Record<string, unknown>, path: string, sink: ProblemSink): void {
  const p = port.port;
  if (typeof p === 'number') {
    if (!Number.isInteger(p) || p < 1 || p > 65535) sink.add(at(path, 'port'), `must be 1..65535, got ${p}`);
  } else if (typeof p === 'string') {
    const problem = /^\d+$/.test(p) ? 'a numeric port must be written as a number' : portNameProblem(p);
    if (problem) sink.add(at(path, 'port'), problem);
  }
  const end = port.endPort;
  if (typeof end === 'number') {
    if (typeof p !== 'number') sink.add(at(path, 'endPort'), 'may only be set with a numeric port');
    else if (end < p) sink.add(at(path, 'endPort'), `must be greater than or equal to port (${p}), got ${end}`);
    if (end > 65535) sink.add(at(path, 'endPort'), `must be <= 65535, got ${end}`);
  }
}

function validatePeer(peer: Record<string, unknown>, path: string, sink: ProblemSink): void {
  const hasSelectors = peer.podSelector != null || peer.namespaceSelector != null;
  if (peer.ipBlock != null && hasSelectors) {
    sink.add(path, 'ipBlock cannot be combined with podSelector or namespaceSelector in one peer');
  }
  if (peer.ipBlock == null && !hasSelectors)
    sink.add(path, 'must specify a peer (podSelector, namespaceSelector or ipBlock)');
  if (peer.podSelector != null) validateLabelSelector(peer.podSelector, at(path, 'podSelector'), sink);
  if (peer.namespaceSelector != null)
    validateLabelSelector(peer.namespaceSelector, at(path, 'namespaceSelector'), sink);
  if (peer.ipBlock != null) {
    const block = asObject(peer.ipBlock);
    const cidrText = asString(block.cidr);
    if (!cidrText) return;
    if (!cidrText.includes('/') || !isCidr(cidrText)) {
      return sink.add(at(path, 'ipBlock.cidr'), `invalid CIDR ${JSON.stringify(cidrText)}`);
    }
    const outer = parseCidr(cidrText);
    asArray(block.except).forEach((ex, i) => {
      const exPath = at(at(path, 'ipBlock.except'), i);
      if (typeof ex !== 'string' || !ex.includes('/') || !isCidr(ex))
        return sink.add(exPath, `invalid CIDR ${JSON.stringify(ex)}`);
      const inner = parseCidr(ex);
      if (!cidrContainsCidr(outer, inner) || inner.prefix <= outer.prefix) {
        sink.add(exPath, `must be a strict subset of ipBlock.cidr ${cidrText}`);
      }
    });
  }
}

/** NetworkPolicy spec checks (also used for StagedKubernetesNetworkPolicy). */
export function validateKubernetesNetworkPolicySpec(
  spec: Record<string, unknown>,
  path: string,
  sink: ProblemSink,
): void {
  validateLabelSelector(spec.podSelector, at(path, 'podSelector'), sink);
  for (const [dir, peers] of [
    ['ingress', 'from'],
    ['egress', 'to'],
  ] as const) {
    asArray(spec[dir]).forEach((r, i) => {
      const rule = asObject(r);
      const rulePath = at(at(path, dir), i);
      asArray(rule.ports).forEach((p, j) => validatePort(asObject(p), at(at(rulePath, 'ports'), j), sink));
      asArray(rule[peers]).forEach((p, j) => validatePeer(asObject(p), at(at(rulePath, peers), j), sink));
    });
  }
  const types = asArray(spec.policyTypes);
  if (new Set(types).size !== types.length) sink.add(at(path, 'policyTypes'), 'contains duplicates');
}

function validatePodSpec(spec: Record<string, unknown>, sink: ProblemSink): void {
  const names = new Set<string>();
  for (const field of ['containers', 'initContainers'] as const) {
    asArray(spec[field]).forEach((c, i) => {
      asArray(asObject(c).ports).forEach((p, j) => {
        const port = asObject(p);
        const pPath = at(at(at(at('spec', field), i), 'ports'), j);
        const cp = port.containerPort;
        if (typeof cp === 'number' && (cp < 1 || cp > 65535))
          sink.add(at(pPath, 'containerPort'), `must be 1..65535, got ${cp}`);
        const hp = port.hostPort;
        if (typeof hp === 'number' && (hp < 0 || hp > 65535))
          sink.add(at(pPath, 'hostPort'), `must be 0..65535, got ${hp}`);
        const name = asString(port.name);
        if (name) {
          const problem = portNameProblem(name);
          if (problem) sink.add(at(pPath, 'name'), problem);
          else if (names.has(name)) sink.add(at(pPath, 'name'), `duplicate port name ${JSON.stringify(name)}`);
          names.add(name);
        }
      });
    });
  }
}

/** Collects the problems of one Kubernetes input object (document 0 unless given). */
export function kubernetesObjectProblems(input: unknown, document = 0): ProblemSink {
  const sink = new ProblemSink(document, '', '');
  if (!isPlainObject(input)) {
    sink.add('', 'a Kubernetes object must be a mapping with apiVersion, kind and metadata');
    return sink;
  }
  const kind = asString(input.kind) ?? '';
  const meta = asObject(input.metadata);
  const name = asString(meta.name) ?? '';
  const ns = asString(meta.namespace);
  sink.identify(kind, ns ? `${ns}/${name}` : name);
  const info = KUBERNETES_KINDS[kind];
  if (!info) {
    sink.add(
      'kind',
      `unsupported Kubernetes kind ${JSON.stringify(kind)}; expected one of ${Object.keys(KUBERNETES_KINDS).join(', ')}`,
    );
    return sink;
  }
  if (input.apiVersion !== info.apiVersion) {
    sink.add('apiVersion', `must be ${info.apiVersion} for ${kind}, got ${JSON.stringify(input.apiVersion)}`);
  }
  const top = obj({
    apiVersion: { kind: 'string' },
    kind: { kind: 'string' },
    metadata: obj(metadataFields),
    ...info.fields,
  });
  checkShape(kind === 'Pod' ? { ...input, spec: input.spec ?? {} } : input, top, '', sink);
  if (!name) sink.add('metadata.name', 'required');
  else if (kind === 'Namespace' ? !isDns1123Label(name) : !isDns1123Subdomain(name)) {
    sink.add(
      'metadata.name',
      `invalid name ${JSON.stringify(name)}: must be a DNS-1123 ${kind === 'Namespace' ? 'label' : 'subdomain'}`,
    );
  }
  if (ns !== undefined && !info.namespaced) sink.add('metadata.namespace', `must be empty: ${kind} is not namespaced`);
  if (ns !== undefined && info.namespaced && !isDns1123Label(ns))
    sink.add('metadata.namespace', `invalid namespace ${JSON.stringify(ns)}`);
  validateLabels(meta.labels, 'metadata.labels', sink);
  validateAnnotations(meta.annotations, 'metadata.annotations', sink);
  const spec = asObject(input.spec);
  if (kind === 'NetworkPolicy') {
    if (input.spec == null) sink.add('spec', 'required');
    validateKubernetesNetworkPolicySpec(spec, 'spec', sink);
  }
  if (kind === 'Pod') validatePodSpec(spec, sink);
  return sink;
}

/** Validates one Kubernetes input object; throws ResourceValidationError listing every problem. */
export function validateKubernetesObject<T extends KubernetesObject = KubernetesObject>(input: unknown): T {
  const sink = kubernetesObjectProblems(input);
  if (!sink.ok) throw new ResourceValidationError(sink.problems);
  return input as T;
}
