/**
 * The warm-up of lmbench 3's timing harness (benchmp, lib_timing.c as of January 2007:
 * the lmbench3 history at 339b94f). A measurement starts with short timed batches — one
 * iteration, then up to eight times as many each time, aiming at 1.1 × `enough` — and a
 * batch counts only once it lasts at least 0.95 × `enough` (timing_interval); the shorter
 * ones before it are thrown away, and are in effect the warm-up. `enough` is 5 ms for
 * lat_ctx (compute_enough's smallest accurate value) and 1 s for lat_pipe (SHORT).
 *
 * The model runs those discarded batches untimed and then times the workload's `loops`
 * iterations, or more until the timed interval has lasted 0.95 × `enough` (no shorter
 * interval counts), so its figure is the steady state the benchmark reports (the median of
 * its eleven counted intervals, which a deterministic steady state makes one value).
 */

/** lat_ctx's `enough` (µs): compute_enough's smallest choice (lat_syscall and lat_proc take the same default). */
export const LAT_CTX_ENOUGH_US = 5000;
/** lat_pipe's `enough` (µs): SHORT. */
export const LAT_PIPE_ENOUGH_US = 1_000_000;

export class BenchmpWarmup {
  /** Iterations of the batch under way, and how many of them are left. */
  private batch = 1;
  private left = 1;
  /** When the batch under way began (cycles), -1 before the first. */
  private from = -1;
  /** Still in the discarded batches. */
  warming = true;
  /** Iterations run while warming. */
  iterations = 0;
  private readonly enough: number;

  constructor(enoughUs: number, clockHz: number) {
    this.enough = (enoughUs * clockHz) / 1e6;
  }

  /** The first iteration begins at `clock`. */
  start(clock: number): void {
    if (this.from < 0) this.from = clock;
  }

  /** An iteration ended at `clock`. Returns true when the warm-up ends with it (the next iteration is the first measured). */
  done(clock: number): boolean {
    if (!this.warming) return false;
    this.iterations++;
    if (--this.left > 0) return false;
    const took = clock - this.from;
    if (took >= 0.95 * this.enough) {
      this.warming = false;
      this.from = clock;
      return true;
    }
    // timing_interval: the next batch aims at 1.1 x enough, at most eight times this one.
    this.batch = took > 0 ? Math.min(this.batch * 8, Math.ceil((this.batch * 1.1 * this.enough) / took)) : this.batch * 8;
    this.left = this.batch;
    this.from = clock;
    return false;
  }

  /** After the warm-up: has the timed interval, `timed` iterations ending at `clock`, done `loops` and lasted long enough to count? */
  intervalOver(timed: number, loops: number, clock: number): boolean {
    return timed >= loops && clock - this.from >= 0.95 * this.enough;
  }
}
