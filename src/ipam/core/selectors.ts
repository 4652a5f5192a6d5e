// Pool selectors (nodeSelector, namespaceSelector) evaluated with Calico's selector language from src/selector;
// parsed selectors are cached by text since every request re-evaluates the same few. Pure.
import { parseSelector, type Selector } from '../../selector/index.js';
import type { SelectorMatcher } from './pool.js';

const cache = new Map<string, Selector>();

/** Matches selector text against labels; an invalid selector matches nothing (the pool then serves no one). */
export const calicoSelectorMatcher: SelectorMatcher = (text, labels) => {
  let sel = cache.get(text);
  if (!sel) {
    try {
      sel = parseSelector(text.trim() === '' ? 'all()' : text);
    } catch {
      return false;
    }
    if (cache.size > 1000) cache.clear();
    cache.set(text, sel);
  }
  return sel.matches(labels);
};
