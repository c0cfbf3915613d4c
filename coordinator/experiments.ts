/**
 * Experiment files: what to run (a base config and either a list of runs or a grid),
 * what to compare against (`published` figures) and what to plot. JSON or YAML,
 * validated strictly; an error names the file, the field and what is allowed, in one line.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CONFIG_FIELDS, ConfigError, MODES, allowedOf, configSchema, formatValue, isConfigField, notAllowed, resolveConfig, type SimConfig } from '../shared/config.js';

/** Config fields an experiment may set. */
export { CONFIG_FIELDS };

/** Quantities a report or plot can show for one run (see `measure` in report.ts). */
export const MEASURES = [
  'metric',
  'hitRate',
  'exitsPerSwitch',
  'exits',
  'contextSwitches',
  'shadowFaults',
  'pagesEvicted',
  'tlbMisses',
  'hostCpu',
] as const;
export type Measure = (typeof MEASURES)[number];

const partialConfig = configSchema.partial().strict();
type PartialConfig = Partial<SimConfig>;

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const gridValue = z.union([scalar, z.record(z.string(), z.unknown())]);

const plotSchema = z
  .object({
    /** Config field on the x axis. */
    x: z.enum(CONFIG_FIELDS as [keyof SimConfig, ...(keyof SimConfig)[]]),
    /** Measure on the y axis. */
    y: z.enum(MEASURES),
    /** Config field that tells the lines (or bar groups) apart. */
    series: z.enum(CONFIG_FIELDS as [keyof SimConfig, ...(keyof SimConfig)[]]).optional(),
    mark: z.enum(['line', 'bar']).optional(),
    /** Logarithmic x axis (for sizes in powers of two). */
    logX: z.boolean().optional(),
    title: z.string().optional(),
    /** File name (without .svg); default `<y>-vs-<x>`. */
    file: z.string().regex(/^[A-Za-z0-9._-]+$/).optional(),
  })
  .strict();
export type PlotDef = z.infer<typeof plotSchema>;

const publishedRowSchema = z
  .object({
    label: z.string(),
    /** Which runs the row compares with (config fields they must have). */
    match: z.record(z.string(), z.unknown()),
    unit: z.string(),
    /** Published figure per mode (the table's columns). */
    values: z.partialRecord(z.enum(MODES), z.number().positive()),
  })
  .strict();

const experimentSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-" only'),
    description: z.string(),
    base: z.record(z.string(), z.unknown()).optional(),
    runs: z.array(z.record(z.string(), z.unknown())).min(1).optional(),
    grid: z.record(z.string(), z.array(gridValue).min(1)).optional(),
    published: z
      .object({
        source: z.string(),
        rows: z.array(publishedRowSchema).min(1),
      })
      .strict()
      .optional(),
    plots: z.array(plotSchema).optional(),
  })
  .strict();

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
  published?: { source: string; rows: PublishedRow[] };
  plots?: PlotDef[];
  /** Where it was read from (for messages); absent for experiments built in code. */
  file?: string;
}

/**
 * A mistake in an experiment file: one line, naming the file and the field (its path in
 * the file, e.g. `grid.tasks[1]`). When a config did not resolve, `cause` is its
 * ConfigError, which names the config field.
 */
export class ExperimentError extends Error {
  readonly code = 'EEXPERIMENT';
  constructor(
    readonly file: string,
    readonly field: string,
    /** The message without the file and the field. */
    readonly detail: string,
    options?: { cause?: ConfigError },
  ) {
    super(`${file}: ${field ? `${field}: ` : ''}${detail}`, options);
    this.name = 'ExperimentError';
  }
}

/** The project's own experiments/ directory (source and build both live one level below the root). */
export function defaultExperimentsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'experiments');
    dir = dirname(dir);
  }
  return resolve('experiments');
}

const EXTENSIONS = ['.yaml', '.yml', '.json'];

/** Names of the experiments in a directory. */
export function listExperimentFiles(dir = defaultExperimentsDir()): { name: string; file: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => EXTENSIONS.includes(extname(f)))
    .sort()
    .map((f) => ({ name: f.slice(0, -extname(f).length), file: join(dir, f) }));
}

/** Find an experiment file: a path to a file, or a name looked up in `dir`. */
export function findExperimentFile(nameOrPath: string, dir = defaultExperimentsDir()): string | undefined {
  if (EXTENSIONS.includes(extname(nameOrPath)) && existsSync(nameOrPath)) return nameOrPath;
  for (const ext of EXTENSIONS) {
    const p = join(dir, nameOrPath + ext);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** A path as a user would type it: relative to the working directory when inside it. */
export function displayPath(p: string): string {
  const abs = resolve(p);
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : abs;
}

/** Read and validate an experiment file. */
export function loadExperimentFile(path: string): Experiment {
  const shown = displayPath(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ExperimentError(shown, '', `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let raw: unknown;
  try {
    raw = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new ExperimentError(shown, '', `not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${msg}`);
  }
  const exp = validateExperiment(raw, shown);
  exp.file = shown;
  return exp;
}

/** Load an experiment by name (in `dir`) or path; throws ExperimentError if missing or invalid. */
export function loadExperiment(nameOrPath: string, dir = defaultExperimentsDir()): Experiment {
  const file = findExperimentFile(nameOrPath, dir);
  if (!file) {
    const names = listExperimentFiles(dir).map((e) => e.name);
    throw new ExperimentError(nameOrPath, '', `no such experiment; expected one of ${names.join(', ') || '(none)'} or a .yaml/.json file`);
  }
  return loadExperimentFile(file);
}

function pathString(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s;
}

/** One line for the first zod issue, with the path prefixed by `prefix`. */
function describeIssue(file: string, prefix: readonly PropertyKey[], err: z.ZodError): ExperimentError {
  const issue = err.issues[0]!;
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const inConfig = prefix.length > 0 || path.length > 0;
    const allowed = inConfig && isConfigPath(path) ? CONFIG_FIELDS : knownKeysAt(path);
    return new ExperimentError(file, pathString([...path, key]), `unknown parameter; expected one of ${allowed.join(', ')}`);
  }
  const last = path[path.length - 1];
  const input = (issue as { input?: unknown }).input;
  if (typeof last === 'string' && isConfigField(last) && isConfigPath(path)) {
    return new ExperimentError(file, pathString(path), notAllowed(input, allowedOf(last)));
  }
  if (issue.code === 'invalid_value') {
    return new ExperimentError(file, pathString(path), notAllowed(input, `one of ${issue.values.map((v) => String(v)).join(', ')}`));
  }
  if (issue.code === 'invalid_type' && input === undefined) {
    return new ExperimentError(file, pathString(path), `missing; expected ${issue.expected}`);
  }
  return new ExperimentError(file, pathString(path), `${input !== undefined ? `${formatValue(input)} is not allowed; ` : ''}${issue.message}`);
}

/** Whether a path points into a config (base, runs[i], grid.x[i], published.rows[i].match). */
function isConfigPath(path: readonly PropertyKey[]): boolean {
  const [a, , c] = path;
  return a === 'base' || a === 'runs' || a === 'grid' || (a === 'published' && path[3] === 'match' && c !== undefined);
}

function knownKeysAt(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(experimentSchema.shape);
  if (path[0] === 'published' && path.length === 1) return ['source', 'rows'];
  if (path[0] === 'published' && path[path.length - 1] === 'values') return [...MODES];
  if (path[0] === 'published') return Object.keys(publishedRowSchema.shape);
  if (path[0] === 'plots') return Object.keys(plotSchema.shape);
  return [];
}

function checkPartial(file: string, prefix: PropertyKey[], value: unknown): PartialConfig {
  const r = partialConfig.safeParse(value, { reportInput: true });
  if (!r.success) throw describeIssue(file, prefix, r.error);
  return r.data;
}

/** Validate a parsed experiment document (anything JSON-like). */
export function validateExperiment(raw: unknown, file: string): Experiment {
  const r = experimentSchema.safeParse(raw, { reportInput: true });
  if (!r.success) throw describeIssue(file, [], r.error);
  const d = r.data;
  if (!d.runs === !d.grid) {
    throw new ExperimentError(file, d.runs ? 'grid' : 'runs', d.runs ? 'not allowed together with runs; give either runs or grid' : 'missing; give either runs (a list of configs) or grid (parameter: list of values)');
  }
  const base = checkPartial(file, ['base'], d.base ?? {});
  const exp: Experiment = { name: d.name, description: d.description, base };
  if (d.runs) exp.runs = d.runs.map((run, i) => checkPartial(file, ['runs', i], run));
  if (d.grid) {
    exp.grid = {};
    for (const [axis, values] of Object.entries(d.grid)) {
      exp.grid[axis] = values.map((v, i) => {
        if (typeof v === 'object') return checkPartial(file, ['grid', axis, i], v);
        if (!isConfigField(axis)) {
          throw new ExperimentError(file, `grid.${axis}`, `unknown parameter; expected one of ${CONFIG_FIELDS.join(', ')} (or give each value as an object of parameters)`);
        }
        if (!configSchema.shape[axis].safeParse(v).success) {
          throw new ExperimentError(file, `grid.${axis}[${i}]`, notAllowed(v, allowedOf(axis)));
        }
        return v;
      });
    }
  }
  if (d.published) {
    exp.published = {
      source: d.published.source,
      rows: d.published.rows.map((row, i) => ({ ...row, match: checkPartial(file, ['published', 'rows', i, 'match'], row.match) })),
    };
  }
  if (d.plots) exp.plots = d.plots;
  // Every config must also resolve as a whole (defaults, derived fields).
  expandExperiment(exp);
  return exp;
}

/** The partial configs of an experiment, each field with the path it came from (for messages). */
function partials(exp: Experiment): { cfg: PartialConfig; from: Record<string, string> }[] {
  const baseFrom = Object.fromEntries(Object.keys(exp.base).map((k) => [k, `base.${k}`]));
  if (exp.runs) {
    return exp.runs.map((cfg, i) => ({
      cfg: { ...exp.base, ...cfg },
      from: { ...baseFrom, ...Object.fromEntries(Object.keys(cfg).map((k) => [k, `runs[${i}].${k}`])) },
    }));
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
  return acc;
}

/**
 * The resolved configs of an experiment, in order, without duplicates (two grid points
 * that resolve to the same config, e.g. hackbench tasks, run once).
 */
export function expandExperiment(exp: Experiment): SimConfig[] {
  const out: SimConfig[] = [];
  const seen = new Set<string>();
  for (const { cfg, from } of partials(exp)) {
    let resolved: SimConfig;
    try {
      resolved = resolveConfig(cfg);
    } catch (err) {
      if (err instanceof ConfigError) {
        throw new ExperimentError(exp.file ?? exp.name, from[err.field] ?? err.field, err.detail, { cause: err });
      }
      throw err;
    }
    const id = JSON.stringify(resolved);
    if (!seen.has(id)) {
      seen.add(id);
      out.push(resolved);
    }
  }
  return out;
}

/** Whether a config has every field of `match`. */
export function matches(cfg: SimConfig, match: PartialConfig): boolean {
  return Object.entries(match).every(([k, v]) => cfg[k as keyof SimConfig] === v);
}

/** The config fields that take more than one value across a list of configs. */
export function variedFields(configs: readonly SimConfig[]): (keyof SimConfig)[] {
  return CONFIG_FIELDS.filter((f) => new Set(configs.map((c) => c[f])).size > 1);
}
