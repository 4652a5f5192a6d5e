import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CALICO_CONFLIST_TEMPLATE, TEMPLATE_PLACEHOLDERS, renderCniTemplate, templateValues } from './template.js';

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
