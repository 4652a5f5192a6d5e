// kube-apiserver's defaulting for objects that did not pass through an API server (files, the lab's store):
// NetworkPolicy policyTypes and port protocol, the Namespace name label, Pod serviceAccountName and a few cheap
// Pod defaults. Idempotent; returns a new object and never changes its input.
import { isPlainObject } from '../schema.js';
import type { KubernetesObject } from './types.js';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const NAMESPACED = new Set(['Pod', 'ServiceAccount', 'NetworkPolicy']);

function defaultPorts(ports: unknown, field: 'protocol'): void {
  if (!Array.isArray(ports)) return;
  for (const p of ports)
    if (isPlainObject(p) && (p[field] === undefined || p[field] === null || p[field] === '')) p[field] = 'TCP';
}

export function defaultKubernetesObject<T extends KubernetesObject>(input: T): T {
  const out = structuredClone(input) as T;
  if (!isPlainObject(out.metadata)) (out as KubernetesObject).metadata = { name: '' };
  const meta = out.metadata;
  if (NAMESPACED.has(out.kind) && !meta.namespace) meta.namespace = 'default';

  switch (out.kind) {
    case 'Namespace':
      if (meta.labels === undefined || isPlainObject(meta.labels)) {
        meta.labels = { ...(meta.labels ?? {}), [NAMESPACE_NAME_LABEL]: meta.name };
      }
      break;
    case 'NetworkPolicy': {
      out.spec ??= {};
      if (!isPlainObject(out.spec)) break; // validation reports it
      const spec = out.spec as Record<string, any>;
      spec.podSelector ??= {};
      const egress = Array.isArray(spec.egress) ? spec.egress : [];
      if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) {
        spec.policyTypes = egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
      }
      for (const dir of ['ingress', 'egress']) {
        if (Array.isArray(spec[dir]))
          for (const rule of spec[dir]) if (isPlainObject(rule)) defaultPorts(rule.ports, 'protocol');
      }
      break;
    }
    case 'Pod': {
      out.spec ??= {};
      if (!isPlainObject(out.spec)) break; // validation reports it
      const spec = out.spec as Record<string, any>;
      const mirror = Object.hasOwn(meta.annotations ?? {}, MIRROR_POD_ANNOTATION);
      if (!spec.serviceAccountName) {
        if (spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
        else if (!mirror) spec.serviceAccountName = 'default';
      }
      spec.restartPolicy ??= 'Always';
      spec.dnsPolicy ??= 'ClusterFirst';
      spec.schedulerName ??= 'default-scheduler';
      spec.terminationGracePeriodSeconds ??= 30;
      for (const field of ['containers', 'initContainers']) {
        if (Array.isArray(spec[field]))
          for (const c of spec[field]) if (isPlainObject(c)) defaultPorts(c.ports, 'protocol');
      }
      break;
    }
  }
  return out;
}
