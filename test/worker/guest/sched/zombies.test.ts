import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../shared/rng.js';
import { popZombie, pushZombie } from '../../../../worker/guest/sched/zombies.js';

describe("a parent's zombies", () => {
  it('are reaped lowest pid first, each with its own words, whatever the order they exit and are reaped in', () => {
    const rng = new Rng(3);
    const z: number[] = [];
    const live = new Set<number>();
    const out = [0, 0, 0, 0, 0];
    const used = new Set<number>();
    for (let step = 0; step < 5000; step++) {
      if (live.size === 0 || rng.below(3) > 0) {
        // Children exit in any order: a pid not used yet, anywhere in 1..10^6.
        let pid = 1 + rng.below(1_000_000);
        while (used.has(pid)) pid = 1 + rng.below(1_000_000);
        used.add(pid);
        live.add(pid);
        pushZombie(z, pid, pid % 2, pid * 3, pid * 0.5, pid % 7);
      } else {
        popZombie(z, out);
        const min = Math.min(...live);
        expect(out).toEqual([min, min % 2, min * 3, min * 0.5, min % 7]);
        live.delete(min);
      }
      expect(z.length).toBe(live.size * 5);
    }
  });
});
