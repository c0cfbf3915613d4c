/**
 * Replicates: the same config run with seeds 1..N (the seed places objects in guest
 * memory and orders wake-ups), each its own stored run. Every report, plot and comparison
 * shows a figure over replicates the one way this file computes it: the mean over the
 * seeds and a 95% confidence interval of it from Student's t distribution,
 *   half-width = t(0.975, n-1) · s / √n,   s the sample standard deviation;
 * with one seed there is no interval (null). The difference of two such means (`compare`)
 * has Welch's interval.
 */
import type { SimConfig } from '../../shared/config.js';

/** The most seeds an experiment, sweep or run may ask for (as a calibration spec). */
export const MAX_SEEDS = 20;

/** The seeds of `seeds: N`: 1..N. */
export const seedList = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/** ln Γ(x), Lanczos approximation (g = 7, 9 terms; about 15 digits for x > 0). */
function lnGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaCf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
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

/** The regularized incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaCf(a, b, x)) / a : 1 - (front * betaCf(b, a, 1 - x)) / b;
}

/** The CDF of Student's t with `df` degrees of freedom: 1 - I_{df/(df+t²)}(df/2, 1/2)/2 for t ≥ 0. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t (0.5 < p < 1): the CDF inverted by bisection, to double precision. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0.5 && p < 1) || !(df >= 1)) throw new RangeError(`studentTQuantile: p in (0.5, 1) and df ≥ 1 expected, got p=${p}, df=${df}`);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** A figure over replicates. */
export interface Replicated {
  mean: number;
  /** Half-width of the 95% confidence interval of the mean; null with one value. */
  ci95: number | null;
  /** Sample standard deviation; null with one value. */
  sd: number | null;
  n: number;
}

/** Mean, sample standard deviation and the 95% Student-t half-width of some values (null if there are none). */
export function meanCi(values: readonly number[]): Replicated | null {
  const n = values.length;
  if (n === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  // Equal values (a seed that changes nothing the figure depends on) have mean exactly that value and no spread, not rounding noise.
  const mean = values.every((v) => v === values[0]) ? values[0]! : sum / n;
  if (n === 1) return { mean, ci95: null, sd: null, n };
  if (mean === values[0] && values.every((v) => v === mean)) return { mean, ci95: 0, sd: 0, n };
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  const sd = Math.sqrt(ss / (n - 1));
  return { mean, ci95: (studentTQuantile(0.975, n - 1) * sd) / Math.sqrt(n), sd, n };
}

/**
 * The 95% interval of the difference of two means (b − a) by Welch's t (unequal
 * variances, Welch–Satterthwaite degrees of freedom); null unless both have two or more.
 */
export function diffCi(a: Replicated, b: Replicated): { low: number; high: number } | null {
  if (a.sd === null || b.sd === null) return null;
  const va = (a.sd * a.sd) / a.n;
  const vb = (b.sd * b.sd) / b.n;
  const d = b.mean - a.mean;
  if (va + vb === 0) return { low: d, high: d };
  const df = (va + vb) ** 2 / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  const half = studentTQuantile(0.975, Math.max(1, df)) * Math.sqrt(va + vb);
  return { low: d - half, high: d + half };
}

/** The identity of a config without its seed: configs that are replicates of one point share it. */
export const pointKey = (cfg: SimConfig): string => JSON.stringify({ ...cfg, seed: 0 });

/** Items grouped by their config's point (seed aside), in order of first appearance. */
export function groupReplicates<T>(items: readonly T[], configOf: (t: T) => SimConfig): T[][] {
  const groups = new Map<string, T[]>();
  for (const it of items) {
    const k = pointKey(configOf(it));
    const g = groups.get(k);
    if (g) g.push(it);
    else groups.set(k, [it]);
  }
  return [...groups.values()];
}
