/**
 * A calibration spec (experiments/calibration/*.yaml): the base profile, the experiment
 * whose `published` rows are the targets, at most MAX_FREE_COSTS free costs, each with
 * bounds and the reason it is free, the seeds per cell, shorter loops while fitting, the
 * tolerance of a cell, and configurations to predict once fitted. Read the guarded way
 * (store/files.ts), parsed as experiment files are, validated strictly.
 */
import type { z } from 'zod';
import { WORKLOADS, resolveConfig, type SimConfig } from '../../shared/config.js';
import { COST_NAMES, PROFILES } from '../../shared/costs.js';
import { memo, zod } from '../../shared/lazy-lib.js';
import { expandExperiment, matches } from '../experiments/expand.js';
import { loadExperiment, parseYamlText } from '../experiments/load.js';
import { ExperimentError } from '../experiments/schema.js';
import { FileProblem, displayPath, readRegularFile } from '../store/files.js';

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
      /** Configurations the fit never sees, simulated with the fitted profile: a list, or the name of an experiment whose runs they are. */
      predictions: z.union([z.array(z.record(z.string(), z.unknown())), z.string().min(1)]).optional(),
    })
    .strict();
});

export type CalibrationSpec = z.infer<ReturnType<typeof specSchema>>;

export function loadCalibrationSpec(path: string): CalibrationSpec {
  const shown = displayPath(path);
  let text: string;
  try {
    text = readRegularFile(path, { follow: true });
  } catch (err) {
    if (err instanceof FileProblem) throw new ExperimentError(shown, '', err.reason);
    throw err;
  }
  const raw = parseYamlText(shown, text);
  const parsed = specSchema().safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    throw new ExperimentError(shown, field, `${JSON.stringify(issue.input)} is not allowed: ${issue.message}`);
  }
  const names = parsed.data.free.map((f) => f.cost);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new ExperimentError(shown, 'free', `cost ${dup} is listed twice`);
  // Where the search starts: a free cost's, within its bounds.
  for (const [cost, v] of Object.entries(parsed.data.start ?? {})) {
    const f = parsed.data.free.find((x) => x.cost === cost);
    if (!f) throw new ExperimentError(shown, `start.${cost}`, `${cost} is not a free cost; expected one of ${names.join(', ')}`);
    if (v === undefined || v < f.min || v > f.max) throw new ExperimentError(shown, `start.${cost}`, `${v} is not allowed; expected a value within ${cost}'s bounds [${f.min}, ${f.max}]`);
  }
  return parsed.data;
}

/** One target: a config and the figure published for it. */
export interface Cell {
  label: string;
  mode: SimConfig['mode'];
  config: SimConfig;
  published: number;
}

/** The spec's predictions as configs of profile `profile`: its list, or its experiment's runs (one per point: the spec's seeds replicate them). */
export function predictionConfigs(spec: CalibrationSpec, profile: string, experimentsDir?: string): SimConfig[] {
  const p = spec.predictions;
  if (p === undefined) return [];
  if (typeof p !== 'string') return p.map((c) => resolveConfig({ ...(c as Partial<SimConfig>), profile }));
  const exp = loadExperiment(p, experimentsDir);
  return expandExperiment({ ...exp, seeds: undefined, base: { ...exp.base, profile } });
}

/** The target cells of the spec's experiment, with the base profile. */
export function targetCells(spec: CalibrationSpec, experimentsDir?: string): Cell[] {
  const exp = loadExperiment(spec.targets, experimentsDir);
  if (!exp.published) throw new ExperimentError(spec.name, 'targets', `${JSON.stringify(spec.targets)} has no published figures to fit to; expected an experiment with a published: section (published-table)`);
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

