import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CniRequest } from '../skel/types.js';
import { PluginIpamDelegate } from './ipam.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tw-ipam-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test("an exec'd IPAM plugin gets CNI_ARGS with IgnoreUnknown=1 first, as Calico passes them", async () => {
  // A stand-in IPAM plugin that reports the CNI_ARGS it was given as its result's DNS domain.
  writeFileSync(
    path.join(dir, 'echo-ipam'),
    '#!/bin/sh\ncat >/dev/null\nprintf \'{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.1/32"}],"dns":{"domain":"%s"}}\' "$CNI_ARGS"\n',
  );
  chmodSync(path.join(dir, 'echo-ipam'), 0o755);
  const req = {
    command: 'ADD',
    containerId: 'c1',
    ifName: 'eth0',
    args: { K8S_POD_NAMESPACE: 'prod', K8S_POD_NAME: 'web-0' },
    path: [dir],
    config: { cniVersion: '1.0.0', name: 'n', type: 'calico', ipam: { type: 'echo-ipam' } },
    stdin: '',
    env: { PATH: process.env.PATH },
  } as unknown as CniRequest;
  const delegate = new PluginIpamDelegate(async () => {
    throw new Error('calico-ipam is not used here');
  });
  const r = await delegate.invoke(req, { command: 'ADD', config: req.config, extraArgs: { IP: '10.0.0.1' } });
  assert.equal(r?.dns?.domain, 'IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web-0;IP=10.0.0.1');
  const kubelets = { ...req, args: { IgnoreUnknown: '1', K8S_POD_NAME: 'web-0' } };
  const r2 = await delegate.invoke(kubelets, { command: 'ADD', config: req.config });
  assert.equal(r2?.dns?.domain, 'IgnoreUnknown=1;K8S_POD_NAME=web-0', 'not doubled when the runtime sent it');
});
