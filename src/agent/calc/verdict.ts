// PolicyEvaluator: the verdict a desired dataplane gives one packet, computed straight from the model (policy.md §3):
// tiers in order (first Allow/Deny wins, Pass leaves the tier, Log goes on, end of tier drops unless it passes),
// then profiles, then drop. A reference oracle for tests of the graph and of the nftables rendering. Pure.
// Not modelled here (the dataplane's job): conntrack, anti-spoofing, failsafe ports, host-endpoint paths.
import { cidrContainsIp, parseCidr, parseIp, type IpFamily } from '../../net/ip.js';
import {
  netsOfFamily,
  parseNamedPortMember,
  protocolName,
  ruleAppliesToFamily,
  type CompiledPolicy,
  type CompiledRule,
  type DataplaneSnapshot,
  type DirectionPolicies,
  type EndpointId,
  type PortRange,
} from './model.js';

export interface Packet {
  srcIp: string;
  dstIp: string;
  /** IANA protocol number (6 tcp, 17 udp, 1 icmp, 58 icmpv6, 132 sctp). */
  protocol: number;
  srcPort?: number;
  dstPort?: number;
  icmpType?: number;
  icmpCode?: number;
}

export interface Verdict {
  verdict: 'allow' | 'deny';
  /** What decided: `<policy id> rule <n>`, `end of tier <name>`, `<profile> rule <n>`, `no profile matched`. */
  by: string;
  /** `<policy or profile id> rule <n>` of every Log rule hit on the way. */
  logged: string[];
}

function inRanges(port: number | undefined, ranges: readonly PortRange[]): boolean {
  return port !== undefined && ranges.some((r) => port >= r.first && port <= r.last);
}

function inNets(ip: string, nets: readonly string[]): boolean {
  const addr = parseIp(ip);
  return nets.some((n) => {
    const c = parseCidr(n);
    return c.family === addr.family && cidrContainsIp(c, addr);
  });
}

export class PolicyEvaluator {
  readonly #snap: DataplaneSnapshot;

  constructor(snapshot: DataplaneSnapshot) {
    this.#snap = snapshot;
  }

  /** Verdict for a packet entering (`ingress`) or leaving (`egress`) a local endpoint. */
  evaluate(endpointId: EndpointId, direction: 'ingress' | 'egress', pkt: Packet): Verdict {
    const ep = this.#snap.endpoints.get(endpointId);
    if (!ep) throw new Error(`no local endpoint ${endpointId}`);
    return this.evaluateDirection(ep[direction], direction, pkt);
  }

  evaluateDirection(dp: DirectionPolicies, direction: 'ingress' | 'egress', pkt: Packet): Verdict {
    const logged: string[] = [];
    tiers: for (const tier of dp.tiers) {
      for (const pid of tier.policyIds) {
        const result = this.#runChain(this.#snap.policies.get(pid), pid, direction, pkt, logged);
        if (result === 'pass') continue tiers;
        if (result) return { ...result, logged };
      }
      if (tier.endOfTierDrop) return { verdict: 'deny', by: `end of tier ${tier.name}`, logged };
    }
    for (const prof of dp.profileIds) {
      const result = this.#runChain(this.#snap.profiles.get(prof), prof, direction, pkt, logged);
      if (result && result !== 'pass') return { ...result, logged };
    }
    return { verdict: 'deny', by: 'no profile matched', logged };
  }

  /** Runs one policy/profile chain: a verdict, 'pass', or undefined when no terminal rule matched. */
  #runChain(
    chain: CompiledPolicy | undefined,
    id: string,
    direction: 'ingress' | 'egress',
    pkt: Packet,
    logged: string[],
  ): Omit<Verdict, 'logged'> | 'pass' | undefined {
    if (!chain) throw new Error(`${id} is referenced but not in the snapshot`);
    for (const rule of direction === 'ingress' ? chain.inbound : chain.outbound) {
      if (!this.matches(rule, pkt)) continue;
      const by = `${id} rule ${rule.ruleIndex}`;
      switch (rule.action) {
        case 'allow':
          return { verdict: 'allow', by };
        case 'deny':
          return { verdict: 'deny', by };
        case 'pass':
          return 'pass';
        case 'log':
          logged.push(by);
      }
    }
    return undefined;
  }

  matches(rule: CompiledRule, pkt: Packet): boolean {
    const family: IpFamily = pkt.srcIp.includes(':') ? 6 : 4;
    if (!ruleAppliesToFamily(rule, family)) return false;
    if (rule.protocol !== undefined && rule.protocol !== pkt.protocol) return false;
    if (rule.notProtocol !== undefined && rule.notProtocol === pkt.protocol) return false;
    if (rule.icmpType !== undefined && rule.icmpType !== pkt.icmpType) return false;
    if (rule.icmpCode !== undefined && rule.icmpCode !== pkt.icmpCode) return false;
    if (rule.notIcmpType !== undefined && rule.notIcmpType === pkt.icmpType) {
      if (rule.notIcmpCode === undefined || rule.notIcmpCode === pkt.icmpCode) return false;
    }
    for (const [ip, port, side] of [
      [pkt.srcIp, pkt.srcPort, 'src'],
      [pkt.dstIp, pkt.dstPort, 'dst'],
    ] as const) {
      const nets = side === 'src' ? rule.srcNets : rule.dstNets;
      const notNets = side === 'src' ? rule.notSrcNets : rule.notDstNets;
      const sets = side === 'src' ? rule.srcIpSetIds : rule.dstIpSetIds;
      const notSets = side === 'src' ? rule.notSrcIpSetIds : rule.notDstIpSetIds;
      const ports = side === 'src' ? rule.srcPorts : rule.dstPorts;
      const notPorts = side === 'src' ? rule.notSrcPorts : rule.notDstPorts;
      const named = side === 'src' ? rule.srcNamedPortIpSetIds : rule.dstNamedPortIpSetIds;
      const notNamed = side === 'src' ? rule.notSrcNamedPortIpSetIds : rule.notDstNamedPortIpSetIds;
      if (nets.length > 0 && !inNets(ip, netsOfFamily(nets, family))) return false;
      if (notNets.length > 0 && inNets(ip, netsOfFamily(notNets, family))) return false;
      if (!sets.every((id) => this.#inSet(id, ip))) return false;
      if (notSets.some((id) => this.#inSet(id, ip))) return false;
      if (ports.length + named.length > 0) {
        const hit = inRanges(port, ports) || named.some((id) => this.#inNamedPortSet(id, ip, pkt.protocol, port));
        if (!hit) return false;
      }
      if (inRanges(port, notPorts)) return false;
      if (notNamed.some((id) => this.#inNamedPortSet(id, ip, pkt.protocol, port))) return false;
    }
    return true;
  }

  #inSet(id: string, ip: string): boolean {
    const set = this.#snap.ipSets.get(id);
    if (!set) throw new Error(`IP set ${id} is referenced but not in the snapshot`);
    return inNets(ip, ip.includes(':') ? set.v6Members : set.v4Members);
  }

  #inNamedPortSet(id: string, ip: string, protocol: number, port: number | undefined): boolean {
    const set = this.#snap.ipSets.get(id);
    if (!set) throw new Error(`IP set ${id} is referenced but not in the snapshot`);
    const proto = protocolName(protocol);
    return (ip.includes(':') ? set.v6Members : set.v4Members).some((m) => {
      const p = parseNamedPortMember(m);
      return p.ip === ip && p.protocol === proto && p.port === port;
    });
  }
}
