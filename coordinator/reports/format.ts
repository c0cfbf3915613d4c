/**
 * The output formats of the reports (one list), and the text helpers every format uses:
 * significant-digit numbers, signed percentages, aligned text tables and CSV cells.
 */

export const FORMATS = ['table', 'json', 'csv', 'md'] as const;
export type Format = (typeof FORMATS)[number];

/** Significant-digit formatting that keeps small and large figures readable. */
export function fmtNum(v: number | null, digits = 3): string {
  if (v === null || !Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1000) return v.toFixed(0);
  return Number(v.toPrecision(digits + (a >= 100 ? 1 : 0))).toString();
}

export const fmtPct = (v: number | null): string => (v === null ? '-' : `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`);

export function alignTable(head: readonly string[], body: readonly string[][], leftCols = 1): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (i < leftCols ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n') + '\n';
}

/** A CSV cell: a string as is unless it holds a quote, comma or line break (then quoted); null and undefined empty; other values as JSON. */
export const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
