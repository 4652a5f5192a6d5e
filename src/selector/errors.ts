// The error thrown for a selector that does not parse: names the reason and the offset where parsing stopped.

export class SelectorParseError extends Error {
  /** Offset (0-based) in the selector text where the problem was found; equals the length at end of input. */
  readonly position: number;
  /** The problem alone, without the selector text (for callers that add their own context). */
  readonly reason: string;
  readonly selector: string;

  constructor(selector: string, reason: string, position: number) {
    super(`invalid selector ${JSON.stringify(selector)}: ${reason} at position ${position}`);
    this.name = 'SelectorParseError';
    this.selector = selector;
    this.reason = reason;
    this.position = position;
  }
}
