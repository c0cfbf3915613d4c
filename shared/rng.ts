/**
 * Seeded pseudo-random numbers (mulberry32): the only source of randomness in a
 * run, so that the same config and seed give the same statistics.
 */
/** What each draw adds to mulberry32's state: the state after k draws is the start plus k times it. */
const STEP = 0x6d2b79f5;

export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** A generator at this one's place in the stream: its draws are the ones this one would make next. */
  copy(): Rng {
    const r = new Rng(0);
    r.state = this.state;
    return r;
  }
  /** Pass over the next `k` draws (0 <= k < 2^32) without making them: the state moves by k steps at once. */
  skip(k: number): void {
    this.state = (this.state + Math.imul(k, STEP)) >>> 0;
  }
  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    let t = (this.state = (this.state + STEP) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform integer in [0, n). */
  below(n: number): number {
    return this.nextU32() % n;
  }
}
