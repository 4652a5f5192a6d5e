// Matches the selectors BGP peering uses (BGPPeer nodeSelector/peerSelector) against Node labels through the
// project's selector engine, caching each parsed selector. Pure.
import { parseSelector, type Selector } from '../../selector/index.js';

export type LabelMatcher = (selector: string, labels: Record<string, string>) => boolean;

export class SelectorSyntaxError extends Error {}

const cache = new Map<string, Selector>();

/** Matches a selector against labels; an empty selector matches everything (as Calico's nodeSelector). */
export const matchLabels: LabelMatcher = (selector, labels) => {
  let s = cache.get(selector);
  if (!s) {
    try {
      s = parseSelector(selector);
    } catch (err) {
      throw new SelectorSyntaxError(`selector "${selector}": ${err instanceof Error ? err.message : String(err)}`);
    }
    cache.set(selector, s);
  }
  return s.matches(labels);
};
