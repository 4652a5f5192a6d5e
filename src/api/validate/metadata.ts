// Validates object metadata the way libcalico-go does for every kind: the name rules of the kind, namespace
// scope, label and annotation syntax, and names fixed by singleton kinds.
import { kindInfo } from '../kinds.js';
import { at, type ProblemSink } from '../problems.js';
import { isDns1123Label, labelKeyProblem, labelValueProblem, nameProblem } from '../names.js';
import { asObject, asString } from './values.js';

const ANNOTATION_SIZE_LIMIT = 256 * 1024;
const SINGLETONS = new Set(['ClusterInformation', 'KubeControllersConfiguration', 'IPAMConfiguration']);
const NO_NAMESPACE_LABEL = new Set(['NetworkSet', 'GlobalNetworkSet']);
export const NAMESPACE_LABEL = 'projectcalico.org/namespace';

export function validateLabels(labels: unknown, path: string, sink: ProblemSink): void {
  for (const [k, v] of Object.entries(asObject(labels))) {
    const keyProblem = labelKeyProblem(k);
    if (keyProblem) sink.add(at(path, k), keyProblem);
    if (typeof v === 'string') {
      const valueProblem = labelValueProblem(v);
      if (valueProblem) sink.add(at(path, k), valueProblem);
    }
  }
}

export function validateAnnotations(annotations: unknown, path: string, sink: ProblemSink): void {
  let size = 0;
  for (const [k, v] of Object.entries(asObject(annotations))) {
    const keyProblem = labelKeyProblem(k.toLowerCase());
    if (keyProblem) sink.add(at(path, k), keyProblem);
    size += k.length + (typeof v === 'string' ? v.length : 0);
  }
  if (size > ANNOTATION_SIZE_LIMIT) {
    sink.add(path, `total size of annotations is too large by ${size - ANNOTATION_SIZE_LIMIT} bytes (limit 256 KiB)`);
  }
}

export function validateMetadata(kind: string, metadata: Record<string, unknown>, sink: ProblemSink): void {
  const name = asString(metadata.name);
  if (!name) {
    sink.add('metadata.name', 'required');
  } else {
    const problem = nameProblem(kind, name);
    if (problem) sink.add('metadata.name', problem);
    if (SINGLETONS.has(kind) && name !== 'default') {
      sink.add('metadata.name', `a ${kind} must be named "default", got ${JSON.stringify(name)}`);
    }
  }
  const namespace = asString(metadata.namespace);
  if (namespace !== undefined) {
    if (!kindInfo(kind).namespaced) {
      sink.add('metadata.namespace', `must be empty: ${kind} is not namespaced`);
    } else if (!isDns1123Label(namespace)) {
      sink.add('metadata.namespace', `invalid namespace ${JSON.stringify(namespace)}: must be a DNS-1123 label`);
    }
  }
  validateLabels(metadata.labels, 'metadata.labels', sink);
  validateAnnotations(metadata.annotations, 'metadata.annotations', sink);
  if (NO_NAMESPACE_LABEL.has(kind) && Object.hasOwn(asObject(metadata.labels), NAMESPACE_LABEL)) {
    sink.add(at('metadata.labels', NAMESPACE_LABEL), `${NAMESPACE_LABEL} is reserved for Calico and may not be set`);
  }
}
