import { describe, expect, it } from 'vitest';
import { Rng } from '../../shared/rng.js';

describe('seeded random numbers', () => {
  it('skip(n) leaves the generator where n draws would', () => {
    for (const n of [0, 1, 255, 65_279, 1_000_003]) {
      const a = new Rng(42);
      const b = new Rng(42);
      for (let i = 0; i < n; i++) a.nextU32();
      b.skip(n);
      expect(b.position).toBe(a.position);
      expect(b.nextU32()).toBe(a.nextU32());
    }
  });
});
