/**
 * What an experiment file is: a base config and either a list of runs or a grid, what to
 * compare against (`published` figures) and what to plot; its names and limits, and the
 * error a mistake in one is. The zod schemas are built on their first call (zod loads
 * then: shared/lazy-lib.ts).
 */
import type { z } from 'zod';
import { CONFIG_FIELDS, MODES, configSchema, type SimConfig } from '../../shared/config.js';
import { UserError, type ConfigError } from '../../shared/errors.js';
import { memo, zod } from '../../shared/lazy-lib.js';
import { MEASURES } from '../reports/measures.js';
import { MAX_SEEDS } from '../reports/replicates.js';

/** The longest name of an experiment or sweep (a directory of the store). */
export const MAX_NAME_LENGTH = 64;

/** What a name may be, in words. */
export const NAME_ALLOWED = `a name of letters, digits, ".", "_" and "-", not starting with "." or "-", at most ${MAX_NAME_LENGTH} characters`;

/** Whether a name can be a directory of the store: never `.`, `..`, hidden, a path, or one a command line would take for an option (`-rf`). */
export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name);
}

/**
 * The most points (configs before duplicates are merged) an experiment or sweep may
 * have: the length of `runs`, or the product of the lengths of the grid's lists. Counted
 * before anything is expanded.
 */
export const MAX_POINTS = 100_000;

// The schemas are built on their first call (zod loads then: shared/lazy-lib.ts).
export const partialConfig = memo(() => configSchema().partial().strict());
export type PartialConfig = Partial<SimConfig>;

export const plotSchema = memo(() => {
  const z = zod();
  return z
    .object({
      /** Config field on the x axis. */
      x: z.enum(CONFIG_FIELDS as [keyof SimConfig, ...(keyof SimConfig)[]]),
      /** Measure on the y axis. */
      y: z.enum(MEASURES),
      /** Config field that tells the lines (or bar groups) apart. */
      series: z.enum(CONFIG_FIELDS as [keyof SimConfig, ...(keyof SimConfig)[]]).optional(),
      /** Config field that splits the plot into panels side by side (one y axis where they share a unit, else each its own). */
      facet: z.enum(CONFIG_FIELDS as [keyof SimConfig, ...(keyof SimConfig)[]]).optional(),
      /** Only the runs whose config has these values (a plot of part of the grid, e.g. `{ pcid: true }`). */
      where: partialConfig().optional(),
      /**
       * line: points joined (a quantity that varies smoothly between the x values run);
       * step: points joined by steps (a discrete x, such as a cache size: each value holds
       * until the next size run); bar (drawn as points on a log axis, where a bar's length
       * means nothing).
       */
      mark: z.enum(['line', 'step', 'bar']).optional(),
      /** Logarithmic x axis (for sizes in powers of two). */
      logX: z.boolean().optional(),
      /** Logarithmic y axis (for figures that span orders of magnitude). */
      logY: z.boolean().optional(),
      title: z.string().optional(),
      /** File name (without .svg); default `<y>-vs-<x>`. */
      file: z.string().refine(isValidName, `expected ${NAME_ALLOWED}`).optional(),
    })
    .strict();
});
export type PlotDef = z.infer<ReturnType<typeof plotSchema>>;

export const publishedRowSchema = memo(() => {
  const z = zod();
  return z
    .object({
      label: z.string(),
      /** Which runs the row compares with (config fields they must have). */
      match: z.record(z.string(), z.unknown()),
      unit: z.string(),
      /** Published figure per mode (the table's columns). */
      values: z.partialRecord(z.enum(MODES), z.number().positive()),
    })
    .strict();
});

/** The schema of an experiment file. */
export const experimentSchema = memo(() => {
  const z = zod();
  const scalar = z.union([z.string(), z.number(), z.boolean()]);
  const gridValue = z.union([scalar, z.record(z.string(), z.unknown())]);
  return z
    .object({
      name: z.string().refine(isValidName, `expected ${NAME_ALLOWED}`),
      description: z.string(),
      base: z.record(z.string(), z.unknown()).optional(),
      runs: z.array(z.record(z.string(), z.unknown())).min(1).optional(),
      grid: z.record(z.string(), z.array(gridValue).min(1)).optional(),
      /** Replicates: every point is run with seeds 1..N; reports show the mean and its 95% interval. */
      seeds: z.int().min(1).max(MAX_SEEDS).optional(),
      published: z
        .object({
          source: z.string(),
          rows: z.array(publishedRowSchema()).min(1),
        })
        .strict()
        .optional(),
      plots: z.array(plotSchema()).optional(),
    })
    .strict();
});

export interface PublishedRow {
  label: string;
  match: PartialConfig;
  unit: string;
  values: Partial<Record<SimConfig['mode'], number>>;
}

/** A validated experiment. */
export interface Experiment {
  name: string;
  description: string;
  base: PartialConfig;
  runs?: PartialConfig[];
  grid?: Record<string, (string | number | boolean | PartialConfig)[]>;
  /** Replicates: seeds 1..N of every point (absent: each point's own seed, once). */
  seeds?: number;
  published?: { source: string; rows: PublishedRow[] };
  plots?: PlotDef[];
  /** Where it was read from (for messages); absent for experiments built in code. */
  file?: string;
}

/**
 * A mistake in an experiment file: one line, naming the file and the field (its path in
 * the file, e.g. `grid.tasks[1]`). When a config did not resolve, `cause` is its
 * ConfigError, which names the config field (and gives the value and what is allowed).
 */
export class ExperimentError extends UserError {
  constructor(
    readonly file: string,
    readonly field: string,
    /** The message without the file and the field. */
    readonly detail: string,
    options?: { cause?: ConfigError },
  ) {
    const c = options?.cause;
    super('EEXPERIMENT', { file, field: field || undefined, value: c?.value, allowed: c?.allowed, detail }, `${file}: ${field ? `${field}: ` : ''}${detail}`, options);
  }
}
