/**
 * The limits and defaults of running simulations, and the one check of a thread count
 * against the machine. Its own light file, so that --help can print them without loading
 * the pool, the queue or the simulator.
 */
import { availableParallelism } from 'node:os';

/** The most worker threads a sweep or calibration starts (more threads than cores only cost memory; `run` splits one VM over at most its vCPUs). */
export const MAX_WORKERS = 64;

/** The most retries a run may have: a run that fails that often will not succeed. */
export const MAX_RETRIES = 10;

/** Retries of a run whose worker threw or died, when none are asked for. */
export const DEFAULT_RETRIES = 2;

/** How vCPUs are dealt to threads: `blocks` (0..k-1 on the first, ...) or `round-robin` (vCPU i on thread i mod n). */
export const PLACEMENTS = ['blocks', 'round-robin'] as const;
export type PlacementKind = (typeof PLACEMENTS)[number];

/** Threads when none are asked for: one per core. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * `run --workers` against the machine: more worker threads than cores run the replicas of
 * one VM in turn on the same cores, which costs a replica's memory each and gains no
 * speed. Allowed (the statistics are the same for any number), but said on stderr, never
 * in the --json document on stdout. Returns the warning, or null when they fit.
 */
export function workersWarning(workers: number, cores = availableParallelism()): string | null {
  if (workers <= cores) return null;
  return `warning: --workers ${workers} is more threads than this machine's ${cores} cores; the replicas share the cores and each holds its own part of the VM in memory`;
}
