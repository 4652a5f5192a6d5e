// Validates the BGP kinds: BGPConfiguration communities and prefix advertisements, BGPPeer's mutually exclusive
// fields (node/nodeSelector, peerIP/peerSelector) and reachableBy, and BGPFilter rule consistency.
import { parseCidr, parseIp } from '../../net/ip.js';
import { splitPeerIP } from '../formats.js';
import { at, type ProblemSink } from '../problems.js';
import { asArray, asObject, asString, isSet } from './values.js';

const COMMUNITY = /^\d+:\d+(:\d+)?$/;
const IGNORED_INTERFACE = /^[a-zA-Z0-9_.*-]{1,15}$/;
const FILTER_INTERFACE = /^[a-zA-Z0-9_.*-]{1,15}$/;

export function validateBGPConfiguration(spec: Record<string, unknown>, sink: ProblemSink): void {
  const communities = asArray(spec.communities).map(asObject);
  const names = new Set(communities.map((c) => c.name).filter((n): n is string => typeof n === 'string'));
  const adverts = asArray(spec.prefixAdvertisements);
  if (communities.length > 0 && adverts.length === 0) {
    sink.add('spec.communities', 'communities are defined but not used in spec.prefixAdvertisements');
  }
  adverts.forEach((a, i) => {
    asArray(asObject(a).communities).forEach((c, j) => {
      if (typeof c !== 'string') return;
      if (!COMMUNITY.test(c) && !names.has(c)) {
        sink.add(
          at(at(at('spec.prefixAdvertisements', i), 'communities'), j),
          `community ${JSON.stringify(c)} is neither a community value nor the name of one in spec.communities`,
        );
      }
    });
  });
  asArray(spec.ignoredInterfaces).forEach((iface, i) => {
    if (typeof iface === 'string' && (iface === '*' || !IGNORED_INTERFACE.test(iface))) {
      sink.add(
        at('spec.ignoredInterfaces', i),
        `invalid interface pattern ${JSON.stringify(iface)}: 1-15 characters of [a-zA-Z0-9_.*-], not just "*"`,
      );
    }
  });
}

export function validateBGPPeer(spec: Record<string, unknown>, sink: ProblemSink): void {
  if (isSet(spec.node) && isSet(spec.nodeSelector)) {
    sink.add('spec.node', 'node must be empty when nodeSelector is specified');
  }
  const peerIP = asString(spec.peerIP);
  const hasPeerSelector = isSet(spec.peerSelector);
  if (peerIP && hasPeerSelector) sink.add('spec.peerIP', 'peerIP must be empty when peerSelector is specified');
  if (!peerIP && !hasPeerSelector && !isSet(spec.localWorkloadSelector)) {
    sink.add('spec.peerIP', 'one of peerIP or peerSelector is required');
  }
  if (hasPeerSelector && isSet(spec.asNumber)) {
    sink.add('spec.asNumber', "must be empty when peerSelector is specified (the peer's AS is taken from its Node)");
  }
  if (spec.keepOriginalNextHop === true && isSet(spec.nextHopMode)) {
    sink.add('spec.keepOriginalNextHop', 'cannot be combined with nextHopMode (use nextHopMode: Keep)');
  }
  const reachableBy = asString(spec.reachableBy);
  if (reachableBy) {
    if (!peerIP) sink.add('spec.reachableBy', 'requires peerIP');
    else {
      const peer = splitPeerIP(peerIP);
      try {
        if (peer && parseIp(peer.ip).family !== parseIp(reachableBy).family) {
          sink.add('spec.reachableBy', 'reachableBy and peerIP address families differ');
        }
      } catch {
        // format errors are reported by the field table
      }
    }
  }
}

export function validateBGPFilter(spec: Record<string, unknown>, sink: ProblemSink): void {
  for (const list of ['exportV4', 'importV4', 'exportV6', 'importV6'] as const) {
    asArray(spec[list]).forEach((r, i) => {
      const rule = asObject(r);
      const p = at(`spec.${list}`, i);
      const hasCidr = isSet(rule.cidr);
      if (hasCidr !== isSet(rule.matchOperator)) {
        sink.add(at(p, hasCidr ? 'matchOperator' : 'cidr'), 'cidr and matchOperator must be set together');
      }
      if (rule.prefixLength != null) {
        const pl = asObject(rule.prefixLength);
        if (!hasCidr) sink.add(at(p, 'prefixLength'), 'requires cidr');
        if (typeof pl.min === 'number' && typeof pl.max === 'number' && pl.min > pl.max) {
          sink.add(at(p, 'prefixLength'), `min (${pl.min}) must not exceed max (${pl.max})`);
        }
        const cidr = asString(rule.cidr);
        if (cidr && typeof pl.min === 'number') {
          try {
            const prefix = parseCidr(cidr).prefix;
            if (pl.min < prefix)
              sink.add(at(p, 'prefixLength.min'), `must be at least the cidr's prefix length ${prefix}`);
          } catch {
            // reported by the field table
          }
        }
      }
      const iface = asString(rule.interface);
      if (iface && !FILTER_INTERFACE.test(iface)) {
        sink.add(
          at(p, 'interface'),
          `invalid interface pattern ${JSON.stringify(iface)}: 1-15 characters of [a-zA-Z0-9_.*-]`,
        );
      }
    });
  }
}
