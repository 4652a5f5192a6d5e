// calicoctl's boxed tables (go-pretty's default style: `+---+` rules, `|` separators, upper-case headers) and Go's
// `%.5g` number format that `ipam show` uses.

/** Go's fmt `%.5g`: 5 significant digits, exponent form from 1e5 on (1048576 -> 1.0486e+06), trailing zeros cut. */
export function goG5(n: number): string {
  if (n === 0) return '0';
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

/** `3 (0%)`: a count with its share of total, as `ipam show` prints it. */
export const withPercent = (n: number, total: number): string =>
  `${goG5(n)} (${total ? Math.round((100 * n) / total) : 0}%)`;

export function boxedTable(headers: string[], rows: string[][], rightAligned: number[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const line = (cells: string[], header: boolean) =>
    `|${cells
      .map((c, i) => {
        const pad = widths[i] - c.length;
        if (header) {
          const left = Math.floor(pad / 2);
          return ` ${' '.repeat(left)}${c}${' '.repeat(pad - left)} `;
        }
        return rightAligned.includes(i) ? ` ${' '.repeat(pad)}${c} ` : ` ${c}${' '.repeat(pad)} `;
      })
      .join('|')}|`;
  return [rule, line(headers, true), rule, ...rows.map((r) => line(r, false)), rule].join('\n') + '\n';
}
