/**
 * The mean of replicates (runs that differ only in their seed) and its 95% interval from
 * Student's t distribution: mean ± t(0.975, n-1) · s/√n. The t quantile is found by
 * bisection on the distribution function, written with the regularized incomplete beta
 * function (continued fraction, as in Numerical Recipes §6.4), to full double precision
 * for any df ≥ 1.
 */

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9). */
function lnGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The continued fraction of the incomplete beta function (modified Lentz). */
function betaCf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/** I_x(a, b), the regularized incomplete beta function. */
function betaInc(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaCf(a, b, x)) / a : 1 - (front * betaCf(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with df degrees of freedom. */
export function tCdf(t: number, df: number): number {
  const tail = 0.5 * betaInc(df / 2, 0.5, df / (df + t * t));
  return t >= 0 ? 1 - tail : tail;
}

/** The p quantile of Student's t with df ≥ 1 degrees of freedom (0 < p < 1). */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df >= 1)) throw new RangeError(`tQuantile: expected 0 < p < 1 and df >= 1, got p=${p}, df=${df}`);
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  if (p < 0.5) return -tQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (tCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
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
