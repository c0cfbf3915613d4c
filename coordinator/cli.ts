/**
 * The `vcpusim` command line: run, sweep, reproduce, report, list.
 * Exit codes: 0 ok, 1 some run failed (or has no stored result), 2 usage or config error,
 * 130 interrupted (SIGINT; 143 SIGTERM).
 * Output: readable text, or with --json exactly one JSON document on stdout (everything
 * else goes to stderr); an error is one line on stderr and, with --json, a JSON error
 * document on stdout (errors.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import {
  CONFIG_FIELDS,
  ConfigError,
  FIELD_SPECS,
  MAX_VCPUS,
  MODES,
  WORKLOADS,
  allowedOf,
  checkGivenApply,
  configSchema,
  isConfigField,
  resolveConfig,
  type SimConfig,
} from '../shared/config.js';
import { PROFILES } from '../shared/costs.js';
import { RANGE_ALLOWED, RangeListError, expandList, expandRangeItems } from '../shared/ranges.js';
import { SCHEMA_VERSION, type RunResult } from '../shared/stats.js';
import { UsageError, faultDoc, flagOf, printError, userErrorDoc, type ErrorDoc } from './errors.js';
import type { ExecuteSummary } from './execute.js';
import {
  ExperimentError,
  MAX_POINTS,
  NAME_ALLOWED,
  defaultExperimentsDir,
  displayPath,
  expand,
  findExperimentFile,
  isExperimentPath,
  isValidName,
  listExperimentFile,
  listExperimentFiles,
  loadExperiment,
  matches,
  numericField,
  parseYamlText,
  pointsWords,
  validateExperiment,
  type Expansion,
  type Experiment,
  type PlotDef,
} from './experiments.js';
import { FileProblem, checkDirPath, ensureDir, lstatOrUndefined, probeWritable, readRegularFile } from './files.js';
import { plotProblem } from './plot-check.js';
import { MAX_SEEDS, seedList } from './replicates.js';
import { formatReplicates, replicatesDoc } from './run-seeds.js';
import { createProgress, progressWanted } from './progress.js';
import { addExitOptions, exitViewFromOptions } from './exit-options.js';
import { reportExits } from './exit-print.js';
import { FORMATS, formatPublished, formatRuns, publishedReport, runsReport, type Format } from './report.js';
import type { CompareSide } from './compare.js';
import { MAX_RETRIES } from './retries.js';
import { DEFAULT_RESULTS_DIR, MODEL_VERSION, ResultStore, type RunRecord } from './store.js';
import { formatSummary, type SplitInfo } from './summary.js';
import { packageVersion } from './version.js';
import { cachedListEntries } from './list-cache.js';
// The simulator, the thread pool (piscina) and the plots (vega) load in the commands that run
// them (`await import`), so that --help and list start fast.
import type { SimPool } from './pool.js';
import { PLACEMENTS, type PlacementKind } from './placements.js';
import { addQueueCommands, addQueueOptions, queueOf, queueRunner } from './queue/commands.js';
import type { QueueTarget } from './queue/url.js';
import { workersWarning } from './workers-check.js';

export { UsageError, flagOf };

/** The most worker threads a sweep or calibration starts (more threads than cores only cost memory; `run` splits one VM over at most its vCPUs, MAX_VCPUS). */
export const MAX_WORKERS = 64;

/** A decimal integer as typed: digits with an optional sign (no hex, exponents or spaces). */
const INTEGER = /^[+-]?\d+$/;

/** Parse an option value as a number of the form `pattern` (an integer by default), or fail naming the option and what it allows. */
function intOption(field: keyof SimConfig, pattern = INTEGER) {
  const option = FIELD_SPECS[field].option!.flag;
  return (raw: string): number => {
    if (!pattern.test(raw)) throw new UsageError({ option, field, value: raw, allowed: allowedOf(field) });
    return Number(raw);
  };
}

/** Parse a comma list of integers (a sweep axis). Ranges are checked when configs resolve. */
function intListOption(field: keyof SimConfig) {
  const option = FIELD_SPECS[field].option!.flag;
  const one = (part: string): number => {
    if (!INTEGER.test(part)) {
      throw new UsageError({ option, field, value: part, allowed: `a comma list of integers or ranges (1..64, 1..64:x2, 0..96:+8), each ${allowedOf(field).replace(/^an integer /, '')}` });
    }
    return Number(part);
  };
  return (raw: string): number[] => rangeList(option, field, raw, one);
}

/** A comma list whose items may be ranges (shared/ranges.ts); a bad range is the option's usage error. */
function rangeList(option: string, field: keyof SimConfig, raw: string, one: (part: string) => number): number[] {
  try {
    return expandList(raw, one);
  } catch (err) {
    if (err instanceof RangeListError) throw new UsageError({ option, field, value: err.item, allowed: RANGE_ALLOWED, detail: err.message });
    throw err;
  }
}

/** A choice option whose bad value is a UsageError like every other (commander's `.choices` shows the choices in --help). */
function choiceOption(flags: string, description: string, choices: readonly string[]): Option {
  const option = new Option(flags, description).choices(choices);
  const name = option.long!;
  return option.argParser((raw: string) => {
    if (!choices.includes(raw)) throw new UsageError({ option: name, value: raw, allowed: `one of ${choices.join(', ')}` });
    return raw;
  });
}

const stringList = (raw: string): string[] => raw.split(',').map((s) => s.trim());

/** A value typed on the command line, as a config value: true/false, a decimal number, or a string. */
function parseScalar(raw: string): string | number | boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(raw)) return Number(raw);
  return raw;
}

/** `--param field=value[,value...]`, repeatable: any config field, including ones without a flag. */
function paramOption(raw: string, prev: Record<string, (string | number | boolean)[]> = {}): Record<string, (string | number | boolean)[]> {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new UsageError({ option: '--param', value: raw, allowed: `field=value[,value...] with a field among ${CONFIG_FIELDS.join(', ')}` });
  const field = raw.slice(0, eq);
  if (!isConfigField(field)) {
    throw new UsageError({ option: '--param', value: field, allowed: `one of ${CONFIG_FIELDS.join(', ')}`, detail: `${JSON.stringify(field)} is not a parameter; expected one of ${CONFIG_FIELDS.join(', ')}` });
  }
  if (Object.hasOwn(prev, field)) throw new UsageError({ option: '--param', value: raw, allowed: 'each field once', detail: `${field} is given twice; expected each field once` });
  const values = raw.slice(eq + 1).split(',').map(parseScalar);
  if (!numericField(field)) return { ...prev, [field]: values };
  // A numeric field's list may hold ranges (1..64:x2).
  const r = expandRangeItems(values);
  if ('error' in r) throw new UsageError({ option: `--param ${field}`, value: values[r.index], allowed: RANGE_ALLOWED, detail: r.error });
  return { ...prev, [field]: r.values as (string | number | boolean)[] };
}

/**
 * The fields with an option of their own, in option order: sweep axes vary in this
 * order (the first slowest). The others are set with --param.
 */
const OPTION_FIELDS = CONFIG_FIELDS.filter((f) => FIELD_SPECS[f].option).sort((a, b) => FIELD_SPECS[a].option!.order - FIELD_SPECS[b].option!.order);

/** The same in `--help`: the choice options first. */
const HELP_FIELDS = [...OPTION_FIELDS.filter((f) => FIELD_SPECS[f].option!.kind === 'choice'), ...OPTION_FIELDS.filter((f) => FIELD_SPECS[f].option!.kind !== 'choice')];

/** The commander option of a config field: one value for `run`, a comma list for `sweep`. */
function configOption(field: keyof SimConfig, list: boolean): Option {
  const spec = FIELD_SPECS[field];
  const o = spec.option!;
  const withDefault = (help: string, show: boolean | undefined) => (show ? `${help} (default ${String(spec.default)})` : help);
  switch (o.kind) {
    case 'choice': {
      const choices = spec.choices;
      if (!choices) throw new Error(`${field}: a choice option needs the field's choices`);
      if (list) return new Option(`${o.flag} <list>`, withDefault(`${o.listHelp}, among ${choices.join(', ')}`, o.listDefault)).argParser(stringList);
      const option = choiceOption(`${o.flag} ${o.arg}`, o.help, choices);
      return o.runDefault ? option.default(spec.default) : option;
    }
    case 'int':
      return new Option(`${o.flag} ${list ? '<list>' : (o.arg ?? '<n>')}`, withDefault(o.help, o.showDefault)).argParser<unknown>(list ? intListOption(field) : intOption(field));
    case 'text':
      // One value in a sweep too (a path may hold commas): the sweep's axis has one point.
      return new Option(`${o.flag} ${o.arg}`, o.help).argParser<unknown>((raw: string) => {
        if (raw === '') throw new UsageError({ option: o.flag, field, value: raw, allowed: allowedOf(field) });
        return list ? [raw] : raw;
      });
    case 'number':
      return new Option(`${o.flag} ${list ? '<list>' : '<x>'}`, o.help).argParser<unknown>(list ? numberListOption(field) : numberOption(field));
    case 'switch':
      return new Option(o.flag, o.help);
  }
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

const numberOption = (field: keyof SimConfig) => intOption(field, NUMBER);

function numberListOption(field: keyof SimConfig) {
  const one = numberOption(field);
  return (raw: string): number[] => rangeList(FIELD_SPECS[field].option!.flag, field, raw, one);
}

/** Config options shared by `run` (single values) and `sweep` (comma lists). */
function addConfigOptions(cmd: Command, list: boolean): Command {
  for (const field of HELP_FIELDS) cmd.addOption(configOption(field, list));
  return cmd.option(
    '--param <field=value>',
    `set any config field${list ? ' to a comma list of values' : ''} (repeatable), e.g. --param check=true`,
    paramOption,
  );
}

/** Where commander keeps an option's value (`--cache-size` in cacheSize, `--no-exit-flush` in exitFlush). */
const ATTRIBUTE = Object.fromEntries(OPTION_FIELDS.map((f) => [f, new Option(FIELD_SPECS[f].option!.flag).attributeName()]));

/** The config fields given by the options of `run` or `sweep` (lists for sweep); `cmd` tells a value typed from a default. */
function configFromOptions(opts: Record<string, unknown>, list: boolean, cmd?: Command): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of OPTION_FIELDS) {
    const o = FIELD_SPECS[field].option!;
    const v = opts[ATTRIBUTE[field]!];
    // A switch sets its field only when given: `--x` true, `--no-x` false.
    if (o.kind === 'switch') out[field] = o.flag.startsWith('--no-') ? (v === false ? false : undefined) : v === true ? true : undefined;
    else out[field] = v;
  }
  for (const [k, v] of Object.entries((opts.param as Record<string, unknown[]>) ?? {})) {
    if (!list && v.length !== 1) {
      throw new UsageError({ option: `--param ${k}`, value: v.join(','), allowed: 'one value (use `vcpusim sweep` for lists)' });
    }
    const attr = ATTRIBUTE[k];
    if (out[k] !== undefined && (cmd === undefined || attr === undefined || cmd.getOptionValueSource(attr) === 'cli')) {
      throw new UsageError({ option: `--param ${k}`, value: v.join(','), detail: `also given as ${flagOf(k)}; expected the field once` });
    }
    out[k] = list ? v : v[0];
  }
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

/** Options shared by the commands that run experiments. */
function addRunnerOptions(cmd: Command): Command {
  return addQueueOptions(cmd)
    .option('--results <dir>', 'result store directory', pathOption('--results'), DEFAULT_RESULTS_DIR)
    .option('--fresh', 'ignore stored results: run every config again and overwrite its record')
    .option('--dry-run', 'print the plan (every config, how many are stored, an estimate of the time) and run nothing')
    .option('--workers <n>', `worker threads (default: one per core; at most ${MAX_WORKERS})`, intInRange('--workers', 1, MAX_WORKERS))
    .option('--retries <n>', `retries of a run whose worker threw or died (default 2, at most ${MAX_RETRIES})`, intInRange('--retries', 0, MAX_RETRIES));
}

function addReportOptions(cmd: Command): Command {
  return cmd
    .addOption(choiceOption('--format <format>', 'report format', FORMATS).default('table'))
    .option('--json', 'print one JSON document on stdout (same as --format json, plus run counts)')
    .option('--plot <dir>', "write the experiment's SVG plots into <dir>", pathOption('--plot'));
}

/** An integer option within bounds. */
function intInRange(option: string, min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!INTEGER.test(raw) || n < min || n > max) throw new UsageError({ option, value: INTEGER.test(raw) ? n : raw, allowed: `an integer from ${min} to ${max}` });
    return n;
  };
}

/** A path option: not empty. */
function pathOption(option: string) {
  return (raw: string): string => {
    if (raw === '') throw new UsageError({ option, value: raw, allowed: 'a path' });
    return raw;
  };
}

/** A path the command cannot use, as the usage error of the option that named it. */
function pathError(option: string, err: FileProblem, allowed: string): UsageError {
  return new UsageError({ option, file: displayPath(err.path), value: err.path, allowed, detail: `${err.reason}; expected ${allowed}` }, 'EPATH');
}

/** Run `f`; a FileProblem becomes the usage error of `option`. */
function checkPath<T>(option: string, allowed: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof FileProblem) throw pathError(option, err, allowed);
    throw err;
  }
}

/** The --experiments directory, which must be a directory. */
function experimentsDirOf(opts: Record<string, unknown>): string {
  const dir = String(opts.experiments);
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

/** Short description of a config, naming only the fields that vary. */
function describeConfig(cfg: SimConfig, fields: readonly (keyof SimConfig)[]): string {
  const shown = fields.length ? fields : (['mode', 'workload'] as (keyof SimConfig)[]);
  return shown.map((f) => `${f}=${String(cfg[f])}`).join(' ');
}

interface RunExperimentOptions {
  results: string;
  fresh?: boolean;
  workers?: number;
  retries?: number;
  json?: boolean;
  format: Format;
  plot?: string;
  /** Run through this queue instead of this machine's threads. */
  queue?: QueueTarget;
  dryRun?: boolean;
}

const RESULTS_ALLOWED = 'a directory where the store can be written';
const PLOT_ALLOWED = 'a directory where the plots can be written';
const HTML_ALLOWED = 'a directory where index.html can be written';
const TRACE_PLOT = 'trace-hit-rate.svg';

/** --cpus: a comma list of CPU numbers. */
function cpuListOption(raw: string): number[] {
  const parts = raw.split(',').map((s) => s.trim());
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p) || Number(p) > 4095) throw new UsageError({ option: '--cpus', value: raw, allowed: 'a comma list of CPU numbers from 0 to 4095' });
    if (!out.includes(Number(p))) out.push(Number(p));
  }
  return out;
}

/** Exit code of a signal that stops the process: 128 + its number. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof SIGNAL_EXIT;

/**
 * While runs go on, SIGINT and SIGTERM stop the process at once: what `stopped` returns
 * is printed as the one line (and with --json the error document), and the process
 * exits 130 or 143. Runs happen in worker threads, so this thread is always free to
 * take the signal; every record is written synchronously between two events, so none
 * is ever half written. Returns the function that removes the handlers.
 */
function stopOnSignals(json: boolean, stopped: (signal: StopSignal) => string, before?: () => void): () => void {
  const handlers = (Object.keys(SIGNAL_EXIT) as StopSignal[]).map((signal) => {
    const h = () => {
      before?.();
      const d: ErrorDoc = { code: 'EINTR', option: null, file: null, field: null, value: signal, allowed: null, message: stopped(signal) };
      printError(d, json);
      process.exit(SIGNAL_EXIT[signal]);
    };
    process.on(signal, h);
    return [signal, h] as const;
  });
  return () => {
    for (const [signal, h] of handlers) process.removeListener(signal, h);
  };
}

/**
 * Run an experiment's configs into the store (skipping stored ones), then print its report.
 * Every path is checked before the first run. Returns the exit code: 1 if any run failed.
 */
async function runExperiment(exp: Experiment, expansion: Expansion, opts: RunExperimentOptions): Promise<number> {
  const { configs } = expansion;
  const store = new ResultStore(opts.results, exp.name);
  const json = opts.json === true || opts.format === 'json';
  if (opts.dryRun) return printPlan(exp, expansion, store, opts, json);
  // Both paths checked, leaving nothing behind, before either is made.
  const plotDir = opts.plot;
  const { checkPlotDir, preparePlotDir, writePlots } = await import('./plot.js');
  const { executeConfigs } = await import('./execute.js');
  const { SimPool, defaultWorkers } = await import('./pool.js');
  checkPath('--results', RESULTS_ALLOWED, () => store.checkWritable());
  if (plotDir) checkPath('--plot', PLOT_ALLOWED, () => checkPlotDir(exp, plotDir));
  const removed = checkPath('--results', RESULTS_ALLOWED, () => store.prepare());
  if (plotDir) checkPath('--plot', PLOT_ALLOWED, () => preparePlotDir(exp, plotDir));
  const { file: _file, ...manifest } = exp;
  checkPath('--results', RESULTS_ALLOWED, () => store.writeManifest(manifest));
  if (removed.length) process.stderr.write(`${displayPath(store.dir)}: removed ${removed.length} temp file${removed.length > 1 ? 's' : ''} left by a process that is gone\n`);

  const fields = variedOf(configs);
  const progress = createProgress(configs.length, { enabled: progressWanted(json), title: exp.name });
  let pool: SimPool | undefined;
  let stored = 0;
  const unhook = stopOnSignals(
    json,
    (signal) => `interrupted by ${signal}: ${stored} finished run${stored === 1 ? ' is' : 's are'} stored in ${displayPath(store.dir)}; run the same command again to resume`,
    () => progress.stop(),
  );
  let summary: ExecuteSummary;
  try {
    summary = await executeConfigs(configs, {
      store,
      fresh: opts.fresh,
      retries: opts.retries,
      // Runs go to worker threads even with --workers 1: this thread must stay free to take a Ctrl-C.
      poolFor: opts.queue ? undefined : (runs) => (pool = new SimPool({ threads: Math.max(1, Math.min(opts.workers ?? defaultWorkers(), MAX_WORKERS, runs)) })),
      run: opts.queue ? queueRunner(opts.queue, { fresh: opts.fresh, onStalled: (cfg) => progress.log(`a worker stopped answering; queued again: ${describeConfig(cfg, fields)}`) }) : undefined,
      onInvalid: (path, reason) => progress.log(`${displayPath(path)}: ${reason}; it is run again and replaced`),
      onRetry: (cfg, attempt, of, error) => progress.log(`run failed (attempt ${attempt} of ${of}), trying again: ${describeConfig(cfg, fields)}: ${error}`),
      onConfig: (status, cfg, o) => {
        if (status === 'ran') stored++;
        if (status === 'failed') progress.log(`run failed: ${describeConfig(cfg, fields)}: ${o?.configError ? `${flagOf(o.configError.field)}: ${o.configError.detail}` : (o?.error ?? 'unknown error')}`);
        progress.tick(`${status} ${describeConfig(cfg, fields)}`);
      },
    });
  } catch (err) {
    if (err instanceof FileProblem) throw new UsageError({ option: '--results', file: displayPath(err.path), detail: `${err.reason}; remove or rename it` }, 'ESTORE');
    throw err;
  } finally {
    progress.stop();
    unhook();
    await pool?.destroy();
  }
  const code = summary.failed.length ? 1 : 0;
  // Known before the report is written: a reader that goes away mid-report ends the command with it.
  process.exitCode = code;
  const records = summary.records;
  const merged = expansion.merged ? ` (${pointsWords(expansion.points)}, ${expansion.merged} the same config as another once the fields they ignore are set to their defaults)` : '';
  const line = `${exp.name}: ${summary.total} configs${merged}, ${summary.ran} run, ${summary.skipped} already stored, ${summary.failed.length} failed (store: ${displayPath(store.dir)})`;
  const plots = opts.plot ? await writePlots(exp, records.filter((r): r is RunRecord => r !== undefined), opts.plot) : [];
  if (json) {
    const doc = {
      schemaVersion: SCHEMA_VERSION,
      modelVersion: MODEL_VERSION,
      experiment: exp.name,
      results: store.dir,
      points: expansion.points,
      merged: expansion.merged,
      total: summary.total,
      ran: summary.ran,
      skipped: summary.skipped,
      failed: summary.failed,
      plots,
      report: reportDoc(exp, configs, records),
    };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    process.stderr.write(line + '\n');
  } else {
    process.stderr.write(line + '\n');
    process.stdout.write(renderReport(exp, configs, records, opts.format));
    for (const f of plots) process.stderr.write(`wrote ${displayPath(f)}\n`);
  }
  return code;
}

/** --dry-run: the plan (coordinator/plan.ts), read from the store without writing to it. */
async function printPlan(exp: Experiment, expansion: Expansion, store: ResultStore, opts: RunExperimentOptions, json: boolean): Promise<number> {
  const { formatPlan, makePlan } = await import('./plan.js');
  const { defaultWorkers } = await import('./pool.js');
  const plan = makePlan(exp.name, expansion, store, { fresh: opts.fresh === true, workers: opts.workers ?? defaultWorkers() });
  const fields = variedOf(expansion.configs);
  if (json) process.stdout.write(JSON.stringify({ schemaVersion: SCHEMA_VERSION, modelVersion: MODEL_VERSION, plan: { ...plan, results: displayPath(plan.results) } }, null, 2) + '\n');
  else process.stdout.write(formatPlan({ ...plan, results: displayPath(plan.results) }, (c) => describeConfig(c, fields)));
  return 0;
}

function variedOf(configs: readonly SimConfig[]): (keyof SimConfig)[] {
  return CONFIG_FIELDS.filter((f) => new Set(configs.map((c) => c[f])).size > 1);
}

function renderReport(exp: Experiment, configs: readonly SimConfig[], records: readonly (RunRecord | undefined)[], format: Format): string {
  if (exp.published) return formatPublished(publishedReport(exp, present(records)), format);
  return formatRuns(runsReport(exp.name, configs, records, exp.seeds), format);
}

function reportDoc(exp: Experiment, configs: readonly SimConfig[], records: readonly (RunRecord | undefined)[]): unknown {
  if (exp.published) return { kind: 'published-table', ...publishedReport(exp, present(records)) };
  return { kind: 'runs', ...runsReport(exp.name, configs, records, exp.seeds) };
}

const present = (rs: readonly (RunRecord | undefined)[]): RunRecord[] => rs.filter((r): r is RunRecord => r !== undefined);

const EXPERIMENT_ARG_ALLOWED = `an experiment name (${NAME_ALLOWED}) or a path to a .yaml/.json file`;

/** The experiment to report on: an experiment file, or the manifest a sweep left in the store. */
function experimentForReport(name: string, results: string, experimentsDir: string, option = 'report'): Experiment {
  if (isExperimentPath(name)) return loadExperiment(name, experimentsDir);
  if (!isValidName(name)) throw new UsageError({ option, value: name, allowed: `an experiment or sweep name (${NAME_ALLOWED}) or a path to a .yaml/.json file` });
  if (findExperimentFile(name, experimentsDir)) return loadExperiment(name, experimentsDir);
  const store = new ResultStore(results, name);
  checkPath('--results', RESULTS_ALLOWED, () => store.check());
  const manifestPath = displayPath(join(store.dir, 'experiment.json'));
  let raw: unknown;
  try {
    raw = store.readManifest();
  } catch (err) {
    if (err instanceof FileProblem) throw new ExperimentError(manifestPath, '', err.reason);
    throw err;
  }
  if (raw === undefined) {
    const names = listExperimentFiles(experimentsDir).map((e) => e.name);
    throw new UsageError({ option, value: name, allowed: `one of ${names.join(', ')} or a sweep name`, detail: `${JSON.stringify(name)}: no such experiment, and no stored sweep in ${displayPath(store.dir)}; expected one of ${names.join(', ')} or a sweep name` });
  }
  return validateExperiment(raw, manifestPath);
}

/**
 * One side of `compare`: an experiment file (a .yaml/.yml/.json path), a store directory
 * (a path with a "/", holding the experiment.json the run left), or a name (an experiment
 * in --experiments, else a sweep in --results); its stored runs.
 */
function compareSide(arg: string, opts: Record<string, unknown>): CompareSide {
  let exp: Experiment;
  let store: ResultStore;
  let source: CompareSide['source'];
  if (!isExperimentPath(arg) && arg.includes('/')) {
    const dir = resolve(arg);
    const name = basename(dir);
    const allowed = 'a store directory holding experiment.json (left there by sweep or reproduce)';
    if (!isValidName(name)) throw new UsageError({ option: 'compare', value: arg, allowed });
    store = new ResultStore(dirname(dir), name);
    checkPath('compare', allowed, () => store.check());
    let raw: unknown;
    try {
      raw = store.readManifest();
    } catch (err) {
      if (err instanceof FileProblem) throw new ExperimentError(displayPath(join(dir, 'experiment.json')), '', err.reason);
      throw err;
    }
    if (raw === undefined) throw new UsageError({ option: 'compare', file: displayPath(dir), value: arg, allowed, detail: `has no experiment.json; expected ${allowed}` }, 'EPATH');
    exp = validateExperiment(raw, displayPath(join(dir, 'experiment.json')));
    source = 'store';
  } else {
    if (!isExperimentPath(arg) && !isValidName(arg)) throw new UsageError({ option: 'compare', value: arg, allowed: `${EXPERIMENT_ARG_ALLOWED}, or a store directory` });
    const dir = isExperimentPath(arg) ? String(opts.experiments) : experimentsDirOf(opts);
    source = isExperimentPath(arg) || findExperimentFile(arg, dir) ? 'experiment' : 'sweep';
    exp = experimentForReport(arg, String(opts.results), dir, 'compare');
    store = new ResultStore(String(opts.results), exp.name);
    checkPath('--results', RESULTS_ALLOWED, () => store.check());
  }
  const records = present(
    expand(exp).configs.map((c) => {
      const l = store.lookup(c);
      if (l.kind === 'invalid' || l.kind === 'blocked') process.stderr.write(`${displayPath(l.path)}: ${l.reason}; it is left out\n`);
      return l.kind === 'record' ? l.record : undefined;
    }),
  );
  return { arg, experiment: exp.name, source, results: store.dir, records };
}

/** `--where field=value` filters (repeatable); the value must be one the field takes. */
function whereOption(raw: string, prev: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = raw.indexOf('=');
  const field = raw.slice(0, eq);
  if (eq <= 0 || !isConfigField(field)) {
    throw new UsageError({ option: '--where', value: raw, allowed: `field=value with a field among ${CONFIG_FIELDS.join(', ')}` });
  }
  const value = parseScalar(raw.slice(eq + 1));
  if (!configSchema().shape[field].safeParse(value).success) throw new UsageError({ option: '--where', field, value, allowed: allowedOf(field) });
  return { ...prev, [field]: value };
}

/** Plots for an ad-hoc sweep: the metric (and the cr3 hit rate) against the first varied numeric field. */
function sweepPlots(configs: readonly SimConfig[], seeds = false): PlotDef[] {
  const varied = variedOf(configs).filter((f) => !(seeds && f === 'seed'));
  const xPref: (keyof SimConfig)[] = ['cacheSize', 'mmuPages', 'vcpus', 'tasks', 'groups', 'loops', 'hz', 'memoryMiB'];
  const x = xPref.find((f) => varied.includes(f)) ?? varied[0];
  if (!x) return [];
  const seriesPref: (keyof SimConfig)[] = ['mode', 'tasks', 'groups', ...varied];
  const series = seriesPref.find((f) => f !== x && varied.includes(f) && !(x === 'groups' && f === 'tasks') && !(x === 'tasks' && f === 'groups'));
  const logX = x === 'cacheSize' || x === 'mmuPages';
  // A third varied field is the facet (the workload first: its metric has its own unit); a sweep of more has no plot (it would merge points).
  const facet = ['workload' as const, ...varied].find((f) => f !== x && f !== series && varied.includes(f));
  const plots: PlotDef[] = [{ x, y: 'metric', ...(series ? { series } : {}), ...(facet ? { facet } : {}), logX, file: `metric-vs-${x}` }];
  if (configs.some((c) => c.mode === 'kvm-paravirt')) plots.push({ x, y: 'hitRate', ...(series ? { series } : {}), ...(facet ? { facet } : {}), logX, file: `hit-rate-vs-${x}` });
  return plots.filter((p) => plotProblem({ plots: [p], ...(seeds ? { seeds: 1 } : {}) }, configs) === undefined);
}

export function buildProgram(state: { code: number } = { code: 0 }): Command {
  const program = new Command();
  program
    .name('vcpusim')
    .description('Simulate vCPUs of a 2007 KVM/QEMU/native guest: VMX exits, shadow MMU, cr3 cache, i8259A.')
    .version(`vcpusim ${packageVersion()} (${MODEL_VERSION})`, '-V, --version', 'print the version and the model version')
    .exitOverride()
    // Errors are printed by main(), one line (and a JSON document with --json); so is a missing command, without the help.
    .configureOutput({ outputError: () => {}, writeErr: () => {} })
    .addHelpText(
      'after',
      `
Examples:
  vcpusim reproduce                      run the published table and compare
  vcpusim run --mode kvm-trunk --workload ctxswitch --tasks 2
  vcpusim sweep --mode kvm-paravirt --cache-size 1,4,16 --tasks 2,50,200 --loops 100
  vcpusim report cr3-cache-sweep --plot plots
  vcpusim list

Exit codes: 0 ok, 1 some run failed, 2 usage or config error, 130 interrupted.`,
    );

  // --- run --------------------------------------------------------------------------
  addExitOptions(addConfigOptions(program.command('run').description('simulate one configuration and print its statistics'), false)
    .option('--exits', 'also print an exit report in the style of perf kvm stat report (--event, --vcpu, --key)'))
    .option('--json', 'print one JSON document')
    .option('--workers <n>', `worker threads to spread a multi-vCPU VM over (default 1; at most --vcpus; the statistics are the same for any number)`, intInRange('--workers', 1, MAX_VCPUS))
    .addOption(choiceOption('--placement <how>', 'with --workers: how vCPUs are dealt to threads', PLACEMENTS).default('blocks'))
    .option('--seeds <n>', `run seeds 1..n and print the mean of the metric with its 95% interval (at most ${MAX_SEEDS})`, intInRange('--seeds', 1, MAX_SEEDS))
    .option('--live', 'show the kvm_stat counters on stderr while the run goes, about once a second (Ctrl-C cancels it at a quantum boundary)')
    .addHelpText(
      'after',
      `
Examples:
  vcpusim run --mode kvm-trunk --workload ctxswitch --tasks 2
  vcpusim run --mode kvm-paravirt --workload hackbench --groups 5 --cache-size 16 --json
  vcpusim run --mode kvm-upstream --workload ctxswitch --tasks 2 --exits
  vcpusim run --mode kvm-trunk --workload hackbench --groups 1 --exits --event ioport
  vcpusim run --mode kvm-trunk --workload hackbench --vcpus 2 --exits --event kvm_stat --vcpu 1
  vcpusim run --mode kvm-paravirt --workload hackbench --groups 50 --vcpus 16 --workers 2`,
    )
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const given = configFromOptions(opts, false, cmd);
      const seeds = seedsOption(opts, given);
      const cfg = resolveConfig(given);
      // A parameter this workload or mode ignores is a mistake: say what it applies to.
      checkGivenApply(cfg, Object.keys(given));
      const exitView = exitViewFromOptions(opts, cfg.vcpus);
      const asked = (opts.workers as number | undefined) ?? 1;
      if (asked > cfg.vcpus) {
        throw new UsageError({ option: '--workers', value: asked, allowed: `at most --vcpus (${cfg.vcpus})`, detail: `${asked} is more threads than the VM has vCPUs; expected at most ${cfg.vcpus} (--vcpus)` });
      }
      if (asked === 1 && cmd.getOptionValueSource('placement') === 'cli') {
        throw new UsageError({ option: '--placement', value: opts.placement, allowed: 'it applies with --workers 2 or more', detail: `${String(opts.placement)} has no effect on one thread; it applies with --workers 2 or more` });
      }
      const warning = workersWarning(asked);
      if (warning !== null) process.stderr.write(`${warning}\n`);
      const json = opts.json === true;
      // The run goes to a worker thread even alone, so that this thread takes a Ctrl-C at once.
      // With --live, SIGINT cancels the run at a quantum boundary (live-view.ts); otherwise it stops the process at once.
      const { SimPool } = await import('./pool.js');
      const { placeVcpus, runVmSplit } = await import('./vm-split.js');
      const { RunCancelled } = await import('./live.js');
      const { runWithLiveView } = await import('./live-view.js');
      const { CLEAR_LINE, runWithProgressLine } = await import('./run-progress.js');
      // On a terminal (not --json, not --live): a progress line on stderr (run-progress.ts).
      const progressLine = progressWanted(json) && opts.live !== true;
      const unhook = opts.live === true ? () => {} : stopOnSignals(json, (signal) => `interrupted by ${signal}: the run was stopped, nothing was written`, progressLine ? () => process.stderr.write(CLEAR_LINE) : undefined);
      const pool = new SimPool({ threads: asked });
      const done: { result: RunResult; hostSeconds: number; split?: SplitInfo }[] = [];
      try {
        for (const c of seeds ? seedList(seeds).map((seed) => ({ ...cfg, seed })) : [cfg]) {
          if (opts.live === true) {
            const r = await runWithLiveView(pool, c, placeVcpus(c.vcpus, asked, opts.placement as PlacementKind)).catch(async (err: unknown) => {
              if (!(err instanceof RunCancelled)) throw err;
              await pool.destroy();
              printError({ code: 'EINTR', option: null, file: null, field: null, value: 'SIGINT', allowed: null, message: 'interrupted by SIGINT: the run was cancelled at a quantum boundary, nothing was written' }, json);
              process.exit(SIGNAL_EXIT.SIGINT);
            });
            done.push({ result: r.result, hostSeconds: r.hostSeconds, ...(asked > 1 ? { split: { workers: asked, quanta: r.quanta } } : {}) });
          } else if (progressLine) {
            const r = await runWithProgressLine(pool, c, placeVcpus(c.vcpus, asked, opts.placement as PlacementKind));
            done.push({ result: r.result, hostSeconds: r.hostSeconds, ...(asked > 1 ? { split: { workers: asked, quanta: r.quanta } } : {}) });
          } else if (asked > 1) {
            const r = await runVmSplit(pool, c, placeVcpus(c.vcpus, asked, opts.placement as PlacementKind));
            done.push({ result: r.result, hostSeconds: r.hostSeconds, split: { workers: asked, quanta: r.quanta } });
          } else {
            const r = await pool.run(c);
            done.push({ result: r.result, hostSeconds: r.hostSeconds });
          }
        }
      } finally {
        unhook();
        await pool.destroy();
      }
      if (seeds) process.stdout.write(json ? JSON.stringify(replicatesDoc(done.map((d) => d.result)), null, 2) + '\n' : formatReplicates(done, opts.exits === true, (r) => reportExits([{ key: '', result: r }], exitView, 'table')));
      else if (json) process.stdout.write(JSON.stringify(done[0]!.result, null, 2) + '\n');
      else {
        process.stdout.write(formatSummary(done[0]!.result, done[0]!.hostSeconds, done[0]!.split));
        if (opts.exits) process.stdout.write('\n' + reportExits([{ key: '', result: done[0]!.result }], exitView, 'table'));
      }
    });

  // --- sweep ------------------------------------------------------------------------
  addReportOptions(
    addRunnerOptions(
      addConfigOptions(
        program
          .command('sweep')
          .description('run the cartesian product of comma lists of run parameters into the result store, then report it'),
        true,
      ),
    )
      .option('--name <name>', 'name of the sweep in the store (results/<name>/)', 'sweep')
      .option('--seeds <n>', `run every point with seeds 1..n; reports show the mean and its 95% interval (at most ${MAX_SEEDS})`, intInRange('--seeds', 1, MAX_SEEDS)),
  )
    .addHelpText(
      'after',
      `
Every parameter option takes a comma list; the sweep runs every combination (at most ${MAX_POINTS}).
Finished runs are stored as they finish: an interrupted sweep resumes when run again.

Examples:
  vcpusim sweep --mode kvm-paravirt --workload ctxswitch --cache-size 1,2,4,8 --tasks 2,50,200 --loops 100
  vcpusim sweep --mode kvm-paravirt --workload hackbench --cache-size 1,2,4,8,16,32,64 --groups 1,5,10 --name cr3-hackbench
  vcpusim sweep --mode kvm-trunk,kvm-paravirt --workload hackbench --mmu-pages 64,256,1024 --plot plots --json`,
    )
    .action(async (opts: Record<string, unknown>, cmd: Command) => {
      const name = String(opts.name);
      if (!isValidName(name)) throw new UsageError({ option: '--name', value: name, allowed: NAME_ALLOWED });
      const fields = configFromOptions(opts, true, cmd);
      const seeds = seedsOption(opts, fields);
      const grid: Record<string, (string | number | boolean)[]> = {};
      const base: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(fields)) {
        if (Array.isArray(v)) grid[k] = v as (string | number | boolean)[];
        else base[k] = v;
      }
      // Count the combinations before making any of them.
      const axes = Object.entries(grid).filter(([, v]) => v.length > 1);
      const points = axes.reduce((n, [, v]) => Math.min(n * v.length, Number.MAX_SAFE_INTEGER), seeds ?? 1);
      if (points > MAX_POINTS) {
        const option = axes.map(([f]) => flagOf(f)).join(' x ');
        throw new UsageError({ option, value: points, allowed: `at most ${MAX_POINTS} points`, detail: `${pointsWords(points)} (${axes.map(([, v]) => v.length).join(' x ')}) are too many; expected at most ${MAX_POINTS}` });
      }
      // Check every point before running any, so a bad value leaves the store untouched.
      const probe: Experiment = { name, description: '', base: base, grid: grid, ...(seeds ? { seeds } : {}) };
      let expansion: Expansion;
      try {
        expansion = expand(probe);
      } catch (err) {
        // A point that does not resolve: name the option that gave the field.
        if (err instanceof ExperimentError && err.cause instanceof ConfigError) throw err.cause;
        throw err;
      }
      const exp: Experiment = {
        ...probe,
        description: `vcpusim sweep ${process.argv.slice(3).join(' ')}`.trim(),
        plots: sweepPlots(expansion.configs, seeds !== undefined),
      };
      state.code = await runExperiment(exp, expansion, { ...runOpts(opts), queue: await queueOf(opts) });
    });

  // --- reproduce --------------------------------------------------------------------
  addReportOptions(
    addRunnerOptions(
      program
        .command('reproduce')
        .argument('[experiment]', 'experiment name (in experiments/) or path to a .yaml/.json file', 'published-table')
        .description('run an experiment file into the result store (skipping stored runs) and report it'),
    ),
  )
    .option('--experiments <dir>', 'directory of experiment files', defaultExperimentsDir())
    .option('--trace <file>', "the trace an experiment of the trace workload replays (instead of its file's)", pathOption('--trace'))
    .option('--seeds <n>', `run every point with seeds 1..n (instead of the file's seeds; at most ${MAX_SEEDS})`, intInRange('--seeds', 1, MAX_SEEDS))
    .addHelpText(
      'after',
      `
Examples:
  vcpusim reproduce                          the published table: simulated vs published, error in %
  vcpusim reproduce trace-cache-sweep --trace sched.txt
  vcpusim reproduce cr3-cache-sweep --plot plots
  vcpusim reproduce shadow-pool-sweep --format csv
  vcpusim reproduce experiments/my.yaml --fresh --json`,
    )
    .action(async (name: string, opts: Record<string, unknown>) => {
      if (!isExperimentPath(name) && !isValidName(name)) throw new UsageError({ option: 'reproduce', value: name, allowed: EXPERIMENT_ARG_ALLOWED });
      const exp = loadExperiment(name, isExperimentPath(name) ? String(opts.experiments) : experimentsDirOf(opts));
      if (opts.trace !== undefined) exp.base = { ...exp.base, trace: opts.trace as string };
      withSeedsOption(exp, opts);
      state.code = await runExperiment(exp, expand(exp), { ...runOpts(opts), queue: await queueOf(opts) });
    });

  addQueueCommands(program, state, intInRange('--workers', 1, MAX_WORKERS), MAX_WORKERS);

  // --- report -----------------------------------------------------------------------
  addExitOptions(program
    .command('report'))
    .argument('[experiment]', 'experiment or sweep name', 'published-table')
    .description('render stored results of an experiment or sweep: table, json, csv, md, SVG plots, exit reports')
    .option('--results <dir>', 'result store directory', pathOption('--results'), DEFAULT_RESULTS_DIR)
    .option('--experiments <dir>', 'directory of experiment files', defaultExperimentsDir())
    .addOption(choiceOption('--format <format>', 'report format', FORMATS).default('table'))
    .option('--json', 'print one JSON document on stdout (same as --format json)')
    .option('--plot <dir>', "write the experiment's SVG plots into <dir>", pathOption('--plot'))
    .option('--html <dir>', 'also write <dir>/index.html: the table, plots, exit reports and configs in one self-contained page', pathOption('--html'))
    .option('--exits', 'print an exit report (perf kvm stat style) for each stored run (--event, --vcpu, --key; table, csv or json)')
    .option('--where <field=value>', 'only runs whose config has field=value (repeatable)', whereOption)
    .option('--seeds <n>', `report seeds 1..n of every point (as reproduce --seeds; at most ${MAX_SEEDS})`, intInRange('--seeds', 1, MAX_SEEDS))
    .option('--tidy', 'with --format csv: long form, one row per run x statistic (every counter, exits by reason, per vCPU) with the full config')
    .addHelpText(
      'after',
      `
Examples:
  vcpusim report                              the published table from stored results
  vcpusim report --format md
  vcpusim report cr3-cache-sweep --plot docs/plots
  vcpusim report published-table --html report   one page: table, plots, exit reports, configs
  vcpusim report published-table --exits --where mode=kvm-trunk --where workload=ctxswitch
  vcpusim report published-table --exits --event ioport --key time --format csv
  vcpusim report sweep --format csv`,
    )
    .action(async (name: string, opts: Record<string, unknown>) => {
      const exitView = exitViewFromOptions(opts);
      const exp = experimentForReport(name, String(opts.results), isExperimentPath(name) ? String(opts.experiments) : experimentsDirOf(opts));
      withSeedsOption(exp, opts);
      const store = new ResultStore(String(opts.results), exp.name);
      checkPath('--results', RESULTS_ALLOWED, () => store.check());
      const where = (opts.where as Partial<SimConfig>) ?? {};
      const configs = expand(exp).configs.filter((c) => matches(c, where));
      const plotDir = opts.plot as string | undefined;
      const { preparePlotDir, writePlots } = await import('./plot.js');
      const { prepareHtmlDir, writeHtmlReport } = await import('./html-report.js');
      if (plotDir) checkPath('--plot', PLOT_ALLOWED, () => preparePlotDir(exp, plotDir));
      const htmlDir = opts.html as string | undefined;
      if (htmlDir) checkPath('--html', HTML_ALLOWED, () => prepareHtmlDir(htmlDir));
      const records = configs.map((c) => {
        const l = store.lookup(c);
        if (l.kind === 'invalid' || l.kind === 'blocked') process.stderr.write(`${displayPath(l.path)}: ${l.reason}; it is left out (run the experiment again to replace it)\n`);
        return l.kind === 'record' ? l.record : undefined;
      });
      const stored = present(records);
      const format: Format = opts.json ? 'json' : (opts.format as Format);
      if (stored.length === 0) {
        process.exitCode = state.code = 1;
        process.stderr.write(`${exp.name}: no stored results in ${displayPath(store.dir)}${Object.keys(where).length ? ' matching --where' : ''}; run \`vcpusim reproduce ${exp.name}\` first\n`);
        if (format === 'json') process.stdout.write(JSON.stringify({ schemaVersion: SCHEMA_VERSION, modelVersion: MODEL_VERSION, experiment: exp.name, report: null }) + '\n');
        return;
      }
      if (configs.length > stored.length) {
        process.stderr.write(`${exp.name}: ${configs.length - stored.length} of ${configs.length} runs have no stored result\n`);
      }
      const plots = plotDir ? await writePlots(exp, stored, plotDir) : [];
      const html = htmlDir ? await writeHtmlReport(exp, configs, records, htmlDir, exitView) : undefined;
      if (opts.tidy && format !== 'csv') throw new UsageError({ option: '--tidy', value: format, allowed: 'it applies with --format csv', detail: `has no effect with ${format}; it applies with --format csv` });
      if (opts.tidy) process.stdout.write((await import('./tidy.js')).formatTidy(stored));
      else if (opts.exits) {
        process.stdout.write(reportExits(stored, exitView, format, exp.name));
      } else if (format === 'json') {
        const doc = { schemaVersion: SCHEMA_VERSION, modelVersion: MODEL_VERSION, experiment: exp.name, results: store.dir, plots, report: reportDoc(exp, configs, records) };
        process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
      } else {
        process.stdout.write(renderReport(exp, configs, records, format));
      }
      for (const f of plots) process.stderr.write(`wrote ${displayPath(f)}\n`);
      if (html) process.stderr.write(`wrote ${displayPath(html)}\n`);
    });

  // --- compare ----------------------------------------------------------------------
  program
    .command('compare')
    .argument('<a>', 'experiment or sweep name, experiment file, or store directory (a path with a "/")')
    .argument('<b>', 'the same, for the other side')
    .description('stored runs of two experiments, sweeps or stores side by side: difference and ratio per figure, intervals over seeds')
    .option('--results <dir>', 'result store directory (for names and experiment files)', pathOption('--results'), DEFAULT_RESULTS_DIR)
    .option('--experiments <dir>', 'directory of experiment files', defaultExperimentsDir())
    .addOption(choiceOption('--format <format>', 'output format', ['table', 'json', 'csv', 'md']).default('table'))
    .option('--json', 'print one JSON document on stdout (same as --format json)')
    .addHelpText(
      'after',
      `
A and B are resolved in this order: a path ending in .yaml, .yml or .json is an experiment
file (its runs read from --results); an argument with a "/" is a store directory
(results/<name>, read through the experiment.json it holds); any other is a name: an
experiment in --experiments, else a sweep stored in --results.

Examples:
  vcpusim compare cr3-cache-sweep results-old/cr3-cache-sweep
  vcpusim compare sweep-trunk sweep-paravirt --format csv`,
    )
    .action(async (a: string, b: string, opts: Record<string, unknown>) => {
      const { compare, formatComparison } = await import('./compare.js');
      const sides = [compareSide(a, opts), compareSide(b, opts)];
      const format = opts.json ? 'json' : (opts.format as 'table' | 'json' | 'csv' | 'md');
      for (const s of sides) {
        if (s.records.length === 0) {
          process.exitCode = state.code = 1;
          process.stderr.write(`${s.arg}: no stored results in ${displayPath(s.results)}; run it first\n`);
          return;
        }
      }
      const c = compare(sides[0]!, sides[1]!);
      if (c.rows.length === 0) {
        process.exitCode = state.code = 1;
        process.stderr.write(`${a} and ${b}: no run of one matches a run of the other on ${c.matchedOn.join(', ') || 'their config'}\n`);
      }
      process.stdout.write(formatComparison({ ...c, a: { ...c.a, results: displayPath(c.a.results) }, b: { ...c.b, results: displayPath(c.b.results) } }, format));
    });

  // --- trace ------------------------------------------------------------------------
  const trace = program.command('trace').description('recorded Linux scheduler traces: the cr3 cache a workload needs');
  trace
    .command('analyze')
    .argument('<file>', 'an ftrace trace / trace_pipe text, trace-cmd report or perf sched script output (gzip accepted)')
    .description('cr3 loads of a recorded trace and the hit rate of a per-CPU cr3 cache of every size 1-64 under LRU, round-robin fill and the optimum')
    .option('--json', 'print one JSON document')
    .option('--plot <dir>', 'write the hit rate against cache size as SVG into <dir>', pathOption('--plot'))
    .option('--kthreads <regex>', 'also treat tasks whose comm matches this pattern as kernel threads (lazy TLB, no cr3 load)')
    .option('--cpus <list>', 'only these CPUs (comma list)', cpuListOption)
    .addHelpText(
      'after',
      `
Examples:
  trace-cmd record -e sched_switch -e sched_process_fork -e sched_process_exec sleep 10
  trace-cmd report > sched.txt && vcpusim trace analyze sched.txt
  perf sched record -- sleep 10 && perf sched script | gzip > sched.txt.gz
  vcpusim trace analyze sched.txt.gz --json --plot plots`,
    )
    .action(async (file: string, opts: Record<string, unknown>) => {
      let kthreads: RegExp | undefined;
      if (opts.kthreads !== undefined) {
        try {
          kthreads = new RegExp(opts.kthreads as string);
        } catch {
          throw new UsageError({ option: '--kthreads', value: opts.kthreads, allowed: 'a JavaScript regular expression' });
        }
      }
      const plotDir = opts.plot as string | undefined;
      if (plotDir) {
        checkPath('--plot', PLOT_ALLOWED, () => {
          checkDirPath(plotDir, TRACE_PLOT);
          ensureDir(plotDir);
          probeWritable(plotDir, TRACE_PLOT);
        });
      }
      const { loadTrace } = await import('./trace/load.js');
      const { TraceParseError } = await import('../shared/trace/parse.js');
      const { analyzeTrace, formatTraceReport, traceHitRatePlot } = await import('./trace/analyze.js');
      const shown = displayPath(file);
      let loaded;
      try {
        loaded = loadTrace(file, shown);
      } catch (err) {
        if (err instanceof FileProblem) throw new UsageError({ option: 'trace analyze', file: shown, value: file, allowed: 'a trace file', detail: `${err.reason}; expected a trace file (text or gzip)` }, 'EPATH');
        if (err instanceof TraceParseError) throw new UsageError({ file: shown, detail: `line ${err.line}: expected ${err.expected}${err.text ? `; got ${JSON.stringify(err.text.length > 120 ? err.text.slice(0, 120) + '…' : err.text)}` : ''}` });
        throw err;
      }
      const cpus = opts.cpus as number[] | undefined;
      for (const c of cpus ?? []) {
        if (c >= loaded.trace.cpus) throw new UsageError({ option: '--cpus', value: c, allowed: `CPUs 0 to ${loaded.trace.cpus - 1} (the trace has ${loaded.trace.cpus})` });
      }
      const report = analyzeTrace(loaded.trace, { file: shown, sha256: loaded.sha256 }, { kthreads, cpus });
      if (opts.json) process.stdout.write(JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...report }, null, 2) + '\n');
      else process.stdout.write(formatTraceReport(report) + '\n');
      if (plotDir) {
        const { renderSvg } = await import('./plot.js');
        const { writeFileAtomic } = await import('./files.js');
        const out = join(plotDir, TRACE_PLOT);
        writeFileAtomic(out, (await renderSvg(traceHitRatePlot(report))) + '\n');
        process.stderr.write(`wrote ${displayPath(out)}\n`);
      }
    });

  // --- list -------------------------------------------------------------------------
  program
    .command('list')
    .description('list experiments, modes, workloads and cost profiles')
    .option('--experiments <dir>', 'directory of experiment files', defaultExperimentsDir())
    .option('--json', 'print one JSON document')
    .addHelpText('after', '\nExamples:\n  vcpusim list\n  vcpusim list --json')
    .action((opts: Record<string, unknown>) => {
      // Each file's line is kept between runs (list-cache.ts): a file validated before, unchanged, loads neither yaml nor zod.
      const experiments = cachedListEntries(listExperimentFiles(experimentsDirOf(opts)), displayPath, (name, file) => {
        try {
          // Validation counts a grid's points before it expands anything; a trace file is read when a run is planned.
          const { exp: e, runs } = listExperimentFile(file);
          return { name, description: e.description, runs };
        } catch (err) {
          if (err instanceof ExperimentError) return { name, error: err.message };
          throw err;
        }
      });
      const profiles = Object.values(PROFILES).map((p) => ({ name: p.name, description: p.description }));
      if (opts.json) {
        const doc = { schemaVersion: SCHEMA_VERSION, modelVersion: MODEL_VERSION, experiments, modes: MODES, workloads: WORKLOADS, profiles };
        process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
        return;
      }
      const out: string[] = ['experiments:'];
      const w = Math.max(...experiments.map((e) => e.name.length), 4);
      for (const e of experiments) out.push(`  ${e.name.padEnd(w)}  ${'error' in e ? `invalid: ${e.error}` : `${e.runs} runs  ${e.description}`}`);
      out.push('', `modes:     ${MODES.join(', ')}`, `workloads: ${WORKLOADS.join(', ')}`, 'profiles:');
      for (const p of profiles) out.push(`  ${p.name}  ${p.description}`);
      process.stdout.write(out.join('\n') + '\n');
    });

  program
    .command('calibrate')
    .argument('[spec]', 'calibration spec: a name in experiments/calibration/ or a path', 'core2-2007')
    .description('fit the free costs a calibration spec declares to its published figures; write the fitted profile')
    .option('--max-evals <n>', 'objective evaluations (default: the spec\'s maxEvaluations)', intInRange('--max-evals', 1, Number.MAX_SAFE_INTEGER))
    .option('--out <file>', 'where to write the fitted profile (default: profiles/<name>.json)')
    .option('--start <profile>', "start from this profile's values of the free costs (default: the spec's base)")
    .option('--workers <n>', `worker threads for the runs of an evaluation (default: one per core; 1 runs in this thread; at most ${MAX_WORKERS})`, intInRange('--workers', 1, MAX_WORKERS))
    .option('--dry-run', 'fit and report, write nothing')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      '\nExamples:\n  vcpusim calibrate\n  vcpusim calibrate core2-2007 --max-evals 40 --dry-run\n\nEach evaluation simulates every target cell once per seed, over the worker threads; progress goes to stderr.',
    )
    .action(async (specName: string, opts: Record<string, unknown>) => {
      // Loaded when asked for: it brings the simulation into this thread.
      const { calibrate, formatCalibration, loadCalibrationSpec } = await import('./calibrate.js');
      const file = findCalibrationSpec(specName);
      if (!file) throw new UsageError({ option: 'calibrate', value: specName, allowed: 'a name in experiments/calibration/ or a path to a .yaml file', detail: `no spec ${JSON.stringify(specName)}; expected a name in experiments/calibration/ or a path to a .yaml file` });
      const start = opts.start as string | undefined;
      if (start !== undefined && !Object.hasOwn(PROFILES, start)) throw new UsageError({ option: '--start', value: start, allowed: `one of ${Object.keys(PROFILES).join(', ')}` });
      const out = opts.out as string | undefined;
      if (out !== undefined && !opts.dryRun) {
        checkPath('--out', 'a file in a directory that can be written', () => {
          checkDirPath(dirname(resolve(out)), basename(out));
          if (lstatOrUndefined(out)?.isDirectory()) throw new FileProblem(out, 'is a directory, not a file');
          ensureDir(dirname(resolve(out)));
          probeWritable(dirname(resolve(out)), basename(out));
        });
      }
      // The spec read the guarded way first (a regular file, bounded, no tags or deep nesting): a bad one is one line here.
      checkSpecFile(file);
      const spec = loadCalibrationSpec(file);
      const showProgress = !opts.json && process.stderr.isTTY;
      const r = await calibrate(spec, {
        maxEvaluations: opts.maxEvals as number | undefined,
        workers: opts.workers as number | undefined,
        out: opts.dryRun ? null : (opts.out as string | undefined),
        start: opts.start as string | undefined,
        onEvaluation: (n, _fx, best) => {
          if (showProgress) process.stderr.write(`\revaluation ${n}, best objective ${best.toFixed(4)}   `);
        },
      });
      if (showProgress) process.stderr.write('\n');
      if (opts.json) {
        const { spec: s, ...rest } = r;
        process.stdout.write(JSON.stringify({ schemaVersion: SCHEMA_VERSION, spec: s.name, ...rest }, null, 2) + '\n');
      } else process.stdout.write(formatCalibration(r));
    });

  return program;
}

/** --seeds of run and sweep: not together with a --seed. */
function seedsOption(opts: Record<string, unknown>, given: Record<string, unknown>): number | undefined {
  const seeds = opts.seeds as number | undefined;
  if (seeds !== undefined && given.seed !== undefined) {
    throw new UsageError({ option: '--seeds', value: seeds, allowed: 'seeds 1..n, without --seed', detail: `${seeds} runs seeds 1-${seeds}, and --seed ${JSON.stringify(given.seed)} was given as well; expected one of --seed and --seeds` });
  }
  return seeds;
}

/** --seeds of reproduce and report: the experiment's points with seeds 1..n, checked as the file's `seeds` would be. */
function withSeedsOption(exp: Experiment, opts: Record<string, unknown>): void {
  if (opts.seeds === undefined) return;
  exp.seeds = opts.seeds as number;
  try {
    expand(exp);
  } catch (err) {
    if (err instanceof ExperimentError) throw new UsageError({ option: '--seeds', value: exp.seeds, file: err.file, field: err.field, detail: err.detail });
    throw err;
  }
}

function runOpts(opts: Record<string, unknown>): RunExperimentOptions {
  return {
    results: resolve(String(opts.results)),
    fresh: opts.fresh === true,
    workers: opts.workers as number | undefined,
    retries: opts.retries as number | undefined,
    json: opts.json === true,
    format: opts.format as Format,
    plot: opts.plot as string | undefined,
    dryRun: opts.dryRun === true,
  };
}

/** Whether the command line asks for JSON on stdout (--json, or --format json), options only. */
function wantsJson(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf('--');
  const opts = end < 0 ? args : args.slice(0, end);
  return opts.some((a, i) => a === '--json' || a === '--format=json' || (a === '--format' && opts[i + 1] === 'json'));
}

/**
 * A reader that goes away (`| head -1`) is no error. On stdout, where the report goes once
 * the runs are over, the command stops writing and exits with the code it has (set before
 * the report is written), quietly; any other failure to write stdout ends it the same way
 * with 1 if nothing failed before. On stderr (progress, notes) nothing can be said any more:
 * the command goes on without it.
 */
let outputGuarded = false;
function quietOnClosedOutput(): void {
  if (outputGuarded) return;
  outputGuarded = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
    process.exit(err.code === 'EPIPE' ? code : code || 1);
  });
  process.stderr.on('error', () => {});
}

/** Run the command line `argv` (as process.argv: node, script, arguments...); returns the exit code. bin/vcpusim.js calls it. */
export async function main(argv: string[]): Promise<number> {
  quietOnClosedOutput();
  const state = { code: 0 };
  const program = buildProgram(state);
  const json = wantsJson(argv);
  try {
    await program.parseAsync(argv);
    return state.code;
  } catch (err) {
    // Help and version exit 0.
    if (err instanceof CommanderError && err.exitCode === 0) return 0;
    const commands = program.commands.map((c) => c.name());
    const doc = userErrorDoc(
      err instanceof CommanderError && err.code === 'commander.help'
        ? new UsageError({ option: 'vcpusim', allowed: `one of ${commands.join(', ')}`, detail: `a command is missing; expected one of ${commands.join(', ')} (vcpusim --help describes them)` })
        : err,
    );
    if (doc) {
      printError(doc, json);
      return 2;
    }
    printError(faultDoc(err), json);
    return 1;
  }
}

/** A calibration spec must be a file that parses as YAML the way experiment files do. Throws ExperimentError. */
function checkSpecFile(file: string): void {
  const shown = displayPath(file);
  let text: string;
  try {
    text = readRegularFile(file, { follow: true });
  } catch (err) {
    if (err instanceof FileProblem) throw new ExperimentError(shown, '', err.reason);
    throw err;
  }
  parseYamlText(shown, text);
}

/** A calibration spec by name (experiments/calibration/<name>.yaml) or path. */
function findCalibrationSpec(nameOrPath: string): string | undefined {
  if (/\.ya?ml$/.test(nameOrPath) && existsSync(nameOrPath)) return nameOrPath;
  if (!isValidName(nameOrPath)) return undefined;
  const p = join(defaultExperimentsDir(), 'calibration', `${nameOrPath}.yaml`);
  return existsSync(p) ? p : undefined;
}
