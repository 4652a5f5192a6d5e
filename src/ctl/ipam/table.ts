// calicoctl's boxed tables (go-pretty's default style: `+---+` rules, `|` separators, upper-case left-aligned
// headers) and Go's `%.5g` number format that `ipam show` uses.

/**
 * Go's fmt `%.5g`: 5 significant digits, exponent form from 1e5 on (1048576 -> 1.0486e+06), trailing zeros cut.
 * Go rounds the exact value half to even (131065 -> 1.3106e+05), where JavaScript's toPrecision rounds half up.
 */
export function goG5(n: number): string {
  if (n === 0) return '0';
  if (Number.isInteger(n) && n > 0) return goG5Integer(BigInt(n).toString());
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4 || exp >= 5) {
    const [mant, e] = n.toExponential(4).split('e');
    const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    const ev = Number(e);
    return `${m}e${ev < 0 ? '-' : '+'}${String(Math.abs(ev)).padStart(2, '0')}`;
  }
  const fixed = n.toPrecision(5);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

function goG5Integer(digits: string): string {
  if (digits.length <= 5) return digits;
  let head = digits.slice(0, 5);
  const rest = digits.slice(5);
  const half = '5'.padEnd(rest.length, '0');
  const up = rest > half || (rest === half && Number(head[4]) % 2 === 1);
  let exp = digits.length - 1;
  if (up) {
    const bumped = String(Number(head) + 1);
    if (bumped.length > 5) {
      head = bumped.slice(0, 5);
      exp++;
    } else head = bumped;
  }
  const frac = head.slice(1).replace(/0+$/, '');
  return `${head[0]}${frac ? `.${frac}` : ''}e+${String(exp).padStart(2, '0')}`;
}

/** Go's `%.f`: the nearest whole number, ties to even (12.5 -> 12), as `ipam show` prints its percentages. */
export function goRoundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** `3 (0%)`: a count with its share of total, as `ipam show` prints it. */
export const withPercent = (n: number, total: number): string =>
  `${goG5(n)} (${total ? goRoundHalfEven((100 * n) / total) : 0}%)`;

export function boxedTable(headers: string[], rows: string[][], rightAligned: number[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const line = (cells: string[], header: boolean) =>
    `|${cells
      .map((c, i) => {
        const pad = widths[i] - c.length;
        // go-pretty's default header alignment is its AlignDefault, i.e. left, even over right-aligned columns
        // (calicoctl configures only the cells); its numeric auto-alignment never applies to Calico's string cells.
        if (header) return ` ${c}${' '.repeat(pad)} `;
        return rightAligned.includes(i) ? ` ${' '.repeat(pad)}${c} ` : ` ${c}${' '.repeat(pad)} `;
      })
      .join('|')}|`;
  return [rule, line(headers, true), rule, ...rows.map((r) => line(r, false)), rule].join('\n') + '\n';
}
