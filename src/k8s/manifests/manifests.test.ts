// manifests/calico.yaml: up to date with its source, every object valid against Kubernetes' schemas
// (kubernetes-models), and internally consistent (config keys, volumes, service accounts, RBAC, probes, template).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { Secret } from 'kubernetes-models/v1/Secret';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { renderCniTemplate, templateValues } from '../../cni/install/template.js';
import { MANIFEST_PATH } from './generate.js';
import { renderCalicoEtcdManifest } from './render.js';

const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Secret': Secret,
  'v1/ConfigMap': ConfigMap,
  'v1/ServiceAccount': ServiceAccount,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/Deployment': Deployment,
};

const text = readFileSync(MANIFEST_PATH, 'utf8');
const objects = parseAllDocuments(text)
  .map((d) => d.toJS())
  .filter(Boolean) as any[];
const find = (kind: string, name: string): any => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `${kind} ${name} is in the manifest`);
  return o;
};

describe('manifests/calico.yaml', () => {
  test('is up to date with src/k8s/manifests (regenerate: node --import tsx src/k8s/manifests/generate.ts)', () => {
    assert.equal(text, renderCalicoEtcdManifest());
  });

  test("every object validates against Kubernetes' schemas", () => {
    assert.equal(objects.length, 13);
    for (const o of objects) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      assert.ok(Model, `no schema for ${o.apiVersion} ${o.kind}`);
      assert.doesNotThrow(() => new Model(o).validate(), `${o.kind} ${o.metadata.name}`);
    }
    // The validator does catch bad objects (so the loop above can fail).
    const broken = structuredClone(find('DaemonSet', 'calico-node'));
    broken.spec.template.spec.containers[0].ports = [{ containerPort: 'x' }];
    assert.throws(() => new DaemonSet(broken).validate());
  });

  test("calico-config and calico-etcd-secrets carry calico-etcd.yaml's keys; cni_network_config is the install-cni template", () => {
    const cm = find('ConfigMap', 'calico-config');
    for (const k of ['cni_network_config', 'etcd_endpoints', 'etcd_ca', 'etcd_cert', 'etcd_key', 'calico_backend', 'veth_mtu'])
      assert.ok(k in cm.data, `calico-config has ${k}`);
    assert.deepEqual(Object.keys(find('Secret', 'calico-etcd-secrets').data).sort(), ['etcd-ca', 'etcd-cert', 'etcd-key']);
    for (const p of ['__KUBERNETES_NODE_NAME__', '__KUBECONFIG_FILEPATH__', '__CNI_MTU__', '__ETCD_ENDPOINTS__', '__DATASTORE_TYPE__'])
      assert.ok(cm.data.cni_network_config.includes(p), `template has ${p}`);
    const conflist = JSON.parse(
      renderCniTemplate(cm.data.cni_network_config, templateValues({ datastoreType: 'etcdv3', etcdEndpoints: 'http://10.0.0.1:2379', nodeName: 'n1', mtu: 1440 })),
    );
    assert.equal(conflist.plugins[0].type, 'calico');
    assert.equal(conflist.plugins[0].ipam.type, 'calico-ipam');
    assert.equal(conflist.plugins[0].etcd_endpoints, 'http://10.0.0.1:2379');
  });

  test('calico-node: install-cni init container, host network, privileged, probes calling calico-node; controllers probe their health port', () => {
    const ds = find('DaemonSet', 'calico-node');
    const pod = ds.spec.template.spec;
    assert.deepEqual(ds.spec.selector.matchLabels, ds.spec.template.metadata.labels);
    assert.equal(pod.hostNetwork, true);
    assert.deepEqual(pod.initContainers[0].command, ['calico-node', 'install-cni']);
    const node = pod.containers[0];
    assert.equal(node.securityContext.privileged, true);
    assert.deepEqual(node.livenessProbe.exec.command, ['calico-node', '-felix-live', '-bird-live']);
    assert.deepEqual(node.readinessProbe.exec.command, ['calico-node', '-felix-ready', '-bird-ready']);
    const kc = find('Deployment', 'calico-kube-controllers').spec.template.spec.containers[0];
    assert.equal(kc.livenessProbe.httpGet.path, '/liveness');
    assert.equal(kc.readinessProbe.httpGet.port, Number(kc.env.find((e: any) => e.name === 'HEALTH_PORT').value));
    const env = Object.fromEntries(node.env.map((e: any) => [e.name, e]));
    assert.equal(env.DATASTORE_TYPE.value, 'etcdv3');
    assert.equal(env.ETCD_ENDPOINTS.valueFrom.configMapKeyRef.key, 'etcd_endpoints');
    assert.equal(env.NODENAME.valueFrom.fieldRef.fieldPath, 'spec.nodeName');
  });

  test('references resolve: config keys, volumes, service accounts, role bindings', () => {
    const cm = find('ConfigMap', 'calico-config');
    for (const kind of ['DaemonSet', 'Deployment']) {
      for (const w of objects.filter((o) => o.kind === kind)) {
        const spec = w.spec.template.spec;
        const volumes = new Set(spec.volumes.map((v: any) => v.name));
        for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
          for (const e of c.env ?? []) {
            const ref = e.valueFrom?.configMapKeyRef;
            if (ref) assert.ok(ref.name === 'calico-config' && ref.key in cm.data, `${c.name}: ${e.name} -> ${ref.key}`);
          }
          for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name), `${c.name}: volume ${m.name}`);
        }
        find('ServiceAccount', spec.serviceAccountName);
      }
    }
    for (const b of objects.filter((o) => o.kind === 'ClusterRoleBinding')) {
      find('ClusterRole', b.roleRef.name);
      for (const s of b.subjects) find('ServiceAccount', s.name);
    }
  });

  test('RBAC is least privilege: no wildcards, no writes beyond leases, node status and the CNI token', () => {
    const writes: string[] = [];
    for (const r of objects.filter((o) => o.kind === 'ClusterRole')) {
      for (const rule of r.rules) {
        assert.ok(!rule.verbs.includes('*') && !rule.resources.includes('*') && !rule.apiGroups.includes('*'), r.metadata.name);
        for (const v of rule.verbs)
          if (!['get', 'list', 'watch'].includes(v)) writes.push(`${r.metadata.name}: ${v} ${rule.resources.join(',')}`);
      }
    }
    assert.deepEqual(writes.sort(), [
      'calico-kube-controllers: create leases',
      'calico-kube-controllers: update leases',
      'calico-node: create serviceaccounts/token',
      'calico-node: patch nodes/status',
    ]);
    const tokenRule = find('ClusterRole', 'calico-node').rules.find((r: any) => r.resources.includes('serviceaccounts/token'));
    assert.deepEqual(tokenRule.resourceNames, ['calico-cni-plugin']);
  });
});
