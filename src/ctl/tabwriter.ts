// Go's text/tabwriter as calicoctl configures it (min width 5, tab width 1, padding 3, pad char space, no flags):
// every cell but the last of a line is padded to its column's width; the last cell is printed as is.
// Rows of cells in -> aligned text out (one line per row, each ending in "\n").

export const TAB_MIN_WIDTH = 5;
export const TAB_PADDING = 3;

/**
 * Aligns rows the way tabwriter does for text where each row has its cells joined by tabs. A column is a run of
 * consecutive rows that have a tab-terminated cell at that index; its width is max(minwidth, widest cell + padding).
 */
export function tabwrite(rows: string[][]): string {
  const out: string[] = rows.map(() => '');
  formatColumn(rows, 0, 0, rows.length, out);
  return rows.map((r, i) => out[i] + (r.length ? r[r.length - 1] : '') + '\n').join('');
}

/** Handles column `col` for rows [from, to), recursing into the next column for each block of rows that have it. */
function formatColumn(rows: string[][], col: number, from: number, to: number, out: string[]): void {
  let i = from;
  while (i < to) {
    // Rows whose cell `col` is not tab-terminated (it is their last cell) end the block.
    if (rows[i].length - 1 <= col) {
      i++;
      continue;
    }
    const start = i;
    let width = TAB_MIN_WIDTH;
    while (i < to && rows[i].length - 1 > col) {
      width = Math.max(width, rows[i][col].length + TAB_PADDING);
      i++;
    }
    for (let r = start; r < i; r++) out[r] += rows[r][col].padEnd(width, ' ');
    formatColumn(rows, col + 1, start, i, out);
  }
}
