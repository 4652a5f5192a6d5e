// The envelope every projectcalico.org/v3 resource (and every Kubernetes input object) shares.
export const CALICO_API_VERSION = 'projectcalico.org/v3';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
  generateName?: string;
  deletionTimestamp?: string;
  ownerReferences?: unknown[];
  finalizers?: string[];
  generation?: number;
  managedFields?: unknown[];
  [extra: string]: unknown;
}

export interface Resource<Spec = Record<string, any>> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec: Spec;
  status?: unknown;
}
