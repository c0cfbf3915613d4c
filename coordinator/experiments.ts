/**
 * Experiment files: what to run (a base config and either a list of runs or a grid),
 * what to compare against (`published` figures) and what to plot. JSON or YAML,
 * validated strictly; an error names the file, the field and what is allowed, in one line.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import {
  CONFIG_FIELDS,
  ConfigError,
  FIELD_SPECS,
  FieldIgnored,
  MODES,
  allowedOf,
  configSchema,
  fieldApplies,
  formatValue,
  ignoredBecause,
  isConfigField,
  notAllowed,
  resolveConfig,
  withoutIgnored,
  type ResolveOptions,
  type SimConfig,
} from '../shared/config.js';
import { memo, yaml, zod } from '../shared/lazy-lib.js';
import { expandRangeItems, looksLikeRange } from '../shared/ranges.js';
import { FileProblem, MAX_NESTING, parseJsonText, readRegularFile } from './files.js';
import { plotProblem } from './plot-check.js';
import { MAX_SEEDS, seedList } from './replicates.js';

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

/** The longest name of an experiment or sweep (a directory of the store). */
export const MAX_NAME_LENGTH = 64;

/** What a name may be, in words. */
export const NAME_ALLOWED = `a name of letters, digits, ".", "_" and "-", not starting with ".", at most ${MAX_NAME_LENGTH} characters`;

/** Whether a name can be a directory of the store: never `.`, `..`, hidden, or a path. */
export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name);
}

/**
 * The most points (configs before duplicates are merged) an experiment or sweep may
 * have: the length of `runs`, or the product of the lengths of the grid's lists. Counted
 * before anything is expanded.
 */
export const MAX_POINTS = 100_000;

// The schemas are built on their first call (zod loads then: shared/lazy-lib.ts).
const partialConfig = memo(() => configSchema().partial().strict());
type PartialConfig = Partial<SimConfig>;

const plotSchema = memo(() => {
  const z = zod();
  return z
    .object({
      /** Config field on the x axis. */
      x: z.enum(CONFIG_FIELDS as [keyof SimConfig, ...(keyof SimConfig)[]]),
      /** Measure on the y axis. */
      y: z.enum(MEASURES),
      /** Config field that tells the lines (or bar groups) apart. */
      series: z.enum(CONFIG_FIELDS as [keyof SimConfig, ...(keyof SimConfig)[]]).optional(),
      /** Config field that splits the plot into panels side by side (each with its own y axis). */
      facet: z.enum(CONFIG_FIELDS as [keyof SimConfig, ...(keyof SimConfig)[]]).optional(),
      mark: z.enum(['line', 'bar']).optional(),
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

const publishedRowSchema = memo(() => {
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

/** Names of the experiments in a directory (none if it cannot be read). */
export function listExperimentFiles(dir = defaultExperimentsDir()): { name: string; file: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((f) => EXTENSIONS.includes(extname(f)))
    .sort()
    .map((f) => ({ name: f.slice(0, -extname(f).length), file: join(dir, f) }));
}

/** Whether an argument is a path to an experiment file (it ends in .yaml, .yml or .json). */
export const isExperimentPath = (nameOrPath: string): boolean => EXTENSIONS.includes(extname(nameOrPath));

/** Find an experiment file: a path to a file, or a name looked up in `dir`. */
export function findExperimentFile(nameOrPath: string, dir = defaultExperimentsDir()): string | undefined {
  if (isExperimentPath(nameOrPath)) return existsSync(nameOrPath) ? nameOrPath : undefined;
  if (!isValidName(nameOrPath)) return undefined;
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

/**
 * Read and validate an experiment file (a regular file of at most MAX_FILE_BYTES; a link
 * to one is followed). `options` go to resolveConfig (a trace file left unread).
 */
export function loadExperimentFile(path: string, options?: ResolveOptions): Experiment {
  return readExperimentFile(path, options).exp;
}

/**
 * What `list` shows of an experiment file: the experiment and how many runs it expands
 * to (validation expands it once), its trace file left unread (read when a run is planned).
 */
export function listExperimentFile(path: string): { exp: Experiment; runs: number } {
  const { exp, expansion } = readExperimentFile(path, { traceFile: false });
  return { exp, runs: expansion.configs.length };
}

function readExperimentFile(path: string, options: ResolveOptions | undefined): { exp: Experiment; expansion: Expansion } {
  const shown = displayPath(path);
  let raw: unknown;
  try {
    const text = readRegularFile(path, { follow: true });
    raw = extname(path) === '.json' ? parseJsonText(shown, text) : parseYamlText(shown, text);
  } catch (err) {
    if (err instanceof FileProblem) throw new ExperimentError(shown, '', err.reason);
    throw err;
  }
  // A trace named in the file's base is read from the file's directory.
  const base = (raw as { base?: unknown } | null)?.base;
  if (base !== null && typeof base === 'object' && !Array.isArray(base)) {
    const trace = (base as Record<string, unknown>).trace;
    if (typeof trace === 'string' && trace !== '' && !isAbsolute(trace)) (base as Record<string, unknown>).trace = join(dirname(resolve(path)), trace);
  }
  const checked = validated(raw, shown, options);
  checked.exp.file = shown;
  return checked;
}

const firstLine = (s: string): string => s.split('\n')[0]!.replace(/:$/, '');

/**
 * Parse YAML that anyone may have written. Flow collections nested deeper than
 * MAX_NESTING are refused before parsing (the parser runs out of memory on 200,000 of
 * them); an error, a warning (an unknown tag) or any explicit tag is the file's error, in
 * one line, never a warning printed on the side; aliases are bounded (the yaml default).
 */
export function parseYamlText(shown: string, text: string): unknown {
  const { Lexer, isNode, parseDocument, visit } = yaml();
  let depth = 0;
  let deepest = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') deepest = Math.max(deepest, ++depth);
    else if (token === ']' || token === '}') depth--;
  }
  const tooDeep = () => new ExperimentError(shown, '', `not valid here: nested deeper than ${MAX_NESTING} levels`);
  if (deepest > MAX_NESTING) throw tooDeep();
  const doc = parseDocument(text, { prettyErrors: true });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    if (/call stack/i.test(problem.message)) throw tooDeep();
    throw new ExperimentError(shown, '', `not valid YAML: ${firstLine(problem.message)}`);
  }
  let tagged: YamlNode | undefined;
  visit(doc, {
    Node(_key, node) {
      if (isNode(node) && node.tag) {
        tagged = node;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  if (tagged) {
    const line = text.slice(0, tagged.range?.[0] ?? 0).split('\n').length;
    throw new ExperimentError(shown, '', `not valid here: YAML tags are not allowed (${tagged.tag} at line ${line})`);
  }
  try {
    return doc.toJS();
  } catch (err) {
    if (err instanceof RangeError) throw tooDeep();
    throw new ExperimentError(shown, '', `not valid YAML: ${firstLine(err instanceof Error ? err.message : String(err))}`);
  }
}

/** Load an experiment by name (in `dir`) or path; throws ExperimentError if missing or invalid. */
export function loadExperiment(nameOrPath: string, dir = defaultExperimentsDir()): Experiment {
  const file = findExperimentFile(nameOrPath, dir);
  if (!file) {
    const names = listExperimentFiles(dir).map((e) => e.name);
    const what = isExperimentPath(nameOrPath) ? 'no such file' : isValidName(nameOrPath) ? 'no such experiment' : `not an experiment name (${NAME_ALLOWED})`;
    throw new ExperimentError(nameOrPath, '', `${what}; expected one of ${names.join(', ') || '(none)'} or a .yaml/.json file`);
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
  if (path.length === 0) {
    const what = input === null ? 'is empty' : `is not an experiment (${formatValue(input)})`;
    return new ExperimentError(file, '', `${what}; expected a mapping of ${Object.keys(experimentSchema().shape).join(', ')}`);
  }
  return new ExperimentError(file, pathString(path), `${input !== undefined ? `${formatValue(input)} is not allowed; ` : ''}${issue.message}`);
}

/** Whether a path points into a config (base, runs[i], grid.x[i], published.rows[i].match). */
function isConfigPath(path: readonly PropertyKey[]): boolean {
  const [a, , c] = path;
  return a === 'base' || a === 'runs' || a === 'grid' || (a === 'published' && path[3] === 'match' && c !== undefined);
}

function knownKeysAt(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(experimentSchema().shape);
  if (path[0] === 'published' && path.length === 1) return ['source', 'rows'];
  if (path[0] === 'published' && path[path.length - 1] === 'values') return [...MODES];
  if (path[0] === 'published') return Object.keys(publishedRowSchema().shape);
  if (path[0] === 'plots') return Object.keys(plotSchema().shape);
  return [];
}

function checkPartial(file: string, prefix: PropertyKey[], value: unknown): PartialConfig {
  const r = partialConfig().safeParse(value, { reportInput: true });
  if (!r.success) throw describeIssue(file, prefix, r.error);
  return r.data;
}

/**
 * Walk a parsed document before the schema sees it: nesting within MAX_NESTING, and no
 * key `__proto__` anywhere (a record type would drop it silently, and an object would
 * take it as its prototype).
 */
function checkShape(raw: unknown, file: string): void {
  const stack: { v: unknown; path: PropertyKey[] }[] = [{ v: raw, path: [] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (path.length >= MAX_NESTING) throw new ExperimentError(file, '', `not valid here: nested deeper than ${MAX_NESTING} levels`);
    if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push({ v: x, path: [...path, i] }));
      continue;
    }
    for (const key of Object.keys(v)) {
      if (key === '__proto__') {
        const allowed = isConfigPath(path) ? CONFIG_FIELDS : knownKeysAt(path);
        throw new ExperimentError(file, pathString([...path, key]), `unknown parameter${allowed.length ? `; expected one of ${allowed.join(', ')}` : ''}`);
      }
      stack.push({ v: (v as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
}

/** The points of a raw document's runs or grid, counted before the schema parses them (a list of a million runs is refused at once). */
function rawPoints(raw: unknown): { field: string; count: number } | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const { runs, grid } = raw as { runs?: unknown; grid?: unknown };
  if (Array.isArray(runs)) return { field: 'runs', count: runs.length };
  if (grid !== null && typeof grid === 'object' && !Array.isArray(grid)) {
    return { field: 'grid', count: productOf(Object.values(grid).map((v) => (Array.isArray(v) ? v.length : 1))) };
  }
  return undefined;
}

/** A product of list lengths that stops growing once it is past any limit. */
const productOf = (lengths: readonly number[]): number => lengths.reduce((n, l) => Math.min(n * l, Number.MAX_SAFE_INTEGER), 1);

/** "1000000 points" (or "more than 9007199254740991 points"). */
export const pointsWords = (n: number): string => (n >= Number.MAX_SAFE_INTEGER ? `more than ${Number.MAX_SAFE_INTEGER} points` : `${n} point${n === 1 ? '' : 's'}`);

const tooManyPoints = (file: string, field: string, count: number): ExperimentError =>
  new ExperimentError(file, field, `${pointsWords(count)} (${field === 'grid' ? "the product of its lists' lengths" : 'runs'}) are too many; expected at most ${MAX_POINTS}`);

/** Whether a config field takes numbers (its default is one), so that its grid list may hold ranges. */
export function numericField(field: keyof SimConfig): boolean {
  const spec = FIELD_SPECS[field];
  return typeof (spec.defaultFor ? spec.defaultFor('ctxswitch') : spec.default) === 'number';
}

/**
 * Ranges in a grid (shared/ranges.ts): a numeric field's list may hold `1..64:x2`, or be
 * one such string; each is replaced by its values, in place, before anything is checked.
 */
function expandGridRanges(raw: unknown, file: string): void {
  const grid = raw !== null && typeof raw === 'object' ? (raw as { grid?: unknown }).grid : undefined;
  if (grid === null || typeof grid !== 'object' || Array.isArray(grid)) return;
  const g = grid as Record<string, unknown>;
  for (const axis of Object.keys(g)) {
    if (!isConfigField(axis) || !numericField(axis)) continue;
    const list = typeof g[axis] === 'string' && looksLikeRange(g[axis]) ? [g[axis]] : g[axis];
    if (!Array.isArray(list)) continue;
    const r = expandRangeItems(list, MAX_POINTS);
    if ('error' in r) throw new ExperimentError(file, typeof g[axis] === 'string' ? `grid.${axis}` : `grid.${axis}[${r.index}]`, r.error);
    g[axis] = r.values;
  }
}

/** Validate a parsed experiment document (anything JSON-like). */
export function validateExperiment(raw: unknown, file: string, options?: ResolveOptions): Experiment {
  return validated(raw, file, options).exp;
}

/** A validated experiment and its expansion (which validation makes). */
function validated(raw: unknown, file: string, options: ResolveOptions | undefined): { exp: Experiment; expansion: Expansion } {
  expandGridRanges(raw, file);
  const counted = rawPoints(raw);
  if (counted && counted.count > MAX_POINTS) throw tooManyPoints(file, counted.field, counted.count);
  checkShape(raw, file);
  const r = experimentSchema().safeParse(raw, { reportInput: true });
  if (!r.success) throw describeIssue(file, [], r.error);
  const d = r.data;
  if (!d.runs === !d.grid) {
    throw new ExperimentError(file, d.runs ? 'grid' : 'runs', d.runs ? 'not allowed together with runs; give either runs or grid' : 'missing; give either runs (a list of configs) or grid (parameter: list of values)');
  }
  const base = checkPartial(file, ['base'], d.base ?? {});
  const exp: Experiment = { name: d.name, description: d.description, base, file };
  if (d.seeds !== undefined) exp.seeds = d.seeds;
  if (d.runs) exp.runs = d.runs.map((run, i) => checkPartial(file, ['runs', i], run));
  if (d.grid) {
    exp.grid = {};
    for (const [axis, values] of Object.entries(d.grid)) {
      exp.grid[axis] = values.map((v, i) => {
        if (typeof v === 'object') return checkPartial(file, ['grid', axis, i], v);
        if (!isConfigField(axis)) {
          throw new ExperimentError(file, `grid.${axis}`, `unknown parameter; expected one of ${CONFIG_FIELDS.join(', ')} (or give each value as an object of parameters)`);
        }
        if (!configSchema().shape[axis].safeParse(v).success) {
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
  // Every config must also resolve as a whole (defaults, derived fields), and every plot show every field that varies.
  const expansion = expand(exp, options);
  const problem = plotProblem(exp, expansion.configs);
  if (problem) throw new ExperimentError(file, problem.field, problem.detail);
  return { exp, expansion };
}

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

/** The config fields that take more than one value across a list of configs. */
export function variedFields(configs: readonly SimConfig[]): (keyof SimConfig)[] {
  return CONFIG_FIELDS.filter((f) => new Set(configs.map((c) => c[f])).size > 1);
}
