/**
 * Streaming moments of a series of times, as perf keeps them for `perf kvm stat`
 * (tools/perf/util/stat.c, update_stats: Welford's method; stddev_stats,
 * rel_stddev_stats): count, sum, mean, M2 (sum of squared deviations), min, max, in six
 * consecutive slots of a Float64Array, with no storage per sample. Parts combine with
 * Chan et al.'s parallel formula (the mean and M2 of two disjoint series).
 */

/** Slots of one series: n, sum, mean, M2, min, max. */
export const MOMENT_WORDS = 6;
export const M_N = 0;
export const M_SUM = 1;
export const M_MEAN = 2;
export const M_M2 = 3;
export const M_MIN = 4;
export const M_MAX = 5;

/** Add sample `x` to the series at `a[o..o+5]` (update_stats). */
export function addSample(a: Float64Array, o: number, x: number): void {
  const n = a[o + M_N]! + 1;
  a[o + M_N] = n;
  a[o + M_SUM]! += x;
  const mean = a[o + M_MEAN]!;
  const delta = x - mean;
  const mean2 = mean + delta / n;
  a[o + M_MEAN] = mean2;
  a[o + M_M2]! += delta * (x - mean2);
  if (n === 1 || x < a[o + M_MIN]!) a[o + M_MIN] = x;
  if (n === 1 || x > a[o + M_MAX]!) a[o + M_MAX] = x;
}

/** A series as plain numbers: [n, sum, mean, M2, min, max]. */
export type Moments = [number, number, number, number, number, number];

export const emptyMoments = (): Moments => [0, 0, 0, 0, 0, 0];

/** The series of `b` appended to `a` (Chan, Golub, LeVeque: the pairwise update). */
export function mergeMoments(a: Moments, b: Moments): Moments {
  const na = a[M_N];
  const nb = b[M_N];
  if (nb === 0) return [...a];
  if (na === 0) return [...b];
  const n = na + nb;
  const delta = b[M_MEAN] - a[M_MEAN];
  return [n, a[M_SUM] + b[M_SUM], a[M_MEAN] + (delta * nb) / n, a[M_M2] + b[M_M2] + (delta * delta * na * nb) / n, Math.min(a[M_MIN], b[M_MIN]), Math.max(a[M_MAX], b[M_MAX])];
}

/** The sample standard deviation, M2 / (n - 1) under the root (0 below two samples). */
export function stddevOf(m: Moments): number {
  return m[M_N] < 2 ? 0 : Math.sqrt(m[M_M2] / (m[M_N] - 1));
}
