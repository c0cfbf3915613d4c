/**
 * The mean of replicates (runs that differ only in their seed) and its 95% interval from
 * Student's t distribution: mean ± t(0.975, n-1) · s/√n, as bounds, for `compare`; the t
 * quantile is replicates.ts's (the regularized incomplete beta inverted by bisection).
 */
import { studentTQuantile } from './replicates.js';

/** The p quantile of Student's t with df ≥ 1 degrees of freedom (0 < p < 1), either tail. */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df >= 1)) throw new RangeError(`tQuantile: expected 0 < p < 1 and df >= 1, got p=${p}, df=${df}`);
  if (p === 0.5) return 0;
  return p < 0.5 ? -studentTQuantile(1 - p, df) : studentTQuantile(p, df);
}

/** Mean, sample standard deviation and 95% interval of replicates; the interval is null with fewer than two. */
export interface MeanCi {
  n: number;
  mean: number;
  sd: number | null;
  low: number | null;
  high: number | null;
}

export function meanCi(values: readonly number[], level = 0.95): MeanCi {
  const n = values.length;
  if (n === 0) throw new RangeError('meanCi: no values');
  // Equal replicates have that value as their mean exactly (a sum and a division may round).
  const mean = values.every((x) => x === values[0]) ? values[0]! : values.reduce((s, x) => s + x, 0) / n;
  if (n < 2) return { n, mean, sd: null, low: null, high: null };
  const sd = Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const half = tQuantile(1 - (1 - level) / 2, n - 1) * (sd / Math.sqrt(n));
  return { n, mean, sd, low: mean - half, high: mean + half };
}

/**
 * The 95% interval of the difference of two means (b − a) by Welch's t (unequal
 * variances, Welch–Satterthwaite degrees of freedom); null unless both have two or more.
 */
export function diffCi(a: MeanCi, b: MeanCi, level = 0.95): { low: number; high: number } | null {
  if (a.sd === null || b.sd === null) return null;
  const va = (a.sd * a.sd) / a.n;
  const vb = (b.sd * b.sd) / b.n;
  const d = b.mean - a.mean;
  if (va + vb === 0) return { low: d, high: d };
  const df = (va + vb) ** 2 / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  const half = tQuantile(1 - (1 - level) / 2, Math.max(1, df)) * Math.sqrt(va + vb);
  return { low: d - half, high: d + half };
}
