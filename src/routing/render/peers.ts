// Works out the BGP sessions one node runs (confd's bgp_processor): the node-to-node mesh, BGPPeers that apply to
// this node (global, node-specific, nodeSelector), peerSelector peers expanded to Calico nodes, and route-reflector
// client marking. In: RoutingState + node name. Out: one BgpSession per protocol, named Mesh_/Node_/Global_. Pure.
import { parseCidr, cidrContainsIp, parseIp, formatIp, type IpFamily } from '../../net/ip.js';
import { matchLabels, type LabelMatcher } from './label-match.js';
import {
  type RoutingState,
  type RoutingNode,
  type BgpPeer,
  hostIp,
  durationSeconds,
  RoutingInputError,
} from './state.js';

export interface BgpSession {
  /** BIRD protocol name, e.g. Mesh_10_0_0_2, Global_192_0_2_1_port_1790. */
  name: string;
  kind: 'Mesh' | 'Node' | 'Global';
  family: IpFamily;
  peerIP: string;
  port?: number;
  peerAS: number;
  localAS: number;
  /** Local address to bind (sourceAddress UseNodeIP), if any. */
  sourceAddress?: string;
  /** Peer shares a connected subnet with this node: direct session, `gateway direct`. */
  sameSubnet: boolean;
  passive: boolean;
  ttlSecurity?: number;
  keepaliveTime?: number;
  holdTime?: number;
  gracefulRestartTime?: number;
  /** Secret reference whose value is the TCP-MD5 password. */
  passwordSecret?: { name: string; key: string };
  routeReflectorClient?: string;
  nextHopMode?: 'Auto' | 'Self' | 'Keep';
  allowLocalAS?: number;
  /** BGPFilter names of the BGPPeer, in order. */
  filters?: string[];
  /** Gateway for a static route to the peer (BGPPeer reachableBy). */
  reachableBy?: string;
}

/** Protocol name as Calico's: `<prefix>_<ip with . and : as _>[_port_<n>]`. */
export function protocolName(prefix: 'Mesh' | 'Node' | 'Global', ip: string, port?: number): string {
  return `${prefix}_${ip.replace(/[.:]/g, '_')}${port ? `_port_${port}` : ''}`;
}

/** Splits BGPPeer peerIP forms `IP`, `IP:port`, `[IPv6]:port`. */
export function splitPeerIP(text: string, where: string): { ip: string; port?: number } {
  let ip = text;
  let port: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (v6) {
    ip = v6[1];
    port = v6[2];
  } else if (/^[\d.]+:\d+$/.test(text)) {
    [ip, port] = text.split(':');
  }
  let parsed;
  try {
    parsed = parseIp(ip);
  } catch {
    throw new RoutingInputError(`${where}: spec.peerIP "${text}" is not an IP address (IP, IP:port or [IPv6]:port)`);
  }
  const p = port === undefined ? undefined : Number(port);
  if (p !== undefined && (p < 1 || p > 65535))
    throw new RoutingInputError(`${where}: port in "${text}" is out of range`);
  return { ip: formatIp(parsed), port: p === 179 ? undefined : p };
}

const nodeAddr = (n: RoutingNode, family: IpFamily): string | undefined =>
  family === 4 ? n.ipv4Address : n.ipv6Address;

function sameSubnet(self: RoutingNode, family: IpFamily, peerIP: string): boolean {
  const own = nodeAddr(self, family);
  if (!own) return false;
  return cidrContainsIp(parseCidr(own), parseIp(peerIP));
}

const ipLess = (a: string, b: string): boolean => {
  const x = parseIp(a);
  const y = parseIp(b);
  return x.value < y.value;
};

/** Every BGP session the named node runs, both families, in a stable order (mesh, then peers by name). */
export function sessionsFor(state: RoutingState, nodeName: string, matcher: LabelMatcher = matchLabels): BgpSession[] {
  const self = state.nodes.find((n) => n.name === nodeName);
  if (!self) throw new RoutingInputError(`node "${nodeName}" has no Node resource`);
  const localAS = self.asNumber ?? state.bgp.asNumber;
  const asOf = (n: RoutingNode): number => n.asNumber ?? state.bgp.asNumber;
  const sessions = new Map<string, BgpSession>();
  const meshRestart = state.bgp.nodeMeshMaxRestartTime
    ? durationSeconds(state.bgp.nodeMeshMaxRestartTime, 'BGPConfiguration.spec.nodeMeshMaxRestartTime')
    : undefined;

  const rrClientOf = (peerNode: RoutingNode | undefined, peerAS: number): string | undefined => {
    const cid = self.routeReflectorClusterID;
    if (!cid || peerAS !== localAS) return undefined;
    if (peerNode?.routeReflectorClusterID === cid) return undefined;
    return cid;
  };

  for (const family of [4, 6] as const) {
    const ownCidr = nodeAddr(self, family);
    if (!ownCidr) continue;
    const ownIP = hostIp(ownCidr)!;
    const add = (s: BgpSession): void => {
      if (s.peerIP === ownIP) return; // never peer with ourselves
      if (!sessions.has(s.name) && ![...sessions.values()].some((o) => o.peerIP === s.peerIP && o.port === s.port)) {
        sessions.set(s.name, s);
      }
    };

    if (state.bgp.nodeToNodeMeshEnabled) {
      for (const other of [...state.nodes].sort((a, b) => a.name.localeCompare(b.name))) {
        const addr = hostIp(nodeAddr(other, family));
        if (other.name === nodeName || !addr) continue;
        add({
          name: protocolName('Mesh', addr),
          kind: 'Mesh',
          family,
          peerIP: addr,
          peerAS: asOf(other),
          localAS,
          sourceAddress: ownIP,
          sameSubnet: sameSubnet(self, family, addr),
          passive: ipLess(ownIP, addr),
          gracefulRestartTime: meshRestart,
          passwordSecret: state.bgp.nodeMeshPassword,
          routeReflectorClient: rrClientOf(other, asOf(other)),
        });
      }
    }

    for (const peer of [...state.peers].sort((a, b) => a.name.localeCompare(b.name))) {
      // Reverse peering (reversePeering Auto): a node selected by peerSelector peers back with every node the
      // BGPPeer applies to, so a route reflector needs no BGPPeer of its own.
      if (peer.peerSelector && matcher(peer.peerSelector, self.labels)) {
        const common = peerOptions(peer, `BGPPeer ${peer.name}`);
        for (const other of state.nodes) {
          const addr = hostIp(nodeAddr(other, family));
          if (other.name === nodeName || !addr || !peerApplies(peer, other, matcher)) continue;
          add({
            ...common,
            name: protocolName('Node', addr),
            kind: 'Node',
            family,
            peerIP: addr,
            peerAS: asOf(other),
            localAS,
            sourceAddress: peer.sourceAddress === 'UseNodeIP' ? ownIP : undefined,
            sameSubnet: sameSubnet(self, family, addr),
            passive: false,
            routeReflectorClient: rrClientOf(other, asOf(other)),
          });
        }
      }
      if (!peerApplies(peer, self, matcher)) continue;
      const kind: BgpSession['kind'] = peer.node || peer.nodeSelector || peer.peerSelector ? 'Node' : 'Global';
      const common = peerOptions(peer, `BGPPeer ${peer.name}`);
      if (peer.peerSelector) {
        for (const other of state.nodes) {
          const addr = hostIp(nodeAddr(other, family));
          if (other.name === nodeName || !addr || !matcher(peer.peerSelector, other.labels)) continue;
          add({
            ...common,
            name: protocolName('Node', addr),
            kind: 'Node',
            family,
            peerIP: addr,
            peerAS: asOf(other),
            localAS: peer.localASNumber ?? localAS,
            sourceAddress: peer.sourceAddress === 'UseNodeIP' ? ownIP : undefined,
            sameSubnet: sameSubnet(self, family, addr),
            passive: false,
            routeReflectorClient: rrClientOf(other, asOf(other)),
          });
        }
        continue;
      }
      const { ip, port } = splitPeerIP(peer.peerIP!, `BGPPeer ${peer.name}`);
      if (parseIp(ip).family !== family) continue;
      const peerNode = state.nodes.find((n) => hostIp(nodeAddr(n, family)) === ip);
      const peerAS = peer.asNumber ?? (peerNode ? asOf(peerNode) : state.bgp.asNumber);
      add({
        ...common,
        name: protocolName(kind, ip, port),
        kind,
        family,
        peerIP: ip,
        port,
        peerAS,
        localAS: peer.localASNumber ?? localAS,
        sourceAddress: peer.sourceAddress === 'UseNodeIP' ? ownIP : undefined,
        sameSubnet: sameSubnet(self, family, ip),
        passive: false,
        routeReflectorClient: rrClientOf(peerNode, peerAS),
      });
    }
  }
  return [...sessions.values()];
}

function peerApplies(peer: BgpPeer, self: RoutingNode, matcher: LabelMatcher): boolean {
  if (peer.node && peer.nodeSelector) return false;
  if (peer.node) return peer.node === self.name;
  if (peer.nodeSelector) return matcher(peer.nodeSelector, self.labels);
  return true;
}

function peerOptions(peer: BgpPeer, where: string): Partial<BgpSession> {
  const secs = (v: string | undefined, f: string): number | undefined =>
    v === undefined ? undefined : durationSeconds(v, `${where}: spec.${f}`);
  if (
    peer.ttlSecurity !== undefined &&
    (!Number.isInteger(peer.ttlSecurity) || peer.ttlSecurity < 1 || peer.ttlSecurity > 255)
  ) {
    throw new RoutingInputError(`${where}: spec.ttlSecurity must be a hop count from 1 to 255`);
  }
  return {
    ttlSecurity: peer.ttlSecurity,
    keepaliveTime: secs(peer.keepaliveTime, 'keepaliveTime'),
    holdTime: secs(peer.holdTime, 'holdTime'),
    gracefulRestartTime: secs(peer.maxRestartTime, 'maxRestartTime'),
    passwordSecret: peer.passwordSecret,
    nextHopMode: peer.nextHopMode,
    allowLocalAS: peer.numAllowedLocalASNumbers,
    filters: peer.filters,
    reachableBy: peer.reachableBy,
  };
}
