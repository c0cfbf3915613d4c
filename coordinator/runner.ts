/**
 * Runs a list of configs and reports each outcome as it finishes. This is the seam
 * between what to run (sweeps, experiments) and where it runs (this thread, or a pool
 * of worker threads).
 *
 * A run whose attempt throws, or whose worker thread dies, is tried again up to
 * `retries` more times (at most MAX_RETRIES); after that it is reported failed and the
 * other runs go on. A config the simulation refuses (a ConfigError: the guest does not
 * fit) is not retried: it would fail the same way.
 * Results do not depend on where they ran: a simulation is a pure function of its
 * config, so 1, 2 or N workers give the same results (only hostSeconds differs).
 */
import { ConfigError, type SimConfig } from '../shared/config.js';
import type { RunResult } from '../shared/stats.js';
import { simulate } from '../worker/vm.js';
import { SimPool, defaultWorkers, type PoolRun } from './pool.js';

export interface RunOutcome {
  /** Position of the config in the list given to runAll. */
  index: number;
  config: SimConfig;
  /** Present when the run finished. */
  result?: RunResult;
  /** Present when the run failed for good: why. */
  error?: string;
  /** Present when it failed because the simulation refused the config. */
  configError?: ConfigError;
  /** Attempts made (1 unless retried). */
  attempts: number;
  /** Host seconds of the successful attempt. */
  hostSeconds?: number;
}

export interface RunnerOptions {
  /** Worker threads (default: one per core); 0 or 1 runs in this thread. */
  workers?: number;
  /** Retries of a run whose worker threw or died (default 2). */
  retries?: number;
  /** Called once per config, in completion order; awaited before the next is reported. */
  onOutcome?: (o: RunOutcome) => void | Promise<void>;
  /** Called when an attempt failed and the run is tried again (`attempt` is the one that failed). */
  onRetry?: (config: SimConfig, attempt: number, of: number, error: string) => void;
  /**
   * A pool the caller owns, to reuse across runAll calls: its threads are already
   * started and their code compiled, which a fresh pool pays for on every call
   * (~0.15 s to start, and the first runs on each thread are up to 2x slower). When
   * given, `workers` is ignored and the pool is left running.
   */
  pool?: SimPool;
}

export const DEFAULT_RETRIES = 2;

import { MAX_RETRIES } from './retries.js';
export { MAX_RETRIES } from './retries.js';

type Attempt = (config: SimConfig) => Promise<PoolRun>;

/** One attempt in this thread. */
const inProcess: Attempt = (config) => {
  const t0 = process.hrtime.bigint();
  const result = simulate(config);
  return Promise.resolve({ result, hostSeconds: Number(process.hrtime.bigint() - t0) / 1e9 });
};

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function runOne(index: number, config: SimConfig, attempt: Attempt, retries: number, onRetry: RunnerOptions['onRetry']): Promise<RunOutcome> {
  let lastError = '';
  for (let attempts = 1; attempts <= retries + 1; attempts++) {
    try {
      const { result, hostSeconds } = await attempt(config);
      return { index, config, result, attempts, hostSeconds };
    } catch (err) {
      if (err instanceof ConfigError) return { index, config, error: err.message, configError: err, attempts };
      lastError = message(err);
      if (attempts <= retries) onRetry?.(config, attempts, retries + 1, lastError);
    }
  }
  const attempts = retries + 1;
  return { index, config, error: attempts > 1 ? `${lastError} (${attempts} attempts)` : lastError, attempts };
}

/**
 * Run every config; outcomes come back in input order.
 *
 * Each finished outcome is passed to onOutcome before runAll settles. If onOutcome
 * throws, no new run starts; runs already going finish and are still reported, then
 * runAll rejects with the first such error.
 */
export async function runAll(configs: readonly SimConfig[], opts: RunnerOptions = {}): Promise<RunOutcome[]> {
  const workers = opts.workers ?? defaultWorkers();
  const retries = opts.retries ?? DEFAULT_RETRIES;
  if (!Number.isInteger(workers) || workers < 0) {
    throw new RangeError(`workers: expected an integer >= 0, got ${String(workers)}`);
  }
  if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
    throw new RangeError(`retries: expected an integer from 0 to ${MAX_RETRIES}, got ${String(retries)}`);
  }
  const outcomes = new Array<RunOutcome>(configs.length);
  if (configs.length === 0) return outcomes;

  // Reports go out one at a time, in completion order, without holding up the runs.
  let reported: Promise<void> = Promise.resolve();
  let reportError: { err: unknown } | undefined;
  const report = (o: RunOutcome): void => {
    reported = reported.then(async () => {
      try {
        await opts.onOutcome?.(o);
      } catch (err) {
        reportError ??= { err };
      }
    });
  };

  const ownPool = !opts.pool && workers > 1;
  const lanes = opts.pool ? Math.min(opts.pool.threads, configs.length) : workers <= 1 ? 1 : Math.min(workers, configs.length);
  const pool = opts.pool ?? (ownPool ? new SimPool({ threads: lanes }) : undefined);
  const attempt: Attempt = pool ? (config) => pool.run(config) : inProcess;

  // As many runs in flight as there are threads: a lane takes the next config when
  // its run finishes, so nothing waits in piscina's queue and a retry goes first.
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < configs.length && !reportError) {
      const index = next++;
      const o = await runOne(index, configs[index]!, attempt, retries, opts.onRetry);
      outcomes[index] = o;
      report(o);
      // In this thread, let the report run before the next simulation blocks the loop.
      if (!pool) await reported;
    }
  };
  try {
    await Promise.all(Array.from({ length: lanes }, lane));
  } finally {
    await reported;
    if (ownPool) await pool?.destroy();
  }
  if (reportError) throw reportError.err;
  return outcomes;
}
