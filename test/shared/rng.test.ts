import { describe, expect, it } from 'vitest';
import { Rng } from '../../shared/rng.js';

describe('the seeded generator', () => {
  it('skip(k) passes over exactly the next k draws, and a copy draws what the original would next', () => {
    for (const [seed, k] of [
      [1, 0],
      [7, 1],
      [123, 255],
      [0xffffffff, 70000],
    ] as const) {
      const a = new Rng(seed);
      const b = new Rng(seed);
      for (let i = 0; i < k; i++) a.nextU32();
      const c = b.copy();
      b.skip(k);
      expect([a.nextU32(), a.nextU32()]).toEqual([b.nextU32(), b.nextU32()]);
      // The copy was taken before the skip: it is still at the start.
      expect(c.nextU32()).toBe(new Rng(seed).nextU32());
    }
  });
});
