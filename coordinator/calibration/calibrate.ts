/**
 * `vcpusim calibrate`: fit a declared, small set of free costs of a profile to published
 * figures, and write the fitted profile with its residuals.
 *
 * A calibration spec (experiments/calibration/*.yaml) names the base profile, the
 * experiment whose `published` rows are the targets, and at most 8 free costs, each with
 * bounds and the reason it is free. Each cost moves on a log scale between its bounds;
 * a cell's figure is the mean over `seeds` seeds (1..N); the objective is the mean
 * squared log error over the target cells, plus ten times the squared excess of any cell
 * beyond the spec's `tolerance` (so that the mean is not bought with one cell far off);
 * Nelder–Mead minimises it from the spec's start.
 * Everything else stays as the base profile has it. The runs of one evaluation are spread
 * over worker threads. The fitted profile goes to profiles/<name>.json (loaded by
 * shared/costs.ts). The spec's `predictions` are then simulated with the fitted profile
 * (mean and spread over the seeds) and reported beside the fit, untouched by it.
 */
import { dirname, join } from 'node:path';
import type { SimConfig } from '../../shared/config.js';
import { PROFILES, costValues, profilesDir, type Costs, type ProfileFile } from '../../shared/costs.js';
import type { RunResult } from '../../shared/stats.js';
import type { Runner } from '../execution/runner.js';
import { ExperimentError } from '../experiments/schema.js';
import { ensureDir, writeFileAtomic } from '../store/files.js';
import { nelderMead } from './nelder-mead.js';
import { predictionConfigs, targetCells, type CalibrationSpec, type Cell } from './spec.js';

/** A figure over seeds: the mean, and the lowest and highest seed's. */
export interface SeedSpread {
  mean: number;
  min: number;
  max: number;
  n: number;
}

export interface CellResult extends Cell {
  /** The mean over the seeds. */
  simulated: number;
  spread: SeedSpread;
  errorPct: number;
}

export interface CalibrationResult {
  spec: CalibrationSpec;
  fitted: Record<string, number>;
  /** Mean squared log error of the cells as reported (full runs). */
  objective: number;
  /** The same, as minimised (with the spec's shorter loops). */
  fitObjective: number;
  evaluations: number;
  cells: CellResult[];
  predictions: { config: SimConfig; metric: RunResult['metric']; spread: SeedSpread }[];
  profileFile?: string;
}

const toValue = (f: CalibrationSpec['free'][number], x: number) => f.min * Math.pow(f.max / f.min, x);
const toUnit = (f: CalibrationSpec['free'][number], v: number) => {
  const u = Math.log(v / f.min) / Math.log(f.max / f.min);
  return u < 0 ? 0 : u > 1 ? 1 : u;
};

export interface CalibrateOptions {
  experimentsDir?: string;
  maxEvaluations?: number;
  /** Write the fitted profile here (default profiles/<name>.json); null: do not write. */
  out?: string | null;
  /** Start the search from this profile's values of the free costs (default: the spec's `start`, else the base's). */
  start?: string;
  onEvaluation?: (evaluations: number, objective: number, best: number) => void;
}

function spreadOf(values: readonly number[]): SeedSpread {
  return { mean: values.reduce((a, v) => a + v, 0) / values.length, min: Math.min(...values), max: Math.max(...values), n: values.length };
}

/** Fit the spec's free costs, running every evaluation's configs on `runner`. */
export async function calibrate(spec: CalibrationSpec, runner: Runner, opts: CalibrateOptions = {}): Promise<CalibrationResult> {
  const run = async (configs: readonly SimConfig[], overrides: Partial<Costs>): Promise<RunResult['metric'][]> => {
    const outcomes = await runner.runAll(configs, { overrides, retries: 0 });
    return outcomes.map((o) => {
      if (!o.result) throw o.configError ?? new Error(o.error ?? 'a run failed');
      return o.result.metric;
    });
  };
  return fit(spec, opts, run);
}

async function fit(spec: CalibrationSpec, opts: CalibrateOptions, run: (configs: readonly SimConfig[], overrides: Partial<Costs>) => Promise<RunResult['metric'][]>): Promise<CalibrationResult> {
  const cells = targetCells(spec, opts.experimentsDir);
  const seeds = Array.from({ length: spec.seeds ?? 1 }, (_, i) => i + 1);
  const withSeeds = (c: SimConfig) => seeds.map((seed) => ({ ...c, seed }));
  const fitConfigs = cells.map((c) => {
    const loops = spec.loops?.[c.config.workload];
    return withSeeds(loops ? { ...c.config, loops } : c.config);
  });
  /** Each config group's figure over its seeds, and its first seed's metric (name and unit). */
  const runSeeds = async (configs: readonly SimConfig[][], o: Partial<Costs>): Promise<{ spread: SeedSpread; metric: RunResult['metric'] }[]> => {
    const metrics = await run(configs.flat(), o);
    return configs.map((_, i) => {
      const mine = metrics.slice(i * seeds.length, (i + 1) * seeds.length);
      return { spread: spreadOf(mine.map((m) => m.value)), metric: mine[0]! };
    });
  };
  const means = async (configs: readonly SimConfig[][], o: Partial<Costs>): Promise<SeedSpread[]> => (await runSeeds(configs, o)).map((r) => r.spread);
  const base = costValues(PROFILES[spec.base]!);
  const overridesAt = (x: readonly number[]): Partial<Costs> =>
    Object.fromEntries(spec.free.map((f, i) => [f.cost, Math.round(toValue(f, x[i]!) * 100) / 100]));
  const band = spec.tolerance === undefined ? Infinity : Math.log(1 + spec.tolerance);
  const objective = async (x: readonly number[]): Promise<number> => {
    const m = await means(fitConfigs, overridesAt(x));
    let sum = 0;
    for (let i = 0; i < cells.length; i++) {
      const e = Math.log(m[i]!.mean / cells[i]!.published);
      const excess = Math.max(0, Math.abs(e) - band);
      sum += e * e + 10 * excess * excess;
    }
    return sum / cells.length;
  };
  let best = Infinity;
  let evaluations = 0;
  const budget = opts.maxEvaluations ?? spec.maxEvaluations;
  // Nelder–Mead, restarted from its best point with a fresh simplex while it still
  // improves and the budget lasts (a restart undoes a simplex collapsed along an axis).
  const startProfile = {
    ...(opts.start === undefined ? base : costValues(PROFILES[opts.start] ?? missingProfile(opts.start))),
    ...(opts.start === undefined ? spec.start : {}),
  } as Costs;
  let fitted = { x: spec.free.map((f) => toUnit(f, startProfile[f.cost])), fx: Infinity, evaluations: 0 };
  while (evaluations < budget) {
    const before = fitted.fx;
    const r = await nelderMead(objective, fitted.x, {
      maxEvaluations: budget - evaluations,
      onEvaluation: (_x, fx) => {
        if (fx < best) best = fx;
        opts.onEvaluation?.(evaluations + 1, fx, best);
        evaluations++;
      },
    });
    if (r.fx < fitted.fx) fitted = r;
    if (!(before - fitted.fx > 1e-4)) break;
  }
  const overrides = overridesAt(fitted.x);
  const full = await means(cells.map((c) => withSeeds(c.config)), overrides);
  const results: CellResult[] = cells.map((c, i) => {
    const spread = full[i]!;
    return { ...c, simulated: spread.mean, spread, errorPct: ((spread.mean - c.published) / c.published) * 100 };
  });
  const predicting = predictionConfigs(spec, spec.base, opts.experimentsDir);
  const predicted = await runSeeds(predicting.map(withSeeds), overrides);
  const predictions = predicting.map((config, i) => {
    const p = predicted[i]!;
    return { config, metric: { ...p.metric, value: p.spread.mean }, spread: p.spread };
  });
  const result: CalibrationResult = {
    spec,
    fitted: { ...overrides },
    objective: results.reduce((a, c) => a + Math.log(c.simulated / c.published) ** 2, 0) / results.length,
    fitObjective: fitted.fx,
    evaluations,
    cells: results,
    predictions,
  };
  const out = opts.out === undefined ? defaultProfilePath(spec.name) : opts.out;
  if (out !== null) {
    writeProfile(out, spec, result);
    result.profileFile = out;
  }
  return result;
}

function missingProfile(name: string): never {
  throw new ExperimentError('--start', '', `${JSON.stringify(name)} is not a profile; expected one of ${Object.keys(PROFILES).join(', ')}`);
}

function defaultProfilePath(name: string): string {
  const dir = profilesDir();
  if (!dir) throw new Error('cannot find the repository to write profiles/ into');
  return join(dir, `${name}.json`);
}

/** The fitted profile, with every fitted cost's bounds and reason, and the residuals. */
function writeProfile(path: string, spec: CalibrationSpec, r: CalibrationResult): void {
  const file: ProfileFile & { fit: unknown } = {
    name: spec.name,
    description: spec.description,
    base: spec.base,
    costs: Object.fromEntries(
      spec.free.map((f) => [
        f.cost,
        {
          value: r.fitted[f.cost]!,
          note: `fitted by vcpusim calibrate to ${spec.targets} within [${f.min}, ${f.max}]: ${f.reason}`,
        },
      ]),
    ),
    fit: {
      targets: spec.targets,
      objective: r.objective,
      evaluations: r.evaluations,
      seeds: r.spec.seeds ?? 1,
      cells: r.cells.map((c) => ({ label: c.label, mode: c.mode, published: c.published, simulated: c.simulated, seedMin: c.spread.min, seedMax: c.spread.max, errorPct: c.errorPct })),
    },
  };
  ensureDir(dirname(path));
  writeFileAtomic(path, JSON.stringify(file, null, 2) + '\n');
}

