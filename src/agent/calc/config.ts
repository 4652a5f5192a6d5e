// Felix configuration: merges the environment (FELIX_*), the config file, FelixConfiguration `node.<name>`,
// FelixConfiguration `default` and the built-in defaults, field by field, highest first (Felix's precedence).
// In: env record, file values, the two FelixConfiguration specs. Out: typed values plus the problems found. Pure.
import { isCidr } from '../../net/ip.js';
import type { DataplaneConfig, HostPort, MarkBits } from './model.js';

type Source = 'environment' | 'config file' | 'FelixConfiguration node' | 'FelixConfiguration default';

interface Field<T> {
  /** Felix's parameter name; env is FELIX_<name> (case-insensitive), the spec key is the same name, camelCase. */
  name: string;
  defaultValue: T;
  parse(raw: unknown): T;
}

class ConfigValueError extends Error {}

function enumField<T extends string>(name: string, defaultValue: T, values: readonly T[]): Field<T> {
  return {
    name,
    defaultValue,
    parse(raw) {
      const s = String(raw).trim().toLowerCase();
      const hit = values.find((v) => v.toLowerCase() === s);
      if (!hit) throw new ConfigValueError(`must be one of ${values.join(', ')}`);
      return hit;
    },
  };
}

function boolField(name: string, defaultValue: boolean): Field<boolean> {
  return {
    name,
    defaultValue,
    parse(raw) {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).trim().toLowerCase();
      if (['true', '1', 'yes', 'y', 't'].includes(s)) return true;
      if (['false', '0', 'no', 'n', 'f'].includes(s)) return false;
      throw new ConfigValueError('must be true or false');
    },
  };
}

function intField(name: string, defaultValue: number, min: number, max: number): Field<number> {
  return {
    name,
    defaultValue,
    parse(raw) {
      const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
      if (!Number.isInteger(n) || n < min || n > max) throw new ConfigValueError(`must be an integer ${min}..${max}`);
      return n;
    },
  };
}

function stringField(name: string, defaultValue: string): Field<string> {
  return {
    name,
    defaultValue,
    parse(raw) {
      if (typeof raw !== 'string') throw new ConfigValueError('must be a string');
      return raw.toLowerCase() === 'none' ? '' : raw;
    },
  };
}

/** Go duration ("90s", "1m30s", "250ms") or a number of seconds; returns seconds. */
export function parseDurationSeconds(raw: unknown): number {
  if (typeof raw === 'number' && raw >= 0) return raw;
  const s = String(raw).trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g;
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, ns: 1e-9 };
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * unit[m[2]!]!;
    consumed += m[0].length;
  }
  if (consumed !== s.length || s.length === 0) throw new ConfigValueError(`"${s}" is not a duration (e.g. 90s, 1m30s)`);
  return total;
}

function durationField(name: string, defaultSeconds: number): Field<number> {
  return { name, defaultValue: defaultSeconds, parse: parseDurationSeconds };
}

function listField(name: string, defaultValue: string[]): Field<string[]> {
  return {
    name,
    defaultValue,
    parse(raw) {
      if (Array.isArray(raw)) return raw.map(String);
      if (String(raw).trim().toLowerCase() === 'none') return [];
      return String(raw)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    },
  };
}

/**
 * Felix's interface pattern list (interfaceExclude): comma-separated interface names, or regular expressions
 * between slashes (`/^kube-/`). A regex that does not compile, or a name no interface could have, is an error.
 */
function interfacePatternListField(name: string, defaultValue: string[]): Field<string[]> {
  const list = listField(name, defaultValue);
  return {
    name,
    defaultValue,
    parse(raw) {
      const entries = list.parse(raw);
      for (const e of entries) {
        // Felix's element patterns: `/<no spaces>/` is a regular expression, else 1-15 of [a-zA-Z0-9_-].
        if (/^\/\S+\/$/.test(e)) {
          try {
            new RegExp(e.slice(1, -1));
          } catch (err) {
            throw new ConfigValueError(
              `${JSON.stringify(e)} is not a valid regular expression (${(err as Error).message})`,
            );
          }
        } else if (!/^[a-zA-Z0-9_-]{1,15}$/.test(e)) {
          throw new ConfigValueError(`${JSON.stringify(e)} is neither an interface name nor a /regular expression/`);
        }
      }
      return entries;
    },
  };
}

/** Parses one failsafe entry: object {protocol, port, net} or text `proto:port` / `proto:cidr:port` / `port`. */
function parseHostPort(raw: unknown): HostPort {
  let protocol: string;
  let port: number;
  let net: string | undefined;
  if (raw && typeof raw === 'object') {
    const o = raw as { protocol?: unknown; port?: unknown; net?: unknown };
    protocol = String(o.protocol ?? 'tcp');
    port = Number(o.port);
    net = o.net === undefined || o.net === '' ? undefined : String(o.net);
  } else {
    const s = String(raw).trim();
    const first = s.indexOf(':');
    const last = s.lastIndexOf(':');
    if (first < 0) {
      protocol = 'tcp';
      port = Number(s);
    } else {
      protocol = s.slice(0, first);
      port = Number(s.slice(last + 1));
      if (last > first) net = s.slice(first + 1, last).replace(/^\[|\]$/g, '');
    }
  }
  protocol = protocol.toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') {
    throw new ConfigValueError(`protocol "${protocol}" must be tcp, udp or sctp`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigValueError(`port must be 0..65535`);
  if (net !== undefined && !isCidr(net)) throw new ConfigValueError(`net "${net}" is not a CIDR`);
  return net === undefined ? { protocol, port } : { protocol, port, net };
}

function hostPortsField(name: string, defaultText: string): Field<HostPort[]> {
  const parse = (raw: unknown): HostPort[] => {
    if (Array.isArray(raw)) return raw.map(parseHostPort);
    const s = String(raw).trim();
    if (s === '' || s.toLowerCase() === 'none') return [];
    return s.split(',').map((x) => parseHostPort(x));
  };
  return { name, defaultValue: parse(defaultText), parse };
}

function markMaskField(name: string, defaultValue: number): Field<number> {
  return {
    name,
    defaultValue,
    parse(raw) {
      const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
      if (!Number.isInteger(n) || n <= 0 || n > 0xffffffff) throw new ConfigValueError('must be a 32-bit mask');
      if (popCount(n) < 5) throw new ConfigValueError('needs at least 5 bits (accept, pass, drop, scratch0, scratch1)');
      return n;
    },
  };
}

function popCount(n: number): number {
  let c = 0;
  for (let b = 0; b < 32; b++) if ((n >>> b) & 1) c++;
  return c;
}

/** Allocates Felix's mark bits from the mask, lowest bit first. */
export function allocateMarks(mask: number): MarkBits {
  const bits: number[] = [];
  for (let b = 0; b < 32; b++) if ((mask >>> b) & 1) bits.push((1 << b) >>> 0);
  const [accept, pass, drop, scratch0, scratch1] = bits as [number, number, number, number, number];
  const endpoint = bits.slice(5).reduce((a, x) => (a | x) >>> 0, 0);
  return { accept, pass, drop, scratch0, scratch1, endpoint, all: mask >>> 0 };
}

const FIELDS = {
  defaultEndpointToHostAction: enumField('DefaultEndpointToHostAction', 'Drop', ['Drop', 'Return', 'Accept'] as const),
  failsafeInboundHostPorts: hostPortsField(
    'FailsafeInboundHostPorts',
    'tcp:22,udp:68,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667',
  ),
  failsafeOutboundHostPorts: hostPortsField(
    'FailsafeOutboundHostPorts',
    'udp:53,udp:67,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667',
  ),
  chainInsertMode: enumField('ChainInsertMode', 'insert', ['insert', 'append'] as const),
  logPrefix: stringField('LogPrefix', 'calico-packet'),
  iptablesMarkMask: markMaskField('IptablesMarkMask', 0xffff0000),
  filterAllowAction: enumField('IptablesFilterAllowAction', 'Accept', ['Accept', 'Return'] as const),
  mangleAllowAction: enumField('IptablesMangleAllowAction', 'Accept', ['Accept', 'Return'] as const),
  filterDenyAction: enumField('IptablesFilterDenyAction', 'Drop', ['Drop', 'Reject'] as const),
  interfacePrefixes: listField('InterfacePrefix', ['cali']),
  interfaceExclude: interfacePatternListField('InterfaceExclude', ['kube-ipvs0']),
  interfaceRefreshInterval: durationField('InterfaceRefreshInterval', 90),
  disableConntrackInvalidCheck: boolField('DisableConntrackInvalidCheck', false),
  allowVXLANPacketsFromWorkloads: boolField('AllowVXLANPacketsFromWorkloads', false),
  allowIPIPPacketsFromWorkloads: boolField('AllowIPIPPacketsFromWorkloads', false),
  vxlanPort: intField('VXLANPort', 4789, 1, 65535),
  ipv6Support: boolField('Ipv6Support', true),
  floatingIPs: enumField('FloatingIPs', 'Disabled', ['Enabled', 'Disabled'] as const),
  workloadSourceSpoofing: enumField('WorkloadSourceSpoofing', 'Disabled', ['Disabled', 'Any'] as const),
  nftablesRefreshInterval: durationField('NftablesRefreshInterval', 90),
  prometheusMetricsEnabled: boolField('PrometheusMetricsEnabled', false),
  prometheusMetricsHost: stringField('PrometheusMetricsHost', ''),
  prometheusMetricsPort: intField('PrometheusMetricsPort', 9091, 0, 65535),
  healthEnabled: boolField('HealthEnabled', false),
  healthHost: stringField('HealthHost', 'localhost'),
  healthPort: intField('HealthPort', 9099, 0, 65535),
  logSeverityScreen: enumField('LogSeverityScreen', 'Info', ['Debug', 'Info', 'Warning', 'Error', 'Fatal'] as const),
  endpointReportingEnabled: boolField('EndpointReportingEnabled', false),
  routeRefreshInterval: durationField('RouteRefreshInterval', 90),
  vxlanVNI: intField('VXLANVNI', 4096, 1, 16777215),
} satisfies Record<string, Field<unknown>>;

type FieldValues = { [K in keyof typeof FIELDS]: (typeof FIELDS)[K]['defaultValue'] };

/** The effective configuration: DataplaneConfig plus the agent's own settings. */
export type FelixConfig = DataplaneConfig &
  Omit<FieldValues, keyof DataplaneConfig> & {
    /** Where each non-default value came from (field name -> source), for logs and `calicoctl`-style reporting. */
    sources: Record<string, Source>;
  };

export interface FelixConfigInputs {
  env?: Readonly<Record<string, string | undefined>>;
  /** Parameters from Felix's config file (`[global]` of felix.cfg: name = value), read by the caller. */
  file?: Readonly<Record<string, string>>;
  /** spec of FelixConfiguration `node.<nodeName>`. */
  nodeSpec?: Record<string, unknown>;
  /** spec of FelixConfiguration `default`. */
  defaultSpec?: Record<string, unknown>;
}

export interface FelixConfigResult {
  config: FelixConfig;
  /** One line per unusable value: source, field and reason; the field then takes its built-in default. */
  problems: string[];
}

function lowerKeyed(rec: Readonly<Record<string, unknown>> | undefined, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!rec) return out;
  for (const [k, v] of Object.entries(rec)) {
    if (v === undefined || v === null) continue;
    const lk = k.toLowerCase();
    if (prefix) {
      if (lk.startsWith(prefix)) out.set(lk.slice(prefix.length), v);
    } else out.set(lk, v);
  }
  return out;
}

/**
 * Resolves every field: the highest source that sets it wins; an unparsable winning value -> built-in default.
 * `none` sets a list or text field to empty (Felix's "force the zero value").
 */
export function resolveFelixConfig(inputs: FelixConfigInputs): FelixConfigResult {
  const sources: [Source, Map<string, unknown>][] = [
    ['environment', lowerKeyed(inputs.env, 'felix_')],
    ['config file', lowerKeyed(inputs.file)],
    ['FelixConfiguration node', lowerKeyed(inputs.nodeSpec)],
    ['FelixConfiguration default', lowerKeyed(inputs.defaultSpec)],
  ];
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  const from: Record<string, Source> = {};
  for (const [key, field] of Object.entries(FIELDS) as [string, Field<unknown>][]) {
    values[key] = field.defaultValue;
    const lname = field.name.toLowerCase();
    for (const [source, map] of sources) {
      if (!map.has(lname)) continue;
      const raw = map.get(lname);
      try {
        values[key] = field.parse(raw);
        from[key] = source;
      } catch (e) {
        const reason = e instanceof ConfigValueError ? e.message : String(e);
        problems.push(`${source}: ${field.name} = ${JSON.stringify(raw)}: ${reason}; using the default`);
      }
      break;
    }
  }
  const v = values as FieldValues;
  const config: FelixConfig = { ...v, marks: allocateMarks(v.iptablesMarkMask), sources: from };
  return { config, problems };
}

/** Picks the DataplaneConfig subset (what the snapshot carries). */
export function dataplaneConfigOf(c: FelixConfig): DataplaneConfig {
  return {
    defaultEndpointToHostAction: c.defaultEndpointToHostAction,
    failsafeInboundHostPorts: c.failsafeInboundHostPorts,
    failsafeOutboundHostPorts: c.failsafeOutboundHostPorts,
    chainInsertMode: c.chainInsertMode,
    logPrefix: c.logPrefix,
    iptablesMarkMask: c.iptablesMarkMask,
    marks: c.marks,
    filterAllowAction: c.filterAllowAction,
    mangleAllowAction: c.mangleAllowAction,
    filterDenyAction: c.filterDenyAction,
    interfacePrefixes: c.interfacePrefixes,
    interfaceExclude: c.interfaceExclude,
    disableConntrackInvalidCheck: c.disableConntrackInvalidCheck,
    allowVXLANPacketsFromWorkloads: c.allowVXLANPacketsFromWorkloads,
    allowIPIPPacketsFromWorkloads: c.allowIPIPPacketsFromWorkloads,
    vxlanPort: c.vxlanPort,
    ipv6Support: c.ipv6Support,
    floatingIPs: c.floatingIPs,
    workloadSourceSpoofing: c.workloadSourceSpoofing,
    nftablesRefreshInterval: c.nftablesRefreshInterval,
  };
}
