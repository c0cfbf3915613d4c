import { describe, expect, it } from 'vitest';
import { grouped } from '../../shared/grouped.js';
import { Rng } from '../../shared/rng.js';

const intl = (n: number, d: number) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

describe('grouped', () => {
  it('writes what toLocaleString en-US writes', () => {
    const fixed = [0, 1, 12, 123, 999, 1000, 1234, 20000, 999999, 1000000, 1234567.891, -1234, -999, -1000.5, 0.5, 1.5, 2.5, 38.914, 0.0005, 1.0005, 123456.4445, 1e20, 5e-7];
    for (const n of fixed) for (const d of [0, 1, 3, 4]) expect(grouped(n, d), `${n} to ${d}`).toBe(intl(n, d));
    const rng = new Rng(7);
    const u = () => rng.nextU32() / 2 ** 32;
    for (let i = 0; i < 20000; i++) {
      // Any doubles over 12 decades, and short decimals with ties at every place (x.xx5).
      const n = i % 2 ? (u() - 0.25) * 10 ** Math.floor(u() * 12) : (rng.below(2e7) - 5e6) / 10 ** rng.below(8);
      const d = rng.below(5);
      expect(grouped(n, d), `${n} to ${d}`).toBe(intl(n, d));
    }
  });

  it('groups only the whole part', () => {
    expect(grouped(1234567.12345, 4)).toBe('1,234,567.1235');
    expect(grouped(-20000)).toBe('-20,000');
    expect(grouped(100)).toBe('100');
  });
});
