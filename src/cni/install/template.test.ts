import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CALICO_CONFLIST_TEMPLATE,
  CALICO_VXLAN_CONFLIST_TEMPLATE,
  TEMPLATE_PLACEHOLDERS,
  conflistTemplateFor,
  renderCniTemplate,
  templateValues,
} from './template.js';

const here = path.dirname(new URL(import.meta.url).pathname);

test('the rendered conflist equals the golden file', () => {
  const text = renderCniTemplate(
    CALICO_CONFLIST_TEMPLATE,
    templateValues({
      nodeName: 'node-1',
      kubeconfigPath: '/etc/cni/net.d/calico-kubeconfig',
      mtu: 1450,
      datastoreType: 'etcdv3',
      etcdEndpoints: 'http://10.0.0.10:2379',
    }),
  );
  assert.equal(text, readFileSync(path.join(here, 'testdata/10-calico.conflist.golden'), 'utf8'));
});

test('every placeholder in the template is known and replaced', () => {
  const inTemplate = CALICO_CONFLIST_TEMPLATE.match(/__[A-Z0-9_]+__/g) ?? [];
  for (const p of inTemplate) assert.ok((TEMPLATE_PLACEHOLDERS as readonly string[]).includes(p), p);
  const text = renderCniTemplate(CALICO_CONFLIST_TEMPLATE, templateValues({}));
  assert.doesNotMatch(text, /__[A-Z0-9_]+__/);
  const conf = JSON.parse(text);
  assert.equal(conf.plugins[0].type, 'calico');
  assert.equal(conf.plugins[0].mtu, 1500);
  assert.equal(conf.plugins[0].datastore_type, 'sqlite');
  assert.equal(conf.plugins[1].type, 'portmap');
});

test('values are JSON-escaped, also inside longer strings', () => {
  const text = renderCniTemplate(
    '{"type":"calico","a":"__KUBERNETES_NODE_NAME__","b":"https://__KUBERNETES_SERVICE_HOST__:443"}',
    templateValues({ nodeName: 'we"ird\\', kubernetesServiceHost: 'h"x' }),
  );
  const conf = JSON.parse(text);
  assert.equal(conf.a, 'we"ird\\');
  assert.equal(conf.b, 'https://h"x:443');
});

test('a template that does not render to JSON is refused with the text', () => {
  assert.throws(
    () => renderCniTemplate('{"type":"calico","mtu":__CNI_MTU__,}', templateValues({})),
    /does not render to valid JSON/,
  );
  assert.throws(() => renderCniTemplate('{"x":1}', templateValues({})), /neither "plugins" nor "type"/);
});

test("the VXLAN-only template (Calico's calico-vxlan.yaml) chains bandwidth after portmap; golden file", () => {
  const text = renderCniTemplate(
    CALICO_VXLAN_CONFLIST_TEMPLATE,
    templateValues({
      nodeName: 'node-1',
      kubeconfigPath: '/etc/cni/net.d/calico-kubeconfig',
      mtu: 1450,
      datastoreType: 'etcdv3',
      etcdEndpoints: 'http://10.0.0.10:2379',
    }),
  );
  assert.equal(text, readFileSync(path.join(here, 'testdata/10-calico-vxlan.conflist.golden'), 'utf8'));
  const conf = JSON.parse(text);
  assert.deepEqual(
    conf.plugins.map((p: { type: string }) => p.type),
    ['calico', 'portmap', 'bandwidth'],
  );
  assert.deepEqual(conf.plugins[2].capabilities, { bandwidth: true });
  // The calico plugin itself is the same as for BGP clusters.
  const bgp = JSON.parse(renderCniTemplate(CALICO_CONFLIST_TEMPLATE, templateValues({ nodeName: 'node-1' })));
  const vxlan = JSON.parse(renderCniTemplate(CALICO_VXLAN_CONFLIST_TEMPLATE, templateValues({ nodeName: 'node-1' })));
  assert.deepEqual(vxlan.plugins.slice(0, 2), bgp.plugins);
});

test('the template for a networking backend: vxlan gets the VXLAN one, bird and unset the BGP one', () => {
  assert.equal(conflistTemplateFor('vxlan'), CALICO_VXLAN_CONFLIST_TEMPLATE);
  assert.equal(conflistTemplateFor('bird'), CALICO_CONFLIST_TEMPLATE);
  assert.equal(conflistTemplateFor(undefined), CALICO_CONFLIST_TEMPLATE);
});
