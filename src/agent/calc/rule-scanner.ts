// RuleScanner: turns the parsed rules of ACTIVE policies and profiles into CompiledRules, giving every distinct
// selector (and selector+named port+protocol) an IP set id, reference-counted across all active rules.
// In: setRules(ownerId, rules | undefined). Out: compiled rules, plus onIpSetActive/onIpSetInactive when a set's
// first user appears or its last user goes (new references are taken before old ones are dropped, so an update
// never removes and re-adds a set).
import { createHash } from 'node:crypto';
import type { Selector } from '../../selector/index.js';
import type { CompiledRule, IpSetId, IpSetType } from './model.js';
import type { NamedPortProtocol, ParsedRule, ParsedSide } from './rule-parser.js';
import { parseSelector } from '../../selector/index.js';

export interface IpSetDescriptor {
  id: IpSetId;
  type: IpSetType;
  selector: Selector;
  /** For `net,port` sets: the port name and protocol the members must declare. */
  namedPort?: { name: string; protocol: NamedPortProtocol };
}

export interface RuleScannerCallbacks {
  onIpSetActive(set: IpSetDescriptor): void;
  onIpSetInactive(id: IpSetId): void;
}

export interface RuleSet {
  inbound: ParsedRule[];
  outbound: ParsedRule[];
}

export interface CompiledRules {
  inbound: CompiledRule[];
  outbound: CompiledRule[];
}

const ALL = parseSelector('all()');

export function namedPortSetId(selector: Selector, protocol: NamedPortProtocol, name: string): IpSetId {
  const text = `${selector.toString()},${protocol},${name}`;
  return (
    'n:' +
    createHash('sha224')
      .update('n:' + text)
      .digest('base64url')
  );
}

export class RuleScanner {
  readonly #callbacks: RuleScannerCallbacks;
  /** Owner (policy or profile id) -> the IP sets its rules use. */
  readonly #ownerSets = new Map<string, Map<IpSetId, IpSetDescriptor>>();
  readonly #refCounts = new Map<IpSetId, number>();

  constructor(callbacks: RuleScannerCallbacks) {
    this.#callbacks = callbacks;
  }

  get activeIpSetCount(): number {
    return this.#refCounts.size;
  }

  /** Records the rules of an active owner (undefined: it is no longer active) and returns them compiled. */
  setRules(ownerId: string, rules: RuleSet | undefined, logPrefix: string): CompiledRules | undefined {
    const next = new Map<IpSetId, IpSetDescriptor>();
    let compiled: CompiledRules | undefined;
    if (rules) {
      compiled = {
        inbound: rules.inbound.map((r) => compileRule(r, next, logPrefix)),
        outbound: rules.outbound.map((r) => compileRule(r, next, logPrefix)),
      };
    }
    const prev = this.#ownerSets.get(ownerId);
    for (const [id, desc] of next) {
      if (prev?.has(id)) continue;
      const n = this.#refCounts.get(id) ?? 0;
      this.#refCounts.set(id, n + 1);
      if (n === 0) this.#callbacks.onIpSetActive(desc);
    }
    if (prev) {
      for (const id of prev.keys()) {
        if (next.has(id)) continue;
        const n = this.#refCounts.get(id)! - 1;
        if (n === 0) {
          this.#refCounts.delete(id);
          this.#callbacks.onIpSetInactive(id);
        } else this.#refCounts.set(id, n);
      }
    }
    if (rules) this.#ownerSets.set(ownerId, next);
    else this.#ownerSets.delete(ownerId);
    return compiled;
  }
}

function selectorSet(sel: Selector, used: Map<IpSetId, IpSetDescriptor>): IpSetId {
  const id = sel.uniqueId();
  if (!used.has(id)) used.set(id, { id, type: 'net', selector: sel });
  return id;
}

function namedPortSets(
  side: ParsedSide,
  names: string[],
  protocol: NamedPortProtocol,
  used: Map<IpSetId, IpSetDescriptor>,
): IpSetId[] {
  const sel = side.selector ?? ALL;
  return names.map((name) => {
    const id = namedPortSetId(sel, protocol, name);
    if (!used.has(id)) used.set(id, { id, type: 'net,port', selector: sel, namedPort: { name, protocol } });
    return id;
  });
}

function compileRule(r: ParsedRule, used: Map<IpSetId, IpSetDescriptor>, logPrefix: string): CompiledRule {
  const out: CompiledRule = {
    action: r.action,
    ruleIndex: r.ruleIndex,
    srcNets: r.src.nets,
    notSrcNets: r.src.notNets,
    dstNets: r.dst.nets,
    notDstNets: r.dst.notNets,
    srcIpSetIds: r.src.selector ? [selectorSet(r.src.selector, used)] : [],
    notSrcIpSetIds: r.src.notSelector ? [selectorSet(r.src.notSelector, used)] : [],
    dstIpSetIds: r.dst.selector ? [selectorSet(r.dst.selector, used)] : [],
    notDstIpSetIds: r.dst.notSelector ? [selectorSet(r.dst.notSelector, used)] : [],
    srcNamedPortIpSetIds: namedPortSets(r.src, r.src.namedPorts, r.namedPortProtocol, used),
    notSrcNamedPortIpSetIds: namedPortSets(r.src, r.src.notNamedPorts, r.namedPortProtocol, used),
    dstNamedPortIpSetIds: namedPortSets(r.dst, r.dst.namedPorts, r.namedPortProtocol, used),
    notDstNamedPortIpSetIds: namedPortSets(r.dst, r.dst.notNamedPorts, r.namedPortProtocol, used),
    srcPorts: r.src.ports,
    notSrcPorts: r.src.notPorts,
    dstPorts: r.dst.ports,
    notDstPorts: r.dst.notPorts,
  };
  if (r.ipVersion !== undefined) out.ipVersion = r.ipVersion;
  if (r.protocol !== undefined) out.protocol = r.protocol;
  if (r.notProtocol !== undefined) out.notProtocol = r.notProtocol;
  if (r.icmpType !== undefined) out.icmpType = r.icmpType;
  if (r.icmpCode !== undefined) out.icmpCode = r.icmpCode;
  if (r.notIcmpType !== undefined) out.notIcmpType = r.notIcmpType;
  if (r.notIcmpCode !== undefined) out.notIcmpCode = r.notIcmpCode;
  if (r.action === 'log') out.logPrefix = logPrefix;
  return out;
}
