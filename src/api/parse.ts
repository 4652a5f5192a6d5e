// parseResources: resource text (YAML or JSON, one or many documents, Lists) -> validated resources, or one
// ResourceValidationError listing every problem of every document. Kubernetes input kinds are accepted on request
// and come back with kube-apiserver's defaults applied.
import { decodeDocuments } from './decode.js';
import { defaultKubernetesObject } from './k8s/defaults.js';
import type { KubernetesObject } from './k8s/types.js';
import { isKubernetesKind, kubernetesObjectProblems } from './k8s/validate.js';
import { ResourceValidationError, type Problem } from './problems.js';
import type { Resource } from './resource.js';
import { isPlainObject } from './schema.js';
import type { CalicoResource } from './v3/index.js';
import { resourceProblems } from './validate/index.js';

export interface ParseOptions {
  /** Also accept Namespace, Pod, ServiceAccount, Node and networking.k8s.io/v1 NetworkPolicy (default false). */
  kubernetes?: boolean;
  /** Written by a user (calicoctl): refuse names reserved for Calico's controllers, e.g. `knp.default.*`. */
  userWrite?: boolean;
}

export function parseResources(text: string): CalicoResource[];
export function parseResources(text: string, opts: ParseOptions): (CalicoResource | KubernetesObject)[];
export function parseResources(text: string, opts: ParseOptions = {}): (CalicoResource | KubernetesObject)[] {
  const docs = decodeDocuments(text);
  const problems: Problem[] = [];
  const out: (CalicoResource | KubernetesObject)[] = [];
  for (const { document, value } of docs) {
    const k8s =
      opts.kubernetes &&
      isPlainObject(value) &&
      typeof value.kind === 'string' &&
      value.apiVersion !== 'projectcalico.org/v3' &&
      isKubernetesKind(value.kind);
    if (k8s) {
      const defaulted = defaultKubernetesObject(value as unknown as KubernetesObject);
      const sink = kubernetesObjectProblems(defaulted, document);
      problems.push(...sink.problems);
      out.push(defaulted);
    } else {
      const sink = resourceProblems(value, document, { userWrite: opts.userWrite });
      problems.push(...sink.problems);
      out.push(value as unknown as CalicoResource);
    }
  }
  if (problems.length > 0) throw new ResourceValidationError(problems);
  return out;
}

export type { Resource };
