import { describe, expect, it } from 'vitest';
import { lruHits, optHits, roundRobinHits } from '../../../coordinator/trace/cache-policies.js';
import { kptiRootLoads, MAX_PREV_ROOTS, prevRootsNeeded } from '../../../coordinator/trace/analyze.js';

/** Belady's MIN by direct simulation: on a miss with a full cache, evict the entry loaded again farthest ahead. */
function minBySimulation(loads: number[], k: number): number {
  const cache: number[] = [];
  let hits = 0;
  for (let i = 0; i < loads.length; i++) {
    const x = loads[i]!;
    if (cache.includes(x)) {
      hits++;
      continue;
    }
    if (cache.length === k) {
      let victim = 0;
      let farthest = -1;
      cache.forEach((c, j) => {
        const at = loads.indexOf(c, i + 1);
        const d = at < 0 ? Infinity : at;
        if (d > farthest) {
          farthest = d;
          victim = j;
        }
      });
      cache.splice(victim, 1);
    }
    cache.push(x);
  }
  return hits;
}

/** LRU by direct simulation. */
function lruBySimulation(loads: number[], k: number): number {
  const cache: number[] = [];
  let hits = 0;
  for (const x of loads) {
    const at = cache.indexOf(x);
    if (at >= 0) {
      hits++;
      cache.splice(at, 1);
    } else if (cache.length === k) cache.pop();
    cache.unshift(x);
  }
  return hits;
}

/** A cr3 load sequence: no address space follows itself. */
function randomLoads(n: number, spaces: number, seed: number): number[] {
  let s = seed;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const out: number[] = [];
  while (out.length < n) {
    const x = Math.floor(rnd() * rnd() * spaces);
    if (out[out.length - 1] !== x) out.push(x);
  }
  return out;
}

describe('cr3 cache policies over every size at once', () => {
  it('a ring of 3 address spaces: LRU and round-robin hit from 3 entries on, never below; the optimum hits every other load with 2', () => {
    const loads = Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1, 2]);
    expect(Array.from(lruHits(loads, 4))).toEqual([0, 0, 6, 6]);
    expect(Array.from(roundRobinHits(loads, 4))).toEqual([0, 0, 6, 6]);
    // MIN with 2: 0 1 | 2 evicts 1 (0 is sooner) | 0 hit | 1 evicts 0 or 2 ... 3 hits.
    expect(Array.from(optHits(loads, 4))).toEqual([0, 3, 6, 6]);
  });

  it('round-robin differs from LRU: a b a c b hits b under round-robin with 2 entries, not under LRU', () => {
    const loads = Int32Array.from([0, 1, 0, 2, 1]);
    expect(lruHits(loads, 2)[1]).toBe(1);
    expect(roundRobinHits(loads, 2)[1]).toBe(2);
    expect(optHits(loads, 2)[1]).toBe(2);
  });

  it('the one-pass LRU and OPT stacks equal direct simulation for every size, and OPT bounds both', () => {
    for (const [n, spaces, seed] of [[400, 12, 1], [600, 40, 2], [300, 80, 3], [500, 6, 4]] as const) {
      const loads = randomLoads(n, spaces, seed);
      const typed = Int32Array.from(loads);
      const lru = lruHits(typed);
      const opt = optHits(typed);
      const rr = roundRobinHits(typed);
      for (let k = 1; k <= 64; k++) {
        expect(lru[k - 1], `lru k=${k}`).toBe(lruBySimulation(loads, k));
        expect(opt[k - 1], `opt k=${k}`).toBe(minBySimulation(loads, k));
        expect(opt[k - 1]).toBeGreaterThanOrEqual(Math.max(lru[k - 1]!, rr[k - 1]!));
        if (k > 1) expect(lru[k - 1]).toBeGreaterThanOrEqual(lru[k - 2]!);
      }
    }
  });
});

describe("KVM's previous roots over a trace", () => {
  it('a load is a fast switch iff among the N most recently used others: LRU over N + 1', () => {
    const loads = Int32Array.from([0, 1, 0, 1]);
    const hits = lruHits(loads, MAX_PREV_ROOTS + 1);
    expect(hits[0]).toBe(0); // N = 0: only the current root, never loaded again at once
    expect(hits[1]).toBe(2); // N = 1: the third and fourth loads find the other in prev_roots[0]
  });

  it("with page-table isolation a switch from w to x loads w's kernel root, then x's kernel and user roots", () => {
    const expanded = kptiRootLoads(Int32Array.from([0, 1, 0, 1]));
    expect([...expanded]).toEqual([0, 1, 0, 2, 3, 2, 0, 1, 0, 2, 3]);
    const hits = lruHits(expanded, MAX_PREV_ROOTS + 1);
    // By hand, an LRU of 2 (N = 1): 0 m, 1 m, 0 h, 2 m, 3 m, 2 h, 0 m, 1 m, 0 h, 2 m, 3 m.
    expect(hits[1]).toBe(3);
    // Of 4 (N = 3): the four roots of the two processes all fit once seen: 7 of the 11 hit.
    expect(hits[3]).toBe(7);
  });

  it('the previous roots a trace needs: the smallest N whose fast switches reach the share', () => {
    const rate: Record<string, number> = {};
    for (let n = 0; n <= MAX_PREV_ROOTS; n++) rate[String(n)] = Math.min(1, n / 10);
    expect(prevRootsNeeded(rate, 0.9)).toBe(9);
    expect(prevRootsNeeded(rate, 1.01)).toBeNull();
  });
});
