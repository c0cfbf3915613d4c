/**
 * Experiment files read and validated: JSON or YAML that anyone may have written, read
 * the guarded way (store/files.ts), parsed with tags refused and nesting bounded, checked
 * strictly against the schema (schema.ts), its points counted before anything is
 * expanded, every config resolved and every plot checked; an error names the file, the
 * field and what is allowed, in one line.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { CONFIG_FIELDS, FIELD_SPECS, MODES, allowedOf, configSchema, formatValue, isConfigField, notAllowed, type ResolveOptions, type SimConfig } from '../../shared/config.js';
import { UsageError } from '../../shared/errors.js';
import { yaml } from '../../shared/lazy-lib.js';
import { expandRangeItems, looksLikeRange } from '../../shared/ranges.js';
import { plotProblem } from '../reports/plot-check.js';
import { FileProblem, MAX_NESTING, displayPath, parseJsonText, readRegularFile } from '../store/files.js';
import { expand, productOf, tooManyPoints, type Expansion } from './expand.js';
import { ExperimentError, MAX_POINTS, NAME_ALLOWED, experimentSchema, isValidName, partialConfig, plotSchema, publishedRowSchema, type Experiment, type PartialConfig } from './schema.js';

/** The project's own experiments/ directory (source and build both live one level below the root). */
export function defaultExperimentsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'experiments');
    dir = dirname(dir);
  }
  return resolve('experiments');
}

/** The --experiments directory, which must be a directory. */
export function experimentsDirOf(dir: string): string {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) {
    throw new UsageError({ option: '--experiments', file: displayPath(dir), value: dir, allowed: 'a directory of experiment files', detail: `${existsSync(dir) ? 'is not a directory' : 'does not exist'}; expected a directory of experiment files` }, 'EPATH');
  }
  return dir;
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

