// Renders the manifest objects as one multi-document YAML file with a header saying where it comes from and how to
// use it. Pure: text out.
import { stringify } from 'yaml';
import { calicoEtcdObjects, DEFAULT_MANIFEST_OPTIONS, type ManifestOptions } from './calico-etcd.js';

export const MANIFEST_HEADER = `# Calico-TS for Kubernetes with the etcd datastore (Calico's calico-etcd.yaml layout).
# GENERATED from src/k8s/manifests/ — do not edit; regenerate with:
#   node --import tsx src/k8s/manifests/generate.ts      (or: make manifests)
# Before applying: set etcd_endpoints in the calico-config ConfigMap; for etcd with TLS fill the
# calico-etcd-secrets Secret (base64) and set etcd_ca/etcd_cert/etcd_key to /calico-secrets/etcd-ca, -cert, -key.
# Build the image the workloads name with: make image   (buildah, debootstrapped Debian base)
`;

export function renderCalicoEtcdManifest(opts: ManifestOptions = DEFAULT_MANIFEST_OPTIONS): string {
  const docs = calicoEtcdObjects(opts).map((o) => `# Source: ${o.kind} ${o.metadata.name}\n${stringify(o, { lineWidth: 0 })}`);
  return `${MANIFEST_HEADER}---\n${docs.join('---\n')}`;
}
