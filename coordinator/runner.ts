/**
 * Runs a list of configs and reports each outcome as it finishes. This is the seam
 * between what to run (sweeps, experiments) and where it runs (this thread, or a pool
 * of worker threads).
 */
import type { SimConfig } from '../shared/config.js';
import type { RunResult } from '../shared/stats.js';
import { simulate } from '../worker/vm.js';

export interface RunOutcome {
  /** Position of the config in the list given to runAll. */
  index: number;
  config: SimConfig;
  /** Present when the run finished. */
  result?: RunResult;
  /** Present when the run failed for good: why. */
  error?: string;
  /** Attempts made (1 unless retried). */
  attempts: number;
  /** Host seconds of the successful attempt. */
  hostSeconds?: number;
}

export interface RunnerOptions {
  /** Worker threads; 0 or 1 runs in this thread. */
  workers?: number;
  /** Retries of a run whose worker threw or died. */
  retries?: number;
  /** Called once per config, in completion order; awaited before the next is reported. */
  onOutcome?: (o: RunOutcome) => void | Promise<void>;
}

/** Run every config; outcomes come back in input order. */
export async function runAll(configs: readonly SimConfig[], opts: RunnerOptions = {}): Promise<RunOutcome[]> {
  const out: RunOutcome[] = [];
  for (let index = 0; index < configs.length; index++) {
    const config = configs[index]!;
    const t0 = process.hrtime.bigint();
    let o: RunOutcome;
    try {
      const result = simulate(config);
      o = { index, config, result, attempts: 1, hostSeconds: Number(process.hrtime.bigint() - t0) / 1e9 };
    } catch (err) {
      o = { index, config, error: err instanceof Error ? err.message : String(err), attempts: 1 };
    }
    out.push(o);
    await opts.onOutcome?.(o);
  }
  return out;
}
