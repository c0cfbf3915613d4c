/** Streaming moments (shared/welford.ts) against a direct two-pass computation, and their pairwise merge. */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../shared/rng.js';
import { addSample, emptyMoments, mergeMoments, MOMENT_WORDS, stddevOf, type Moments } from '../../shared/welford.js';
import { ExitTimes } from '../../worker/machine/exit-times.js';
import { EXIT_REASON } from '../../shared/exits.js';

const stream = (xs: readonly number[]): Moments => {
  const a = new Float64Array(MOMENT_WORDS);
  for (const x of xs) addSample(a, 0, x);
  return Array.from(a) as Moments;
};

const direct = (xs: readonly number[]) => {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const m2 = xs.reduce((s, x) => s + (x - mean) ** 2, 0);
  return { n: xs.length, mean, sd: Math.sqrt(m2 / (xs.length - 1)), min: Math.min(...xs), max: Math.max(...xs) };
};

describe('streaming moments', () => {
  it('give count, mean, stddev, min and max of a hand series', () => {
    const m = stream([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(m[0]).toBe(8);
    expect(m[1]).toBe(40);
    expect(m[2]).toBe(5);
    expect(m[3]).toBe(32); // sum of squared deviations
    expect(m[4]).toBe(2);
    expect(m[5]).toBe(9);
    expect(stddevOf(m)).toBeCloseTo(Math.sqrt(32 / 7), 12);
  });

  it('merged in parts (Chan) equal the whole series computed directly', () => {
    const rng = new Rng(7);
    const xs = Array.from({ length: 5000 }, () => 1000 + rng.below(100000));
    const d = direct(xs);
    for (const cuts of [[2500], [1, 4999], [100, 1700, 3333]]) {
      let merged = emptyMoments();
      let from = 0;
      for (const to of [...cuts, xs.length]) {
        merged = mergeMoments(merged, stream(xs.slice(from, to)));
        from = to;
      }
      expect(merged[0]).toBe(d.n);
      expect(merged[2]).toBeCloseTo(d.mean, 6);
      expect(stddevOf(merged) / d.sd).toBeCloseTo(1, 10);
      expect(merged[4]).toBe(d.min);
      expect(merged[5]).toBe(d.max);
    }
  });

  it('merge with an empty part is the part itself', () => {
    const m = stream([3, 8]);
    expect(mergeMoments(emptyMoments(), m)).toEqual(m);
    expect(mergeMoments(m, emptyMoments())).toEqual(m);
  });
});

describe('a vCPU exit times', () => {
  it('time HLT from its exit to the next entry, drop one begun before a reset, and close an open one at the end', () => {
    const t = new ExitTimes();
    t.exit(EXIT_REASON.HLT, 100);
    t.hltFrom = 1000;
    t.entry(1600); // 600 cycles halted and woken
    t.exit(EXIT_REASON.HLT, 100);
    t.hltFrom = 2000;
    t.entry(2400);
    t.entry(2500); // no open HLT: nothing
    let s = t.snapshot(3000);
    expect(s.hltEntry.slice(0, 3)).toEqual([2, 1000, 500]);
    expect(s.reasons[EXIT_REASON.HLT]!.slice(0, 3)).toEqual([2, 200, 100]);
    t.hltFrom = 2800;
    s = t.snapshot(3000); // still halted at the end: timed to 3000, the state untouched
    expect(s.hltEntry[0]).toBe(3);
    expect(t.snapshot(3000).hltEntry[0]).toBe(3);
    t.reset();
    t.entry(3100); // begun before the reset: not timed
    expect(t.snapshot(4000).hltEntry[0]).toBe(0);
  });

  it('keep ports by number and direction, in port order', () => {
    const t = new ExitTimes();
    t.port(0x80, 1, 10);
    t.port(0x21, 0, 20);
    t.port(0x80, 1, 30);
    t.port(0x21, 1, 40);
    const s = t.snapshot(0);
    expect(s.ports.map((p) => [p.port, p.rw, p.m[0], p.m[1]])).toEqual([
      [0x21, 0, 1, 20],
      [0x21, 1, 1, 40],
      [0x80, 1, 2, 40],
    ]);
  });
});
