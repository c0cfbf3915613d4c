/**
 * What an experiment runs: its points (runs, or the grid's combinations, each with seeds
 * 1..N when it has `seeds`) resolved to configs, counted before anything is expanded,
 * the fields a point ignores set to their defaults and duplicate configs merged.
 */
import { CONFIG_FIELDS, ConfigError, FieldIgnored, fieldApplies, ignoredBecause, isConfigField, resolveConfig, withoutIgnored, type ResolveOptions, type SimConfig } from '../../shared/config.js';
import { seedList } from '../reports/replicates.js';
import { ExperimentError, MAX_POINTS, type Experiment, type PartialConfig } from './schema.js';

/** A product of list lengths that stops growing once it is past any limit. */
export const productOf = (lengths: readonly number[]): number => lengths.reduce((n, l) => Math.min(n * l, Number.MAX_SAFE_INTEGER), 1);

/** "1000000 points" (or "more than 9007199254740991 points"). */
export const pointsWords = (n: number): string => (n >= Number.MAX_SAFE_INTEGER ? `more than ${Number.MAX_SAFE_INTEGER} points` : `${n} point${n === 1 ? '' : 's'}`);

export const tooManyPoints = (file: string, field: string, count: number): ExperimentError =>
  new ExperimentError(file, field, `${pointsWords(count)} (${field === 'grid' ? "the product of its lists' lengths" : 'runs'}) are too many; expected at most ${MAX_POINTS}`);

/** The points of an experiment (runs, or the product of its grid's list lengths), counted without expanding it. */
export function countPoints(exp: Pick<Experiment, 'runs' | 'grid' | 'seeds'>): number {
  const seeds = exp.seeds ?? 1;
  if (exp.runs) return productOf([exp.runs.length, seeds]);
  return productOf([...Object.values(exp.grid ?? {}).map((values) => values.length), seeds]);
}

/** The partial configs of an experiment, each field with the path it came from (for messages). */
function partials(exp: Experiment): { cfg: PartialConfig; from: Record<string, string> }[] {
  const count = countPoints(exp);
  if (count > MAX_POINTS) throw tooManyPoints(exp.file ?? exp.name, exp.runs ? 'runs' : 'grid', count);
  const baseFrom = Object.fromEntries(Object.keys(exp.base).map((k) => [k, `base.${k}`]));
  if (exp.runs) {
    return withSeeds(
      exp,
      exp.runs.map((cfg, i) => ({
        cfg: { ...exp.base, ...cfg },
        from: { ...baseFrom, ...Object.fromEntries(Object.keys(cfg).map((k) => [k, `runs[${i}].${k}`])) },
      })),
    );
  }
  let acc: { cfg: PartialConfig; from: Record<string, string> }[] = [{ cfg: { ...exp.base }, from: baseFrom }];
  for (const [axis, values] of Object.entries(exp.grid ?? {})) {
    const next: typeof acc = [];
    for (const a of acc) {
      values.forEach((v, i) => {
        const add: PartialConfig = typeof v === 'object' ? v : ({ [axis]: v });
        const from = Object.fromEntries(Object.keys(add).map((k) => [k, typeof v === 'object' ? `grid.${axis}[${i}].${k}` : `grid.${axis}[${i}]`]));
        next.push({ cfg: { ...a.cfg, ...add }, from: { ...a.from, ...from } });
      });
    }
    acc = next;
  }
  return withSeeds(exp, acc);
}

/** Each point once per seed 1..N when the experiment has `seeds`; a point that sets its own seed as well is an error. */
function withSeeds(exp: Experiment, points: { cfg: PartialConfig; from: Record<string, string> }[]): { cfg: PartialConfig; from: Record<string, string> }[] {
  if (exp.seeds === undefined) return points;
  const own = points.find((p) => p.from.seed !== undefined);
  if (own) throw new ExperimentError(exp.file ?? exp.name, own.from.seed!, `a seed is not allowed together with seeds (${exp.seeds}: seeds 1-${exp.seeds} of every point); give one or the other`);
  return points.flatMap((p) => seedList(exp.seeds!).map((seed) => ({ cfg: { ...p.cfg, seed }, from: { ...p.from, seed: 'seeds' } })));
}

/** What an experiment runs. */
export interface Expansion {
  /** The resolved configs, in order, without duplicates. */
  configs: SimConfig[];
  /** Its points: runs, or grid combinations. */
  points: number;
  /** Points that are the same config as an earlier one (often once the fields they ignore are set to their defaults): run once. */
  merged: number;
}

/**
 * Resolve every point of an experiment. A field a point ignores (see `appliesTo` in
 * shared/config-fields.ts) is set to what it would be if not given, so the point's config
 * and store key do not depend on it, and points that become the same config run once.
 * A field the experiment sets that applies to none of its points is an error: it names
 * the place the field was set, the value and where the field applies.
 */
export function expand(exp: Experiment, options?: ResolveOptions): Expansion {
  const file = exp.file ?? exp.name;
  const points = partials(exp);
  const out: SimConfig[] = [];
  const seen = new Set<string>();
  const applied = new Set<string>();
  const ignored = new Map<keyof SimConfig, { from: string; value: unknown; because: string }>();
  for (const { cfg, from } of points) {
    let resolved: SimConfig;
    try {
      resolved = resolveConfig(cfg, options);
    } catch (err) {
      if (err instanceof ConfigError) {
        throw new ExperimentError(file, from[err.field] ?? err.field, err.detail, { cause: err });
      }
      throw err;
    }
    for (const field of Object.keys(from)) {
      if (!isConfigField(field) || applied.has(field)) continue;
      if (fieldApplies(field, resolved)) applied.add(field);
      else if (!ignored.has(field)) ignored.set(field, { from: from[field]!, value: resolved[field], because: ignoredBecause(field, resolved)! });
    }
    const { config } = withoutIgnored(resolved);
    const id = JSON.stringify(config);
    if (!seen.has(id)) {
      seen.add(id);
      out.push(config);
    }
  }
  for (const [field, at] of ignored) {
    if (applied.has(field)) continue;
    const cause = new FieldIgnored(field, at.value, at.because);
    throw new ExperimentError(file, at.from, cause.detail, { cause });
  }
  return { configs: out, points: points.length, merged: points.length - out.length };
}

/** The resolved configs of an experiment, in order, without duplicates (see expand). */
export function expandExperiment(exp: Experiment): SimConfig[] {
  return expand(exp).configs;
}

/** Whether a config has every field of `match`. */
export function matches(cfg: SimConfig, match: PartialConfig): boolean {
  return Object.entries(match).every(([k, v]) => cfg[k as keyof SimConfig] === v);
}

/** The config fields that take more than one value across a list of configs (those in `except` aside): the one definition of "the fields that vary". */
export function variedFields(configs: readonly SimConfig[], except: readonly (keyof SimConfig)[] = []): (keyof SimConfig)[] {
  return CONFIG_FIELDS.filter((f) => !except.includes(f) && new Set(configs.map((c) => c[f])).size > 1);
}

/** A config in a few words: the fields that vary among its fellows (mode and workload when none do). */
export function describeConfig(cfg: SimConfig, fields: readonly (keyof SimConfig)[]): string {
  const shown = fields.length ? fields : (['mode', 'workload'] as (keyof SimConfig)[]);
  return shown.map((f) => `${f}=${String(cfg[f])}`).join(' ');
}
