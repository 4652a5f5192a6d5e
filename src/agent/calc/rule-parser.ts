// Parses and validates one projectcalico.org/v3 Rule into a ParsedRule: typed matches, canonical CIDRs, port ranges,
// named ports, and effective source/destination selectors after the namespace/service-account rewriting of
// policy.md §1.4. In: raw rule JSON + the policy's namespace. Out: ParsedRule, or FieldError naming field and reason.
import { canonicalCidr, isCidr } from '../../net/ip.js';
import type { Selector } from '../../selector/index.js';
import type { IpFamily } from '../../net/ip.js';
import { FieldError } from './field-error.js';
import { PROTOCOL_NUMBERS, type PortRange, type RuleAction } from './model.js';
import {
  andNodes,
  namespaceIs,
  namespaceSelectorNode,
  parseField,
  serviceAccountNode,
  toSelector,
} from './selector-rewrite.js';

export interface ParsedSide {
  nets: string[];
  notNets: string[];
  /** Effective selector (namespace / service-account terms included); undefined: no selector criterion. */
  selector?: Selector;
  notSelector?: Selector;
  ports: PortRange[];
  notPorts: PortRange[];
  namedPorts: string[];
  notNamedPorts: string[];
}

export type NamedPortProtocol = 'tcp' | 'udp' | 'sctp';

export interface ParsedRule {
  action: RuleAction;
  ruleIndex: number;
  ipVersion?: IpFamily;
  protocol?: number;
  notProtocol?: number;
  icmpType?: number;
  icmpCode?: number;
  notIcmpType?: number;
  notIcmpCode?: number;
  src: ParsedSide;
  dst: ParsedSide;
  /** Protocol the rule's named ports resolve with: the rule's UDP or SCTP, else TCP (as Felix's rule scanner). */
  namedPortProtocol: NamedPortProtocol;
}

export interface RuleContext {
  /** The namespace of a namespaced policy; undefined for global policies and profiles. */
  namespace?: string;
  /** Field path of the rule, e.g. `spec.ingress[2]`. */
  field: string;
  ruleIndex: number;
}

const ACTIONS: Record<string, RuleAction> = { allow: 'allow', deny: 'deny', pass: 'pass', log: 'log' };
const PORT_PROTOCOLS = new Set<number>([6, 17, 132, 136]);
const NAMED_PORT = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/i;

function parseProtocol(raw: unknown, field: string): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw === 'number' || /^\d+$/.test(String(raw))) {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 255) throw new FieldError(field, `protocol number ${raw} must be 1..255`);
    return n;
  }
  const n = (PROTOCOL_NUMBERS as Record<string, number>)[String(raw).toLowerCase()];
  if (n === undefined) {
    throw new FieldError(
      field,
      `unknown protocol ${JSON.stringify(raw)} (TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or 1..255)`,
    );
  }
  return n;
}

function parsePortNumber(text: string, field: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new FieldError(field, `port ${JSON.stringify(text)} must be 0..65535`);
  return n;
}

function parsePorts(raw: unknown, field: string): { ranges: PortRange[]; named: string[] } {
  const ranges: PortRange[] = [];
  const named: string[] = [];
  if (raw === undefined || raw === null) return { ranges, named };
  if (!Array.isArray(raw)) throw new FieldError(field, 'must be a list of ports');
  raw.forEach((p, i) => {
    const f = `${field}[${i}]`;
    if (typeof p === 'number') {
      if (!Number.isInteger(p) || p < 0 || p > 65535) throw new FieldError(f, `port ${p} must be 0..65535`);
      ranges.push({ first: p, last: p });
      return;
    }
    const s = String(p).trim();
    const colon = s.indexOf(':');
    if (colon >= 0) {
      const first = parsePortNumber(s.slice(0, colon), f);
      const last = parsePortNumber(s.slice(colon + 1), f);
      if (first > last) throw new FieldError(f, `range ${JSON.stringify(s)}: start is greater than end`);
      ranges.push({ first, last });
    } else if (/^\d+$/.test(s)) {
      const n = parsePortNumber(s, f);
      ranges.push({ first: n, last: n });
    } else if (NAMED_PORT.test(s) && s.length <= 63) {
      if (!named.includes(s)) named.push(s);
    } else {
      throw new FieldError(f, `${JSON.stringify(p)} is not a port, a "min:max" range or a port name`);
    }
  });
  return { ranges, named };
}

function parseNets(raw: unknown, field: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new FieldError(field, 'must be a list of CIDRs');
  return raw.map((n, i) => {
    const s = String(n);
    if (!isCidr(s)) throw new FieldError(`${field}[${i}]`, `${JSON.stringify(n)} is not a CIDR or IP address`);
    return canonicalCidr(s);
  });
}

function parseSide(raw: any, ctx: RuleContext, side: 'source' | 'destination'): ParsedSide {
  const field = `${ctx.field}.${side}`;
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new FieldError(field, 'must be an object (nets, selector, ports, ...)');
  }
  const e = (raw ?? {}) as Record<string, any>;
  if (e.services !== undefined && e.services !== null) {
    throw new FieldError(`${field}.services`, 'Kubernetes Service matches are not supported by this agent');
  }
  const hasSelectorTerms = !!e.selector || !!e.notSelector || !!e.namespaceSelector || !!e.serviceAccounts;
  let selector: Selector | undefined;
  if (hasSelectorTerms) {
    const nsPart = e.namespaceSelector
      ? namespaceSelectorNode(String(e.namespaceSelector), `${field}.namespaceSelector`)
      : ctx.namespace !== undefined
        ? namespaceIs(ctx.namespace)
        : undefined;
    const saPart = serviceAccountNode(e.serviceAccounts, `${field}.serviceAccounts`);
    const selPart = e.selector ? parseField(String(e.selector), `${field}.selector`).ast : undefined;
    const node = andNodes([nsPart, saPart, selPart]);
    if (node) selector = toSelector(node);
  }
  const notSelector = e.notSelector ? parseField(String(e.notSelector), `${field}.notSelector`) : undefined;
  const ports = parsePorts(e.ports, `${field}.ports`);
  const notPorts = parsePorts(e.notPorts, `${field}.notPorts`);
  return {
    nets: parseNets(e.nets, `${field}.nets`),
    notNets: parseNets(e.notNets, `${field}.notNets`),
    selector,
    notSelector,
    ports: ports.ranges,
    notPorts: notPorts.ranges,
    namedPorts: ports.named,
    notNamedPorts: notPorts.named,
  };
}

function parseIcmp(raw: any, field: string): { type?: number; code?: number } {
  if (raw === undefined || raw === null) return {};
  const out: { type?: number; code?: number } = {};
  if (raw.type !== undefined && raw.type !== null) {
    if (!Number.isInteger(raw.type) || raw.type < 0 || raw.type > 254)
      throw new FieldError(`${field}.type`, 'must be 0..254');
    out.type = raw.type;
  }
  if (raw.code !== undefined && raw.code !== null) {
    if (out.type === undefined) throw new FieldError(`${field}.code`, 'an ICMP code needs an ICMP type');
    if (!Number.isInteger(raw.code) || raw.code < 0 || raw.code > 255)
      throw new FieldError(`${field}.code`, 'must be 0..255');
    out.code = raw.code;
  }
  return out;
}

const familyOf = (cidr: string): IpFamily => (cidr.includes(':') ? 6 : 4);

export function parseRule(raw: unknown, ctx: RuleContext): ParsedRule {
  if (!raw || typeof raw !== 'object') throw new FieldError(ctx.field, 'must be an object');
  const r = raw as Record<string, any>;
  const action = ACTIONS[String(r.action ?? '').toLowerCase()];
  if (!action)
    throw new FieldError(`${ctx.field}.action`, `${JSON.stringify(r.action)} must be Allow, Deny, Pass or Log`);

  const protocol = parseProtocol(r.protocol, `${ctx.field}.protocol`);
  const notProtocol = parseProtocol(r.notProtocol, `${ctx.field}.notProtocol`);
  const icmp = parseIcmp(r.icmp, `${ctx.field}.icmp`);
  const notIcmp = parseIcmp(r.notICMP, `${ctx.field}.notICMP`);
  const isIcmp = protocol === 1 || protocol === 58;
  if ((icmp.type !== undefined || notIcmp.type !== undefined) && !isIcmp) {
    throw new FieldError(`${ctx.field}.icmp`, 'ICMP matches need protocol ICMP or ICMPv6');
  }

  let ipVersion: IpFamily | undefined;
  if (r.ipVersion !== undefined && r.ipVersion !== null) {
    if (r.ipVersion !== 4 && r.ipVersion !== 6) throw new FieldError(`${ctx.field}.ipVersion`, 'must be 4 or 6');
    ipVersion = r.ipVersion;
  }
  if (protocol === 1 || protocol === 58) {
    const implied: IpFamily = protocol === 1 ? 4 : 6;
    if (ipVersion !== undefined && ipVersion !== implied) {
      throw new FieldError(`${ctx.field}.ipVersion`, `ipVersion ${ipVersion} contradicts protocol ${r.protocol}`);
    }
    ipVersion = implied;
  }

  const src = parseSide(r.source, ctx, 'source');
  const dst = parseSide(r.destination, ctx, 'destination');
  if (ipVersion !== undefined) {
    for (const [side, name] of [
      [src, 'source'],
      [dst, 'destination'],
    ] as const) {
      for (const key of ['nets', 'notNets'] as const) {
        const bad = side[key].find((n) => familyOf(n) !== ipVersion);
        if (bad)
          throw new FieldError(`${ctx.field}.${name}.${key}`, `${bad} is not an IPv${ipVersion} CIDR (ipVersion)`);
      }
    }
  }
  const numericPorts = src.ports.length + src.notPorts.length + dst.ports.length + dst.notPorts.length > 0;
  if (numericPorts && (protocol === undefined || !PORT_PROTOCOLS.has(protocol))) {
    throw new FieldError(`${ctx.field}.protocol`, 'numeric ports need protocol TCP, UDP, SCTP or UDPLite');
  }
  const anyNamed = src.namedPorts.length + src.notNamedPorts.length + dst.namedPorts.length + dst.notNamedPorts.length;
  if (anyNamed > 0 && protocol !== undefined && protocol !== 6 && protocol !== 17 && protocol !== 132) {
    throw new FieldError(`${ctx.field}.protocol`, 'named ports need protocol TCP, UDP or SCTP (or none)');
  }
  const namedPortProtocol: NamedPortProtocol = protocol === 17 ? 'udp' : protocol === 132 ? 'sctp' : 'tcp';

  const out: ParsedRule = { action, ruleIndex: ctx.ruleIndex, src, dst, namedPortProtocol };
  if (ipVersion !== undefined) out.ipVersion = ipVersion;
  if (protocol !== undefined) out.protocol = protocol;
  if (notProtocol !== undefined) out.notProtocol = notProtocol;
  if (icmp.type !== undefined) out.icmpType = icmp.type;
  if (icmp.code !== undefined) out.icmpCode = icmp.code;
  if (notIcmp.type !== undefined) out.notIcmpType = notIcmp.type;
  if (notIcmp.code !== undefined) out.notIcmpCode = notIcmp.code;
  return out;
}
