// Validates configuration kinds beyond their field tables: FelixConfiguration cross-field rules (node port
// ranges, IPv4-only addresses, route table ranges, host names) and Node's BGP section.
import { parseCidr, parseIp } from '../../net/ip.js';
import { isDns1123Label } from '../names.js';
import { at, type ProblemSink } from '../problems.js';
import { asArray, asObject, asString, isSet } from './values.js';

const HOST = /^[a-zA-Z0-9:._+-]{1,64}$/;
const HEALTH_OVERRIDE_NAME = /^[a-zA-Z0-9_ -]+$/;
const IFACE = /^[a-zA-Z0-9_.-]{1,15}$/;
const MAX_ROUTE_TABLES = 0xffff;
const OPENSTACK_REGION_MAX = 63 - 'openstack-region-'.length;

function ipOfFamily(v: unknown, fam: 4 | 6, path: string, sink: ProblemSink): void {
  const s = asString(v);
  if (!s) return;
  try {
    if (parseIp(s).family === fam) return;
  } catch {
    // fall through
  }
  sink.add(path, `is not a valid IPv${fam} address: ${JSON.stringify(s)}`);
}

export function validateFelixConfiguration(spec: Record<string, unknown>, sink: ProblemSink): void {
  asArray(spec.kubeNodePortRanges).forEach((p, i) => {
    if (typeof p === 'string' && !/^\d+(:\d+)?$/.test(p))
      sink.add(at('spec.kubeNodePortRanges', i), 'node port ranges must not contain named ports');
  });
  for (const field of ['natPortRange', 'bpfPSNATPorts'] as const) {
    const p = spec[field];
    if (typeof p === 'string' && !/^\d+(:\d+)?$/.test(p))
      sink.add(`spec.${field}`, 'must be a port or port range, not a named port');
  }
  asArray(spec.externalNodesList).forEach((c, i) => {
    if (typeof c !== 'string') return;
    try {
      if (parseCidr(c).family !== 4)
        sink.add(at('spec.externalNodesList', i), `has an IPv6 CIDR ${JSON.stringify(c)}; only IPv4 is supported`);
    } catch {
      sink.add(at('spec.externalNodesList', i), `invalid CIDR ${JSON.stringify(c)}`);
    }
  });
  const region = asString(spec.openstackRegion);
  if (region) {
    if (region.length > OPENSTACK_REGION_MAX)
      sink.add('spec.openstackRegion', `is too long (at most ${OPENSTACK_REGION_MAX} characters)`);
    else if (!isDns1123Label(region)) sink.add('spec.openstackRegion', 'must be a valid DNS label');
  }
  ipOfFamily(spec.natOutgoingAddress, 4, 'spec.natOutgoingAddress', sink);
  ipOfFamily(spec.deviceRouteSourceAddress, 4, 'spec.deviceRouteSourceAddress', sink);
  ipOfFamily(spec.deviceRouteSourceAddressIPv6, 6, 'spec.deviceRouteSourceAddressIPv6', sink);

  let tables = 0;
  asArray(spec.routeTableRanges).forEach((r, i) => {
    const { min, max } = asObject(r);
    if (typeof min === 'number' && typeof max === 'number') {
      if (min > max) sink.add(at('spec.routeTableRanges', i), `min (${min}) must not exceed max (${max})`);
      else tables += max - min + 1;
    }
  });
  if (tables > MAX_ROUTE_TABLES)
    sink.add('spec.routeTableRanges', `targets too many tables (${tables}; at most ${MAX_ROUTE_TABLES})`);
  const single = asObject(spec.routeTableRange);
  if (typeof single.min === 'number' && typeof single.max === 'number') {
    if (single.min > single.max)
      sink.add('spec.routeTableRange', `min (${single.min}) must not exceed max (${single.max})`);
    if (single.max > 250) sink.add('spec.routeTableRange.max', `must be <= 250, got ${single.max}`);
  }
  for (const field of ['prometheusMetricsHost', 'healthHost', 'debugHost'] as const) {
    const h = asString(spec[field]);
    if (h && !HOST.test(h))
      sink.add(
        `spec.${field}`,
        `invalid host ${JSON.stringify(h)}: an IP or a name of [a-zA-Z0-9:._+-], at most 64 characters`,
      );
  }
  asArray(spec.healthTimeoutOverrides).forEach((o, i) => {
    const name = asString(asObject(o).name);
    if (name && !HEALTH_OVERRIDE_NAME.test(name))
      sink.add(at(at('spec.healthTimeoutOverrides', i), 'name'), `must match ${HEALTH_OVERRIDE_NAME.source}`);
    const timeout = asString(asObject(o).timeout);
    if (timeout?.startsWith('-')) sink.add(at(at('spec.healthTimeoutOverrides', i), 'timeout'), 'must not be negative');
  });
  for (const key of Object.keys(asObject(spec.bpfLogFilters))) {
    if (!IFACE.test(key)) sink.add(at('spec.bpfLogFilters', key), `invalid interface name ${JSON.stringify(key)}`);
  }
}

export function validateNode(spec: Record<string, unknown>, sink: ProblemSink): void {
  if (spec.bgp !== undefined && spec.bgp !== null) {
    const bgp = asObject(spec.bgp);
    if (!Object.values(bgp).some(isSet)) sink.add('spec.bgp', 'must not be empty (omit it on nodes without BGP)');
  }
}
