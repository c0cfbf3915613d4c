/**
 * `vcpusim sweep`: every combination of the comma lists of run parameters, run into the
 * store as an experiment of its own (`--name`), then reported, with plots of the metric
 * (and the cr3 cache's hit rate) against the first varied numeric field.
 */
import { ConfigError, UsageError } from '../../shared/errors.js';
import { flagOf } from '../../shared/config-fields.js';
import type { SimConfig } from '../../shared/config.js';
import { runExperiment, type ExperimentRunOptions } from '../cli/experiment-run.js';
import type { Outcome } from '../cli/outcome.js';
import { expand, pointsWords, variedFields, type Expansion } from '../experiments/expand.js';
import { ExperimentError, MAX_POINTS, NAME_ALLOWED, isValidName, type Experiment, type PlotDef } from '../experiments/schema.js';
import { plotProblem } from '../reports/plot-check.js';
import { MODE_TRAITS } from '../../shared/modes.js';

export interface SweepOptions extends ExperimentRunOptions {
  name: string;
  /** The config fields given: a list for each option, one value for a text option. */
  fields: Record<string, unknown>;
  seeds?: number;
  /** The command line, for the sweep's description. */
  argv: readonly string[];
}

/** Plots for an ad-hoc sweep: the metric (and the cr3 hit rate) against the first varied numeric field. */
export function sweepPlots(configs: readonly SimConfig[], seeds = false): PlotDef[] {
  const varied = variedFields(configs, seeds ? ['seed'] : []);
  const xPref: (keyof SimConfig)[] = ['cacheSize', 'mmuPages', 'vcpus', 'tasks', 'groups', 'loops', 'hz', 'memoryMiB'];
  const x = xPref.find((f) => varied.includes(f)) ?? varied[0];
  if (!x) return [];
  const seriesPref: (keyof SimConfig)[] = ['mode', 'tasks', 'groups', ...varied];
  const series = seriesPref.find((f) => f !== x && varied.includes(f) && !(x === 'groups' && f === 'tasks') && !(x === 'tasks' && f === 'groups'));
  const logX = x === 'cacheSize' || x === 'mmuPages';
  // A third varied field is the facet (the workload first: its metric has its own unit); a sweep of more has no plot (it would merge points).
  const facet = ['workload' as const, ...varied].find((f) => f !== x && f !== series && varied.includes(f));
  const plots: PlotDef[] = [{ x, y: 'metric', ...(series ? { series } : {}), ...(facet ? { facet } : {}), logX, file: `metric-vs-${x}` }];
  if (configs.some((c) => MODE_TRAITS[c.mode].paravirt)) plots.push({ x, y: 'hitRate', ...(series ? { series } : {}), ...(facet ? { facet } : {}), logX, file: `hit-rate-vs-${x}` });
  return plots.filter((p) => plotProblem({ plots: [p], ...(seeds ? { seeds: 1 } : {}) }, configs) === undefined);
}

export async function sweepCommand(o: SweepOptions): Promise<Outcome> {
  if (!isValidName(o.name)) throw new UsageError({ option: '--name', value: o.name, allowed: NAME_ALLOWED });
  if (o.seeds !== undefined && o.fields.seed !== undefined) {
    throw new UsageError({ option: '--seeds', value: o.seeds, allowed: 'seeds 1..n, without --seed', detail: `${o.seeds} runs seeds 1-${o.seeds}, and --seed ${JSON.stringify(o.fields.seed)} was given as well; expected one of --seed and --seeds` });
  }
  const grid: Record<string, (string | number | boolean)[]> = {};
  const base: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o.fields)) {
    if (Array.isArray(v)) grid[k] = v as (string | number | boolean)[];
    else base[k] = v;
  }
  // Count the combinations before making any of them.
  const axes = Object.entries(grid).filter(([, v]) => v.length > 1);
  const points = axes.reduce((n, [, v]) => Math.min(n * v.length, Number.MAX_SAFE_INTEGER), o.seeds ?? 1);
  if (points > MAX_POINTS) {
    const option = axes.map(([f]) => flagOf(f)).join(' x ');
    throw new UsageError({ option, value: points, allowed: `at most ${MAX_POINTS} points`, detail: `${pointsWords(points)} (${axes.map(([, v]) => v.length).join(' x ')}) are too many; expected at most ${MAX_POINTS}` });
  }
  // Check every point before running any, so a bad value leaves the store untouched.
  const probe: Experiment = { name: o.name, description: '', base, grid, ...(o.seeds ? { seeds: o.seeds } : {}) };
  let expansion: Expansion;
  try {
    expansion = expand(probe);
  } catch (err) {
    // A point that does not resolve: name the option that gave the field.
    if (err instanceof ExperimentError && err.cause instanceof ConfigError) throw err.cause;
    throw err;
  }
  const exp: Experiment = { ...probe, description: `vcpusim sweep ${o.argv.join(' ')}`.trim(), plots: sweepPlots(expansion.configs, o.seeds !== undefined) };
  return runExperiment(exp, expansion, o);
}
