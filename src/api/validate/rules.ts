// Validates policy rules as libcalico-go does: ports only with port-capable protocols, ICMP fields only with ICMP,
// one IP family per rule (nets vs ipVersion), CIDR masking, global() placement, and Services/HTTP restrictions.
import { hasHostBits, parseCidr } from '../../net/ip.js';
import { at, type ProblemSink } from '../problems.js';
import { validateAnnotations } from './metadata.js';
import { asArray, asObject, asString, isSet, selectorUsesGlobal } from './values.js';

export type RuleDirection = 'ingress' | 'egress';
/** Where the rules live: services need a namespace in cluster-scoped policies. */
export type RuleScope = 'namespaced' | 'global' | 'profile';

const PORT_PROTOCOL_NAMES = new Set(['tcp', 'udp', 'sctp']);
const PORT_PROTOCOL_NUMBERS = new Set([6, 17, 132]);

/** numorstring.Protocol.SupportsPorts: TCP, UDP, SCTP by name (any case) or number. */
export function protocolSupportsPorts(protocol: unknown): boolean {
  if (typeof protocol === 'number') return PORT_PROTOCOL_NUMBERS.has(protocol);
  if (typeof protocol === 'string') {
    if (/^\d+$/.test(protocol)) return PORT_PROTOCOL_NUMBERS.has(Number(protocol));
    return PORT_PROTOCOL_NAMES.has(protocol.toLowerCase());
  }
  return false;
}

/** 4 for ICMP, 6 for ICMPv6, undefined for anything else. */
function icmpVersion(protocol: unknown): 4 | 6 | undefined {
  const p = typeof protocol === 'string' ? protocol.toLowerCase() : protocol;
  if (p === 'icmp' || p === 1 || p === '1') return 4;
  if (p === 'icmpv6' || p === 58 || p === '58') return 6;
  return undefined;
}

const isNamedPort = (p: unknown): boolean => typeof p === 'string' && !/^\d+(:\d+)?$/.test(p);

function validateEntityRule(
  er: Record<string, unknown>,
  path: string,
  sink: ProblemSink,
  ctx: { direction: RuleDirection; side: 'source' | 'destination'; scope: RuleScope },
): void {
  const nsSel = asString(er.namespaceSelector);
  if (nsSel && selectorUsesGlobal(nsSel) && nsSel.replace(/\s+/g, '') !== 'global()') {
    sink.add(at(path, 'namespaceSelector'), 'global() cannot be combined with other selectors');
  }
  for (const [i, name] of asArray(asObject(er.serviceAccounts).names).entries()) {
    if (typeof name === 'string' && name === '')
      sink.add(at(at(path, 'serviceAccounts.names'), i), 'must not be empty');
  }

  if (er.services !== undefined && er.services !== null) {
    const svc = asObject(er.services);
    const svcPath = at(path, 'services');
    if (!asString(svc.name)) sink.add(at(svcPath, 'name'), 'must specify a service name');
    if (isSet(er.selector) || isSet(er.notSelector)) {
      sink.add(svcPath, 'cannot specify selector/notSelector and services on the same rule');
    }
    if (isSet(er.nets) || isSet(er.notNets)) {
      sink.add(svcPath, 'cannot specify nets/notNets and services on the same rule');
    }
    const allowedSide = ctx.direction === 'egress' ? 'destination' : 'source';
    if (ctx.side !== allowedSide) {
      sink.add(svcPath, `not allowed in ${ctx.direction} rule ${ctx.side} (only in the ${allowedSide})`);
    } else if (ctx.scope !== 'namespaced' && !asString(svc.namespace)) {
      sink.add(at(svcPath, 'namespace'), 'must specify a namespace (service names are not namespaced here)');
    }
  }
}

export function validateRule(
  rule: Record<string, unknown>,
  path: string,
  sink: ProblemSink,
  direction: RuleDirection,
  scope: RuleScope,
): void {
  const ipVersion = rule.ipVersion;
  if (typeof ipVersion === 'number' && ipVersion !== 4 && ipVersion !== 6) {
    sink.add(at(path, 'ipVersion'), `must be 4 or 6, got ${ipVersion}`);
  }
  const protocol = rule.protocol ?? undefined;
  const src = asObject(rule.source);
  const dst = asObject(rule.destination);
  const sides = [
    ['source', src],
    ['destination', dst],
  ] as const;

  // Ports: without a protocol only named ports; with a protocol that has no ports, none at all.
  for (const [side, er] of sides) {
    for (const field of ['ports', 'notPorts'] as const) {
      const ports = asArray(er[field]);
      if (ports.length === 0) continue;
      const listPath = at(at(path, side), field);
      if (protocol === undefined) {
        ports.forEach((p, i) => {
          if (!isNamedPort(p)) {
            sink.add(at(listPath, i), 'rules with a numeric port or port range must set protocol to TCP, UDP or SCTP');
          }
        });
      } else if (!protocolSupportsPorts(protocol)) {
        sink.add(
          listPath,
          `protocol ${String(protocol)} has no ports: rules that specify ports must set protocol to TCP, UDP or SCTP`,
        );
      }
    }
  }

  // ICMP matches need an ICMP protocol of the right family; a code needs a type.
  const icmpV = icmpVersion(protocol);
  for (const field of ['icmp', 'notICMP'] as const) {
    if (rule[field] === undefined || rule[field] === null) continue;
    const icmp = asObject(rule[field]);
    if (icmpV === undefined) sink.add(at(path, field), 'requires protocol ICMP or ICMPv6');
    if (icmp.code !== undefined && icmp.code !== null && (icmp.type === undefined || icmp.type === null)) {
      sink.add(at(at(path, field), 'code'), 'icmp code requires an icmp type');
    }
  }
  const notIcmpV = icmpVersion(rule.notProtocol);
  for (const [v, field] of [
    [icmpV, 'protocol'],
    [notIcmpV, 'notProtocol'],
  ] as const) {
    if (v !== undefined && (ipVersion === 4 || ipVersion === 6) && v !== ipVersion) {
      sink.add(at(path, field), `${v === 4 ? 'ICMP' : 'ICMPv6'} does not match ipVersion ${ipVersion}`);
    }
  }

  // One IP family per rule; CIDRs strictly masked; negating everything matches nothing.
  let seen4 = false;
  let seen6 = false;
  for (const [side, er] of sides) {
    for (const field of ['nets', 'notNets'] as const) {
      let v4 = false;
      let v6 = false;
      const listPath = at(at(path, side), field);
      asArray(er[field]).forEach((n, i) => {
        if (typeof n !== 'string') return;
        const itemPath = at(listPath, i);
        let fam: 4 | 6;
        try {
          if (!n.includes('/')) throw new Error('no prefix');
          const c = parseCidr(n);
          fam = c.family;
          if (hasHostBits(n)) {
            sink.add(itemPath, `CIDR ${JSON.stringify(n)} has host bits set (not strictly masked)`);
          }
          if (field === 'notNets' && c.prefix === 0) {
            sink.add(itemPath, 'catch-all CIDR in notNets matches no traffic');
          }
        } catch {
          sink.add(itemPath, `invalid CIDR ${JSON.stringify(n)} (use address/prefix, e.g. 10.0.0.0/8)`);
          return;
        }
        if (fam === 4) v4 = true;
        else v6 = true;
      });
      if ((ipVersion === 4 && v6) || (ipVersion === 6 && v4)) {
        sink.add(listPath, `rule ipVersion ${ipVersion} doesn't match the CIDR version`);
      }
      if ((v4 && seen6) || (v6 && seen4) || (v4 && v6)) {
        sink.add(listPath, 'rule contains both IPv4 and IPv6 CIDRs');
      }
      seen4 ||= v4;
      seen6 ||= v6;
    }
  }

  for (const [side, er] of sides) {
    validateEntityRule(er, at(path, side), sink, { direction, side, scope });
  }

  if (rule.http !== undefined && rule.http !== null) {
    const http = asObject(rule.http);
    if (direction === 'egress') sink.add(at(path, 'http'), 'not allowed in egress rules');
    const methods = asArray(http.methods);
    if (new Set(methods).size !== methods.length) sink.add(at(path, 'http.methods'), 'contains duplicates');
    asArray(http.paths).forEach((p, i) => {
      const hp = asObject(p);
      const pPath = at(at(path, 'http.paths'), i);
      const exact = asString(hp.exact);
      const prefix = asString(hp.prefix);
      if (exact && prefix) return sink.add(pPath, "set only one of 'exact' and 'prefix'");
      const v = exact ?? prefix;
      if (!v) return sink.add(pPath, "one of 'exact' or 'prefix' is required");
      if (!v.startsWith('/') || /[? #]/.test(v))
        sink.add(pPath, `invalid path ${JSON.stringify(v)}: must start with '/' and not contain '?', '#' or spaces`);
    });
  }
  const meta = asObject(rule.metadata);
  validateAnnotations(meta.annotations, at(path, 'metadata.annotations'), sink);
}

export function validateRules(
  rules: unknown,
  path: string,
  sink: ProblemSink,
  direction: RuleDirection,
  scope: RuleScope,
): void {
  asArray(rules).forEach((r, i) => validateRule(asObject(r), at(path, i), sink, direction, scope));
}
