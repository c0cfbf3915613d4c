/**
 * `vcpusim reproduce [experiment]`: an experiment file (by name in the experiments
 * directory, or a path) run into the store, skipping what is stored, then reported; the
 * default is the published table.
 */
import { UsageError } from '../../shared/errors.js';
import { runExperiment, type ExperimentRunOptions } from '../cli/experiment-run.js';
import type { Outcome } from '../cli/outcome.js';
import { expand } from '../experiments/expand.js';
import { experimentsDirOf, isExperimentPath, loadExperiment } from '../experiments/load.js';
import { EXPERIMENT_ARG_ALLOWED } from '../experiments/resolve.js';
import { ExperimentError, isValidName, type Experiment } from '../experiments/schema.js';

export interface ReproduceOptions extends ExperimentRunOptions {
  experiments: string;
  /** The trace an experiment of the trace workload replays instead of its file's. */
  trace?: string;
  seeds?: number;
}

/** --seeds of reproduce and report: the experiment's points with seeds 1..n, checked as the file's `seeds` would be. */
export function withSeeds(exp: Experiment, seeds: number | undefined): void {
  if (seeds === undefined) return;
  exp.seeds = seeds;
  try {
    expand(exp);
  } catch (err) {
    if (err instanceof ExperimentError) throw new UsageError({ option: '--seeds', value: seeds, file: err.file, field: err.field, detail: err.detail });
    throw err;
  }
}

export async function reproduceCommand(name: string, o: ReproduceOptions): Promise<Outcome> {
  if (!isExperimentPath(name) && !isValidName(name)) throw new UsageError({ option: 'reproduce', value: name, allowed: EXPERIMENT_ARG_ALLOWED });
  const exp = loadExperiment(name, isExperimentPath(name) ? o.experiments : experimentsDirOf(o.experiments));
  if (o.trace !== undefined) exp.base = { ...exp.base, trace: o.trace };
  withSeeds(exp, o.seeds);
  return runExperiment(exp, expand(exp), o);
}
