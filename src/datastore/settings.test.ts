import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { datastoreSettingsFromEnv, datastoreSettingsFromNetConf } from './settings.js';
import { datastoreSettingsFromCalicoctlConfig } from './calicoctl-config.js';

describe('datastore settings', () => {
  test('environment: sqlite by default, at /var/lib/calico/calico.db', () => {
    assert.deepEqual(datastoreSettingsFromEnv({}), { type: 'sqlite', sqlitePath: '/var/lib/calico/calico.db' });
    assert.deepEqual(datastoreSettingsFromEnv({ SQLITE_PATH: '/tmp/x.db' }), {
      type: 'sqlite',
      sqlitePath: '/tmp/x.db',
    });
  });

  test('environment: etcdv3 with every ETCD_ variable, also CALICO_-prefixed', () => {
    assert.deepEqual(
      datastoreSettingsFromEnv({
        DATASTORE_TYPE: 'etcdv3',
        ETCD_ENDPOINTS: 'https://10.0.0.1:2379, https://10.0.0.2:2379',
        CALICO_ETCD_CA_CERT_FILE: '/ca.pem',
        ETCD_CERT_FILE: '/c.pem',
        ETCD_KEY_FILE: '/k.pem',
        ETCD_USERNAME: 'u',
        CALICO_ETCD_PASSWORD: 'p',
      }),
      {
        type: 'etcdv3',
        etcdEndpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'],
        etcdCACertFile: '/ca.pem',
        etcdCertFile: '/c.pem',
        etcdKeyFile: '/k.pem',
        etcdUsername: 'u',
        etcdPassword: 'p',
      },
    );
    // As Calico: no type but endpoints given means etcdv3.
    assert.equal(datastoreSettingsFromEnv({ ETCD_ENDPOINTS: 'http://127.0.0.1:2379' }).type, 'etcdv3');
    assert.deepEqual(datastoreSettingsFromEnv({ CALICO_DATASTORE_TYPE: 'etcdv3' }), {
      type: 'etcdv3',
      etcdEndpoints: ['http://127.0.0.1:2379'],
    });
  });

  test('bad values are rejected naming the variable and the reason', () => {
    assert.throws(
      () => datastoreSettingsFromEnv({ DATASTORE_TYPE: 'mysql' }),
      /DATASTORE_TYPE: unknown datastore type "mysql"/,
    );
    assert.throws(() => datastoreSettingsFromEnv({ DATASTORE_TYPE: 'kubernetes' }), /DATASTORE_TYPE: "kubernetes"/);
    assert.throws(
      () => datastoreSettingsFromEnv({ ETCD_ENDPOINTS: '10.0.0.1:2379' }),
      /ETCD_ENDPOINTS: "10.0.0.1:2379"/,
    );
    assert.throws(() => datastoreSettingsFromEnv({ SQLITE_PATH: 'rel.db' }), /SQLITE_PATH: must be an absolute path/);
    assert.throws(
      () => datastoreSettingsFromEnv({ ETCD_ENDPOINTS: 'http://a:1', ETCD_CERT_FILE: '/c' }),
      /ETCD_KEY_FILE: a client certificate and its key must be given together/,
    );
  });

  test('calicoctl.cfg', () => {
    const cfg = `apiVersion: projectcalico.org/v3
kind: CalicoAPIConfig
metadata: {}
spec:
  datastoreType: etcdv3
  etcdEndpoints: http://10.0.0.1:2379,http://10.0.0.2:2379
  etcdCACertFile: /etc/calico/ca.pem
`;
    assert.deepEqual(datastoreSettingsFromCalicoctlConfig(cfg), {
      type: 'etcdv3',
      etcdEndpoints: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379'],
      etcdCACertFile: '/etc/calico/ca.pem',
    });
    assert.deepEqual(
      datastoreSettingsFromCalicoctlConfig(
        'kind: CalicoAPIConfig\nspec:\n  datastoreType: sqlite\n  sqlitePath: /d/c.db\n',
      ),
      { type: 'sqlite', sqlitePath: '/d/c.db' },
    );
    assert.throws(() => datastoreSettingsFromCalicoctlConfig('kind: IPPool\n'), /kind: expected "CalicoAPIConfig"/);
    assert.throws(
      () => datastoreSettingsFromCalicoctlConfig('kind: CalicoAPIConfig\nspec:\n  etcdEndpoints: nope\n'),
      /spec.etcdEndpoints: "nope" is not a URL/,
    );
  });

  test('CNI network config fields win over the environment', () => {
    const env = { DATASTORE_TYPE: 'etcdv3', ETCD_ENDPOINTS: 'http://env:2379', ETCD_USERNAME: 'u' };
    assert.deepEqual(datastoreSettingsFromNetConf({ etcd_endpoints: 'http://conf:2379' }, env), {
      type: 'etcdv3',
      etcdEndpoints: ['http://conf:2379'],
      etcdUsername: 'u',
    });
    assert.deepEqual(datastoreSettingsFromNetConf({ datastore_type: 'sqlite', sqlite_path: '/n/c.db' }, env), {
      type: 'sqlite',
      sqlitePath: '/n/c.db',
    });
    assert.throws(
      () => datastoreSettingsFromNetConf({ datastore_type: 'etcd' }),
      /datastore_type: unknown datastore type/,
    );
    assert.throws(() => datastoreSettingsFromNetConf({ sqlite_path: 3 }), /sqlite_path: expected a string/);
  });

  test('sqlite durability: SQLITE_SYNCHRONOUS, sqlite_synchronous, spec.sqliteSynchronous (FULL or NORMAL)', () => {
    assert.deepEqual(datastoreSettingsFromEnv({ CALICO_SQLITE_SYNCHRONOUS: 'full' }), {
      type: 'sqlite',
      sqlitePath: '/var/lib/calico/calico.db',
      sqliteSynchronous: 'FULL',
    });
    // The netconf wins over the environment, field by field.
    assert.deepEqual(datastoreSettingsFromNetConf({ sqlite_synchronous: 'NORMAL' }, { SQLITE_SYNCHRONOUS: 'FULL' }), {
      type: 'sqlite',
      sqlitePath: '/var/lib/calico/calico.db',
      sqliteSynchronous: 'NORMAL',
    });
    assert.deepEqual(
      datastoreSettingsFromCalicoctlConfig(
        'kind: CalicoAPIConfig\nspec:\n  sqlitePath: /d/c.db\n  sqliteSynchronous: FULL\n',
      ),
      { type: 'sqlite', sqlitePath: '/d/c.db', sqliteSynchronous: 'FULL' },
    );
    assert.throws(
      () => datastoreSettingsFromEnv({ SQLITE_SYNCHRONOUS: 'OFF' }),
      /SQLITE_SYNCHRONOUS: expected "FULL" or "NORMAL", got "OFF"/,
    );
    assert.throws(
      () => datastoreSettingsFromNetConf({ sqlite_synchronous: 'extra' }),
      /sqlite_synchronous: expected "FULL" or "NORMAL"/,
    );
  });
});
