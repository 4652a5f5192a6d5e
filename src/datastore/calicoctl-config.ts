// Where the datastore is, from the text of a calicoctl.cfg (`kind: CalicoAPIConfig`, YAML or JSON): Calico's spec
// field names (CONVENTIONS.md "Datastore settings"). Apart from settings.ts because it loads the YAML parser.
// Pure parsing: bad input throws a DatastoreSettingsError naming the field and the reason.
import { parse as parseYaml } from 'yaml';
import { CONFIG_NAMES, DatastoreSettingsError, finish, type DatastoreSettings, type RawSettings } from './settings.js';

/** From the text of a calicoctl.cfg (`kind: CalicoAPIConfig`, YAML or JSON). */
export function datastoreSettingsFromCalicoctlConfig(fileText: string): DatastoreSettings {
  let doc: unknown;
  try {
    doc = parseYaml(fileText);
  } catch (err) {
    throw new DatastoreSettingsError(`calicoctl config: not valid YAML: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new DatastoreSettingsError('calicoctl config: expected a CalicoAPIConfig object');
  if (doc.kind !== undefined && doc.kind !== 'CalicoAPIConfig') {
    throw new DatastoreSettingsError(`calicoctl config: kind: expected "CalicoAPIConfig", got "${String(doc.kind)}"`);
  }
  if (doc.apiVersion !== undefined && !['projectcalico.org/v3', 'v1'].includes(String(doc.apiVersion))) {
    throw new DatastoreSettingsError(
      `calicoctl config: apiVersion: expected "projectcalico.org/v3", got "${String(doc.apiVersion)}"`,
    );
  }
  const spec = doc.spec ?? {};
  if (!isObject(spec)) throw new DatastoreSettingsError('calicoctl config: spec: expected an object');
  const raw: RawSettings = {};
  const keys: Record<keyof RawSettings, string> = {
    type: 'datastoreType',
    sqlitePath: 'sqlitePath',
    sqliteSynchronous: 'sqliteSynchronous',
    endpoints: 'etcdEndpoints',
    caCertFile: 'etcdCACertFile',
    certFile: 'etcdCertFile',
    keyFile: 'etcdKeyFile',
    username: 'etcdUsername',
    password: 'etcdPassword',
  };
  for (const [field, key] of Object.entries(keys) as [keyof RawSettings, string][]) {
    const v = spec[key];
    if (v === undefined || v === null || v === '') continue;
    if (key === 'etcdEndpoints' && Array.isArray(v)) {
      raw.endpoints = v.map(String).join(',');
      continue;
    }
    if (typeof v !== 'string') throw new DatastoreSettingsError(`calicoctl config: spec.${key}: expected a string`);
    raw[field] = v;
  }
  return finish(raw, CONFIG_NAMES);
}

function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
