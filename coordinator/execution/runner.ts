/**
 * The seam between what to run (sweeps, experiments, calibration) and where it runs:
 * a `Runner` takes a list of configs and reports each outcome as it finishes. Two kinds
 * stand behind it: this machine's threads (local.ts, which also runs one VM split over
 * threads, with or without a live view), and a Redis queue that other machines' workers
 * take jobs from (queue/producer.ts). Results do not depend on where they ran: a
 * simulation is a pure function of its config (only hostSeconds differs).
 *
 * A run whose attempt throws, or whose worker thread dies, is tried again up to
 * `retries` more times (at most MAX_RETRIES); after that it is reported failed and the
 * other runs go on. A config the simulation refuses (a ConfigError: the guest does not
 * fit) is not retried: it would fail the same way.
 */
import type { SimConfig } from '../../shared/config.js';
import type { Costs } from '../../shared/costs.js';
import { ConfigError } from '../../shared/errors.js';
import type { RunResult } from '../../shared/stats.js';
import { DEFAULT_RETRIES, MAX_RETRIES } from './limits.js';

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

export interface RunAllOptions {
  /** Retries of a run whose worker threw or died (default DEFAULT_RETRIES). */
  retries?: number;
  /** Called once per config, in completion order; awaited before the next is reported. */
  onOutcome?: (o: RunOutcome) => void | Promise<void>;
  /** Called when an attempt failed and the run is tried again (`attempt` is the one that failed). */
  onRetry?: (config: SimConfig, attempt: number, of: number, error: string) => void;
  /** A job taken again after its worker stopped answering (a queue's workers). */
  onStalled?: (config: SimConfig) => void;
  /** A line about the runs as a whole (a queue with no worker connected). */
  onNotice?: (line: string) => void;
  /** Costs replacing every config's profile's (calibration's candidates; local runs only). */
  overrides?: Partial<Costs>;
}

export interface Runner {
  /**
   * Run every config; outcomes come back in input order. Each finished outcome is passed
   * to onOutcome before runAll settles. If onOutcome throws, no new run starts; runs
   * already going finish and are still reported, then runAll rejects with the first such
   * error.
   */
  runAll(configs: readonly SimConfig[], opts?: RunAllOptions): Promise<RunOutcome[]>;
  /** Let go of the threads or connections it holds. Safe to call twice. */
  close(): Promise<void>;
}

/** One run of a config, with the host seconds it took. */
export interface TimedRun {
  result: RunResult;
  hostSeconds: number;
}

/** One attempt at a config somewhere. Rejects with a ConfigError when the simulation refuses it. */
export type Attempt = (config: SimConfig) => Promise<TimedRun>;

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The retries asked for, checked. */
export function retriesOf(opts: RunAllOptions): number {
  const retries = opts.retries ?? DEFAULT_RETRIES;
  if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
    throw new RangeError(`retries: expected an integer from 0 to ${MAX_RETRIES}, got ${String(retries)}`);
  }
  return retries;
}

/** One config, tried up to retries + 1 times. */
async function runOne(index: number, config: SimConfig, attempt: Attempt, retries: number, onRetry: RunAllOptions['onRetry']): Promise<RunOutcome> {
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
 * Run every config through `attempt` on `lanes` lanes: as many runs in flight as lanes, a
 * lane taking the next config when its run finishes (so nothing waits in a thread pool's
 * queue and a retry goes first). `yieldBetween`: let the reports run before the next
 * attempt (an attempt in this thread blocks the event loop). `order`: the indices in the
 * order the lanes take them (default: the list's; order.ts's longestFirst for threads).
 */
export async function runOnLanes(
  configs: readonly SimConfig[],
  attempt: Attempt,
  lanes: number,
  opts: RunAllOptions,
  yieldBetween: boolean,
  order?: readonly number[],
): Promise<RunOutcome[]> {
  const retries = retriesOf(opts);
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
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < configs.length && !reportError) {
      const index = order ? order[next++]! : next++;
      const o = await runOne(index, configs[index]!, attempt, retries, opts.onRetry);
      outcomes[index] = o;
      report(o);
      if (yieldBetween) await reported;
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(lanes, configs.length)) }, lane));
  } finally {
    await reported;
  }
  if (reportError) throw reportError.err;
  return outcomes;
}
