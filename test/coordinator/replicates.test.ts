import { describe, expect, it } from 'vitest';
import { diffCi, groupReplicates, meanCi, studentTCdf, studentTQuantile } from '../../coordinator/reports/replicates.js';
import { resolveConfig } from '../../shared/config.js';

describe('Student t and the 95% interval of a mean', () => {
  it('t(0.975, df) matches the printed tables', () => {
    // Quantiles as printed in any table of Student's t (two-sided 95%).
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706205, 5);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.302653, 6);
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.776445, 6);
    expect(studentTQuantile(0.975, 9)).toBeCloseTo(2.262157, 6);
    expect(studentTQuantile(0.975, 29)).toBeCloseTo(2.045230, 6);
    expect(studentTQuantile(0.975, 1000)).toBeCloseTo(1.962339, 5);
    // df = 2 has a closed form: t = (2p - 1)·sqrt(2 / (1 - (2p-1)²)).
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(0.95 * Math.sqrt(2 / (1 - 0.95 * 0.95)), 12);
    expect(studentTCdf(0, 5)).toBeCloseTo(0.5, 15);
  });

  it('values 1, 2, 3: mean 2, s = 1, half-width 4.302653/√3 = 2.484', () => {
    const r = meanCi([1, 2, 3])!;
    expect(r.mean).toBe(2);
    expect(r.sd).toBe(1);
    expect(r.n).toBe(3);
    expect(r.ci95).toBeCloseTo(4.302653 / Math.sqrt(3), 6);
    expect(r.ci95!.toFixed(3)).toBe('2.484');
  });

  it('equal values: the value itself, and an interval of exactly 0', () => {
    expect(meanCi([6.335, 6.335, 6.335])).toEqual({ mean: 6.335, ci95: 0, sd: 0, n: 3 });
  });

  it('one value has no interval; none has no figure', () => {
    expect(meanCi([2.5])).toEqual({ mean: 2.5, ci95: null, sd: null, n: 1 });
    expect(meanCi([])).toBeNull();
  });

  it('replicates group by config with the seed aside', () => {
    const a = [1, 2, 3].map((seed) => resolveConfig({ mode: 'kvm-trunk', seed }));
    const b = [1, 2].map((seed) => resolveConfig({ mode: 'native', seed }));
    const groups = groupReplicates([a[0]!, b[0]!, a[1]!, a[2]!, b[1]!], (c) => c);
    expect(groups.map((g) => g.map((c) => `${c.mode}:${c.seed}`))).toEqual([['kvm-trunk:1', 'kvm-trunk:2', 'kvm-trunk:3'], ['native:1', 'native:2']]);
  });
});

describe('Student-t quantiles and intervals', () => {
  it('t(0.975) matches the tables for df 1, 2, 3, 10, 30', () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706204736174707, 10);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.302652729749464, 10);
    expect(studentTQuantile(0.975, 3)).toBeCloseTo(3.182446305284263, 10);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.228138851986273, 10);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.042272456301238, 10);
  });

  it('mean ± t·s/√n; one value has no interval; the Welch interval of a difference', () => {
    const c = meanCi([1, 2, 3])!;
    expect(c.mean).toBe(2);
    expect(c.sd).toBe(1);
    expect(c.ci95!).toBeCloseTo(4.302652729749464 / Math.sqrt(3), 12);
    expect(meanCi([5])).toEqual({ n: 1, mean: 5, sd: null, ci95: null });
    expect(diffCi(meanCi([1, 2, 3])!, meanCi([4, 4, 4])!)!.low).toBeCloseTo(2 - 4.302652729749464 / Math.sqrt(3), 12);
  });
});
