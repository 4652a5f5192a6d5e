// Calico's selector language: parse text into a Selector (compiled matcher + canonical text), and the inverted
// label index that tracks which items each selector matches. Pure: no I/O.
import { parseSelector } from './selector.js';

export type {
  AllNode,
  AndNode,
  GlobalNode,
  HasNode,
  LabelTestNode,
  NotNode,
  OrNode,
  SelectorNode,
  SetNode,
  ValueNode,
} from './ast.js';
export { compareCodePoints } from './ast.js';
export { SelectorParseError } from './errors.js';
export type { Labels, Matcher } from './compile.js';
export { parseSelector, type Selector } from './selector.js';
export { LabelIndex, type LabelIndexListener } from './label-index.js';
export { labelDependencies, type LabelDependencies } from './dependencies.js';
export { andSelectors, selectorFromAst, withLabelPrefix } from './transform.js';

/** The canonical form of selector text (throws SelectorParseError when it is not valid). */
export function canonicalSelector(text: string): string {
  return parseSelector(text).toString();
}
