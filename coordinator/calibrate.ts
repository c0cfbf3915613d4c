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
import { readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { z } from 'zod';
import { resolveConfig, WORKLOADS, type SimConfig } from '../shared/config.js';
import { COST_NAMES, PROFILES, costValues, profilesDir, type Costs, type ProfileFile } from '../shared/costs.js';
import { memo, yaml, zod } from '../shared/lazy-lib.js';
import type { RunResult } from '../shared/stats.js';
import { simulate } from '../worker/vm.js';
import { displayPath, ExperimentError, expandExperiment, loadExperiment, matches } from './experiments.js';
import { nelderMead } from './nelder-mead.js';
import { defaultWorkers, SimPool } from './pool.js';

export const MAX_FREE_COSTS = 8;

/** The schema of a calibration spec, built on its first call (zod loads then: shared/lazy-lib.ts). */
const specSchema = memo(() => {
  const z = zod();
  return z
    .object({
      name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
      description: z.string(),
      base: z.string().refine((p) => p in PROFILES, { message: `a profile among ${Object.keys(PROFILES).join(', ')}` }),
      targets: z.string(),
      maxEvaluations: z.int().min(1).max(5000),
      /** Seeds per cell (1..N); the cell's figure is their mean. */
      seeds: z.int().min(1).max(20).optional(),
      /** Shorter runs while fitting: loops per workload. */
      loops: z.partialRecord(z.enum(WORKLOADS), z.int().min(1)).optional(),
      /** A cell's allowed relative error (0.12 = ±12%): beyond it, the excess log error
       *  counts 10× in the objective, so no cell is given up for a smaller mean. */
      tolerance: z.number().positive().max(1).optional(),
      free: z
        .array(
          z
            .object({
              cost: z.enum(COST_NAMES),
              min: z.number().positive(),
              max: z.number().positive(),
              reason: z.string().min(1),
            })
            .strict()
            .refine((f) => f.min < f.max, { message: 'min must be below max' }),
        )
        .min(1)
        .max(MAX_FREE_COSTS),
      /** Where the search starts, cost by cost (default: the base profile's values). */
      start: z.partialRecord(z.enum(COST_NAMES), z.number().positive()).optional(),
      predictions: z.array(z.record(z.string(), z.unknown())).optional(),
    })
    .strict();
});

export type CalibrationSpec = z.infer<ReturnType<typeof specSchema>>;

export function loadCalibrationSpec(path: string): CalibrationSpec {
  const shown = displayPath(path);
  let raw: unknown;
  try {
    raw = yaml().parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ExperimentError(shown, '', `cannot be read as YAML (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
  }
  const parsed = specSchema().safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    throw new ExperimentError(shown, field, `${JSON.stringify(issue.input)} is not allowed: ${issue.message}`);
  }
  const names = parsed.data.free.map((f) => f.cost);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new ExperimentError(shown, 'free', `cost ${dup} is listed twice`);
  return parsed.data;
}

/** One target: a config and the figure published for it. */
export interface Cell {
  label: string;
  mode: SimConfig['mode'];
  config: SimConfig;
  published: number;
}

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

/** The target cells of the spec's experiment, with the base profile. */
export function targetCells(spec: CalibrationSpec, experimentsDir?: string): Cell[] {
  const exp = loadExperiment(spec.targets, experimentsDir);
  if (!exp.published) throw new ExperimentError(exp.file ?? exp.name, 'published', 'the targets experiment has no published figures');
  const configs = expandExperiment({ ...exp, base: { ...exp.base, profile: spec.base } });
  const cells: Cell[] = [];
  for (const row of exp.published.rows) {
    for (const [mode, published] of Object.entries(row.values)) {
      const config = configs.find((c) => c.mode === mode && matches(c, row.match));
      if (!config || published === undefined) continue;
      cells.push({ label: row.label, mode: mode as SimConfig['mode'], config, published });
    }
  }
  return cells;
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
  /** Worker threads for the runs of an evaluation (default: one per core; 1 runs in this thread). */
  workers?: number;
  onEvaluation?: (evaluations: number, objective: number, best: number) => void;
}

/** Runs configs with cost overrides: in this thread, or over a pool of worker threads. */
type Runner = (configs: readonly SimConfig[], overrides: Partial<Costs>) => Promise<RunResult['metric'][]>;

function inThread(configs: readonly SimConfig[], overrides: Partial<Costs>): Promise<RunResult['metric'][]> {
  return Promise.resolve(configs.map((c) => simulate(c, overrides).metric));
}

function spreadOf(values: readonly number[]): SeedSpread {
  return { mean: values.reduce((a, v) => a + v, 0) / values.length, min: Math.min(...values), max: Math.max(...values), n: values.length };
}

export async function calibrate(spec: CalibrationSpec, opts: CalibrateOptions = {}): Promise<CalibrationResult> {
  const workers = opts.workers ?? defaultWorkers();
  const pool = workers > 1 ? new SimPool({ threads: workers }) : null;
  try {
    const run: Runner = pool ? async (configs, o) => (await Promise.all(configs.map((c) => pool.run(c, o)))).map((r) => r.result.metric) : inThread;
    return await fit(spec, opts, run);
  } finally {
    await pool?.destroy();
  }
}

async function fit(spec: CalibrationSpec, opts: CalibrateOptions, run: Runner): Promise<CalibrationResult> {
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
  const predictionConfigs = (spec.predictions ?? []).map((p) => resolveConfig({ ...(p as Partial<SimConfig>), profile: spec.base }));
  const predicted = await runSeeds(predictionConfigs.map(withSeeds), overrides);
  const predictions = predictionConfigs.map((config, i) => {
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
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(file, null, 2) + '\n');
  renameSync(tmp, path);
}

const pct = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`;

/** A prediction's config in a few words: the workload and what sets it apart from the defaults. */
function describePrediction(c: SimConfig): string {
  const what =
    c.workload === 'hackbench'
      ? `hackbench ${c.groups}${c.thread ? ' thread' : ''}${c.pipe ? ' pipe' : ''}`
      : c.workload === 'ctxswitch'
        ? `ctxswitch ${c.tasks} tasks`
        : c.workload === 'idle'
          ? `idle HZ=${c.hz}`
          : c.workload;
  const extra: string[] = [];
  if (c.mode.startsWith('kvm-') && c.mode !== 'kvm-upstream') extra.push(`${c.mmuPages} pages`);
  if (c.extraFlush !== 'none') extra.push(`extra flush ${c.extraFlush}`);
  if (c.clocksource !== 'tsc') extra.push(`clocksource ${c.clocksource}`);
  return `${what}, ${c.mode}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

export function formatCalibration(r: CalibrationResult): string {
  const lines: string[] = [];
  lines.push(`calibration ${r.spec.name} (base ${r.spec.base}, targets ${r.spec.targets}): ${r.evaluations} evaluations, mean squared log error ${r.objective.toFixed(4)}`);
  lines.push('');
  lines.push('fitted costs:');
  for (const f of r.spec.free) {
    lines.push(`  ${f.cost.padEnd(20)} ${String(r.fitted[f.cost]).padStart(10)}   [${f.min}, ${f.max}]`);
  }
  lines.push('');
  const seeds = r.spec.seeds ?? 1;
  lines.push(`${'cell'.padEnd(44)}${'published'.padStart(11)}${'simulated'.padStart(11)}${'error'.padStart(9)}   seeds 1-${seeds}: lowest - highest`);
  for (const c of r.cells) {
    lines.push(`${`${c.label}, ${c.mode}`.padEnd(44)}${String(c.published).padStart(11)}${c.simulated.toPrecision(4).padStart(11)}${pct(c.errorPct).padStart(9)}   ${c.spread.min.toPrecision(4)} - ${c.spread.max.toPrecision(4)}`);
  }
  if (r.predictions.length) {
    lines.push('');
    lines.push('predictions (not fitted):');
    for (const p of r.predictions) {
      lines.push(`  ${describePrediction(p.config).padEnd(58)}${p.metric.value.toPrecision(4).padStart(11)} ${p.metric.unit.padEnd(12)} ${p.spread.min.toPrecision(4)} - ${p.spread.max.toPrecision(4)}`);
    }
  }
  if (r.profileFile) lines.push('', `fitted profile written to ${displayPath(r.profileFile)}`);
  return lines.join('\n') + '\n';
}
