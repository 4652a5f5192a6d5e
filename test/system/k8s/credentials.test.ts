// CNI credentials: calico-node's token renewal against the project's API server. A short-lived token is replaced
// before it expires while a CNI-style client (reading the kubeconfig afresh per call, as each plugin run does, and
// through the plugin's own kubeconfig reader) keeps working; refusals name the credential file and what to check.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadKubeconfig } from '../../../src/cni/k8s/kubeconfig.js';
import { KubeApiError, KubeReader } from '../../../src/cni/k8s/client.js';
import {
  CredentialError,
  readKubeconfigCredentials,
  requestCniToken,
  startTokenRenewal,
  tokenRenewalSettingsFromEnv,
  type TokenRenewalSettings,
} from '../../../src/k8s/credentials.js';
import { adminKubeconfig } from '../../../src/k8s/apiserver/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/k8s.js';

describe('CNI token renewal', () => {
  let t: TestApiServer;
  let dir: string;
  before(async () => {
    t = await startTestApiServer({ minTokenExpirationSeconds: 1 });
    dir = mkdtempSync(path.join(tmpdir(), 'tk-cred-'));
    await t
      .core()
      .createNamespacedServiceAccount({ namespace: 'kube-system', body: { metadata: { name: 'calico-cni-plugin' } } });
    await t.core().createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'pod-a' }, spec: { containers: [{ name: 'c' }] } },
    });
  });
  after(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const settings = (over: Partial<TokenRenewalSettings> = {}): TokenRenewalSettings => ({
    ...tokenRenewalSettingsFromEnv({
      KUBECONFIG: t.kubeconfigFile,
      CNI_NET_DIR: dir,
      CNI_TOKEN_VALIDITY_SECONDS: '3',
    })!,
    ...over,
  });

  test('settings come from KUBECONFIG (or in-cluster), with the CNI kubeconfig under CNI_NET_DIR', () => {
    const s = settings();
    assert.equal(s.server, t.server.url);
    assert.equal(s.cniKubeconfig, path.join(dir, 'calico-kubeconfig'));
    assert.equal(s.serviceAccount, 'calico-cni-plugin');
    assert.equal(s.namespace, 'kube-system');
    assert.equal(s.validitySeconds, 3);
    assert.equal(tokenRenewalSettingsFromEnv({}), undefined, 'no Kubernetes configured: nothing to renew');
    assert.throws(
      () => tokenRenewalSettingsFromEnv({ KUBERNETES_SERVICE_HOST: '10.0.0.1', CALICO_SERVICEACCOUNT_DIR: dir }),
      /no service-account token at .*token/,
    );
  });

  test('a 3 s token is renewed before expiry while a CNI-style client keeps reading pods', async () => {
    const logs: string[] = [];
    const renewal = await startTokenRenewal({ env: {}, log: (l) => logs.push(l), settings: settings() });
    assert.ok(renewal);
    try {
      const file = path.join(dir, 'calico-kubeconfig');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const tokens = new Set<string>();
      let calls = 0;
      const deadline = Date.now() + 7000; // more than two token lifetimes
      while (Date.now() < deadline) {
        const creds = await loadKubeconfig(file);
        tokens.add(creds.token!);
        const pod = await new KubeReader(creds).getPod('default', 'pod-a');
        assert.equal(pod.metadata.name, 'pod-a');
        calls++;
        await new Promise((r) => setTimeout(r, 150));
      }
      assert.ok(calls > 20);
      assert.ok(renewal.renewals >= 3, `renewed ${renewal.renewals} times: ${logs.join('\n')}`);
      assert.ok(tokens.size >= 3, 'the file held successive tokens');
      assert.ok(renewal.expiresAt!.getTime() > Date.now(), 'the token in the file is current');
      // The file kept its cluster and CA: a fresh reader of it still trusts the server.
      assert.match(readFileSync(file, 'utf8'), /certificate-authority-data/);
    } finally {
      renewal.stop();
    }
  });

  test('an expired CNI token is refused with a message naming the kubeconfig and what to check', async () => {
    const file = path.join(dir, 'stale-kubeconfig');
    const { token } = await requestCniToken(settings({ validitySeconds: 1 }));
    writeFileSync(file, adminKubeconfig(t.server.url, t.server.caCert, token, 'calico'));
    await new Promise((r) => setTimeout(r, 1200));
    await assert.rejects(new KubeReader(await loadKubeconfig(file)).getPod('default', 'pod-a'), (e: unknown) => {
      assert.ok(e instanceof KubeApiError);
      assert.equal(e.status, 401);
      assert.match(e.message, new RegExp(`refused the token in ${file}: check it has not expired`));
      return true;
    });
  });

  test("refusals of calico-node's own request name its credential file; a missing account says how to fix it", async () => {
    const badFile = path.join(dir, 'bad-kubeconfig');
    writeFileSync(badFile, adminKubeconfig(t.server.url, t.server.caCert, 'wrong-token'));
    const bad = { ...settings(), ...readKubeconfigCredentials(badFile) };
    await assert.rejects(requestCniToken(bad), (e: unknown) => {
      assert.ok(e instanceof CredentialError);
      assert.equal(e.status, 401);
      assert.match(e.message, new RegExp(`refused the credentials in ${badFile} \\(401 Unauthorized`));
      return true;
    });
    await assert.rejects(
      requestCniToken(settings({ serviceAccount: 'nobody' })),
      /serviceaccounts "nobody" not found; create the service account/,
    );
    const logs: string[] = [];
    const renewal = await startTokenRenewal({ env: {}, log: (l) => logs.push(l), settings: bad });
    renewal?.stop();
    assert.match(logs.join('\n'), /CNI token renewal failed \(retry in 5s\): .*bad-kubeconfig/);
  });
});
