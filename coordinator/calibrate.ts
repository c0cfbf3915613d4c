/**
 * `vcpusim calibrate`: fit a declared, small set of free costs of a profile to published
 * figures, and write the fitted profile with its residuals.
 *
 * A calibration spec (experiments/calibration/*.yaml) names the base profile, the
 * experiment whose `published` rows are the targets, and at most 8 free costs, each with
 * bounds and the reason it is free. Each cost moves on a log scale between its bounds;
 * the objective is the mean squared log error over the target cells; Nelder–Mead
 * minimises it from the base profile's values. Everything else stays as the base profile
 * has it. The fitted profile goes to profiles/<name>.json (loaded by shared/costs.ts).
 * The spec's `predictions` are then simulated with the fitted profile and reported
 * beside the fit, untouched by it.
 */
import { readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { resolveConfig, WORKLOADS, type SimConfig } from '../shared/config.js';
import { COST_NAMES, PROFILES, costValues, profilesDir, type Costs, type ProfileFile } from '../shared/costs.js';
import type { RunResult } from '../shared/stats.js';
import { simulate } from '../worker/vm.js';
import { displayPath, ExperimentError, expandExperiment, loadExperiment, matches } from './experiments.js';
import { nelderMead } from './nelder-mead.js';

export const MAX_FREE_COSTS = 8;

const specSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    description: z.string(),
    base: z.string().refine((p) => p in PROFILES, { message: `a profile among ${Object.keys(PROFILES).join(', ')}` }),
    targets: z.string(),
    maxEvaluations: z.int().min(1).max(5000),
    /** Shorter runs while fitting: loops per workload. */
    loops: z.partialRecord(z.enum(WORKLOADS), z.int().min(1)).optional(),
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

export type CalibrationSpec = z.infer<typeof specSchema>;

export function loadCalibrationSpec(path: string): CalibrationSpec {
  const shown = displayPath(path);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ExperimentError(shown, '', `cannot be read as YAML (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
  }
  const parsed = specSchema.safeParse(raw, { reportInput: true });
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

export interface CellResult extends Cell {
  simulated: number;
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
  predictions: { config: SimConfig; metric: RunResult['metric'] }[];
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
  onEvaluation?: (evaluations: number, objective: number, best: number) => void;
}

export function calibrate(spec: CalibrationSpec, opts: CalibrateOptions = {}): CalibrationResult {
  const cells = targetCells(spec, opts.experimentsDir);
  const fitCells = cells.map((c) => {
    const loops = spec.loops?.[c.config.workload];
    return loops ? { ...c, config: { ...c.config, loops } } : c;
  });
  const base = costValues(PROFILES[spec.base]!);
  const overridesAt = (x: readonly number[]): Partial<Costs> =>
    Object.fromEntries(spec.free.map((f, i) => [f.cost, Math.round(toValue(f, x[i]!) * 100) / 100]));
  const objective = (x: readonly number[], list: readonly Cell[]): number => {
    const o = overridesAt(x);
    let sum = 0;
    for (const c of list) {
      const e = Math.log(simulate(c.config, o).metric.value / c.published);
      sum += e * e;
    }
    return sum / list.length;
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
  let fit = { x: spec.free.map((f) => toUnit(f, startProfile[f.cost])), fx: Infinity, evaluations: 0 };
  while (evaluations < budget) {
    const before = fit.fx;
    const run = nelderMead((x) => objective(x, fitCells), fit.x, {
      maxEvaluations: budget - evaluations,
      onEvaluation: (_x, fx) => {
        if (fx < best) best = fx;
        opts.onEvaluation?.(evaluations + 1, fx, best);
        evaluations++;
      },
    });
    if (run.fx < fit.fx) fit = run;
    if (!(before - fit.fx > 1e-4)) break;
  }
  fit = { ...fit, evaluations };
  const overrides = overridesAt(fit.x);
  const results: CellResult[] = cells.map((c) => {
    const simulated = simulate(c.config, overrides).metric.value;
    return { ...c, simulated, errorPct: ((simulated - c.published) / c.published) * 100 };
  });
  const predictions = (spec.predictions ?? []).map((p) => {
    const config = resolveConfig({ ...(p as Partial<SimConfig>), profile: spec.base });
    return { config, metric: simulate(config, overrides).metric };
  });
  const fitted = Object.fromEntries(Object.entries(overrides).map(([k, v]) => [k, v]));
  const result: CalibrationResult = {
    spec,
    fitted,
    objective: results.reduce((a, c) => a + Math.log(c.simulated / c.published) ** 2, 0) / results.length,
    fitObjective: fit.fx,
    evaluations: fit.evaluations,
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
      cells: r.cells.map((c) => ({ label: c.label, mode: c.mode, published: c.published, simulated: c.simulated, errorPct: c.errorPct })),
    },
  };
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(file, null, 2) + '\n');
  renameSync(tmp, path);
}

const pct = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`;

export function formatCalibration(r: CalibrationResult): string {
  const lines: string[] = [];
  lines.push(`calibration ${r.spec.name} (base ${r.spec.base}, targets ${r.spec.targets}): ${r.evaluations} evaluations, mean squared log error ${r.objective.toFixed(4)}`);
  lines.push('');
  lines.push('fitted costs:');
  for (const f of r.spec.free) {
    lines.push(`  ${f.cost.padEnd(20)} ${String(r.fitted[f.cost]).padStart(10)}   [${f.min}, ${f.max}]`);
  }
  lines.push('');
  lines.push(`${'cell'.padEnd(44)}${'published'.padStart(11)}${'simulated'.padStart(11)}${'error'.padStart(9)}`);
  for (const c of r.cells) {
    lines.push(`${`${c.label}, ${c.mode}`.padEnd(44)}${String(c.published).padStart(11)}${c.simulated.toPrecision(4).padStart(11)}${pct(c.errorPct).padStart(9)}`);
  }
  if (r.predictions.length) {
    lines.push('');
    lines.push('predictions (not fitted):');
    for (const p of r.predictions) {
      const c = p.config;
      const what = c.workload === 'hackbench' ? `hackbench ${c.groups}${c.thread ? ' thread' : ''}${c.pipe ? ' pipe' : ''}` : `${c.workload} ${c.tasks} tasks`;
      lines.push(`  ${`${what}, ${c.mode}`.padEnd(42)}${p.metric.value.toPrecision(4).padStart(11)} ${p.metric.unit}`);
    }
  }
  if (r.profileFile) lines.push('', `fitted profile written to ${displayPath(r.profileFile)}`);
  return lines.join('\n') + '\n';
}
