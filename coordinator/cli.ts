/**
 * The `vcpusim` command line: run, sweep, reproduce, report, list.
 * Exit codes: 0 ok, 1 some run failed (or has no stored result), 2 usage or config error.
 * Output: readable text, or with --json exactly one JSON document on stdout (everything
 * else goes to stderr).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CONFIG_FIELDS, ConfigError, FIELD_SPECS, MODES, WORKLOADS, allowedOf, isConfigField, notAllowed, resolveConfig, type SimConfig } from '../shared/config.js';
import { PROFILES } from '../shared/costs.js';
import { SCHEMA_VERSION, type RunResult } from '../shared/stats.js';
import { simulate } from '../worker/vm.js';
import { executeConfigs, type ExecuteSummary } from './execute.js';
import {
  ExperimentError,
  defaultExperimentsDir,
  displayPath,
  expandExperiment,
  findExperimentFile,
  listExperimentFiles,
  loadExperiment,
  loadExperimentFile,
  matches,
  validateExperiment,
  type Experiment,
  type PlotDef,
} from './experiments.js';
import { writePlots } from './plot.js';
import { createProgress, progressWanted } from './progress.js';
import { FORMATS, exitReport, formatExitReport, formatPublished, formatRuns, publishedReport, runsReport, type Format } from './report.js';
import { DEFAULT_RESULTS_DIR, MODEL_VERSION, ResultStore, type RunRecord } from './store.js';
import { formatSummary, type SplitInfo } from './summary.js';
import { SimPool } from './pool.js';
import { PLACEMENTS, placeVcpus, runVmSplit, type PlacementKind } from './vm-split.js';
import { calibrate, formatCalibration, loadCalibrationSpec } from './calibrate.js';

/** A mistake in how the command was used (not in a config): exit code 2. */
export class UsageError extends Error {
  readonly code = 'EUSAGE';
}

/** Parse an option value as an integer, or fail naming the option and what it allows. */
function intOption(field: keyof SimConfig) {
  return (raw: string): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(n)) {
      throw new InvalidArgumentError(notAllowed(raw, allowedOf(field)));
    }
    return n;
  };
}

/** Parse a comma list of integers (a sweep axis). Ranges are checked when configs resolve. */
function intListOption(field: keyof SimConfig) {
  return (raw: string): number[] =>
    raw.split(',').map((part) => {
      const n = Number(part);
      if (part.trim() === '' || !Number.isInteger(n)) {
        throw new InvalidArgumentError(notAllowed(part, `a comma list of integers, each ${allowedOf(field).replace(/^an integer /, '')}`));
      }
      return n;
    });
}

const stringList = (raw: string): string[] => raw.split(',').map((s) => s.trim());

/** A value typed on the command line, as a config value: true/false, a number, or a string. */
function parseScalar(raw: string): string | number | boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  return raw;
}

/** `--param field=value[,value...]`, repeatable: any config field, including ones without a flag. */
function paramOption(raw: string, prev: Record<string, (string | number | boolean)[]> = {}): Record<string, (string | number | boolean)[]> {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(notAllowed(raw, `field=value[,value...] with a field among ${CONFIG_FIELDS.join(', ')}`));
  const field = raw.slice(0, eq);
  if (!isConfigField(field)) throw new InvalidArgumentError(`${JSON.stringify(field)} is not a parameter; expected one of ${CONFIG_FIELDS.join(', ')}`);
  return { ...prev, [field]: raw.slice(eq + 1).split(',').map(parseScalar) };
}

/**
 * The fields with an option of their own, in option order: sweep axes vary in this
 * order (the first slowest). The others are set with --param.
 */
const OPTION_FIELDS = CONFIG_FIELDS.filter((f) => FIELD_SPECS[f].option).sort((a, b) => FIELD_SPECS[a].option!.order - FIELD_SPECS[b].option!.order);

/** The same in `--help`: the choice options first. */
const HELP_FIELDS = [...OPTION_FIELDS.filter((f) => FIELD_SPECS[f].option!.kind === 'choice'), ...OPTION_FIELDS.filter((f) => FIELD_SPECS[f].option!.kind !== 'choice')];

/** Map a config field to the option a user typed. */
export const flagOf = (field: string): string => (isConfigField(field) ? FIELD_SPECS[field].option?.flag : undefined) ?? `--param ${field}`;

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
      const option = new Option(`${o.flag} ${o.arg}`, o.help).choices(choices);
      return o.runDefault ? option.default(spec.default) : option;
    }
    case 'int':
      return new Option(`${o.flag} ${list ? '<list>' : (o.arg ?? '<n>')}`, withDefault(o.help, o.showDefault)).argParser<unknown>(list ? intListOption(field) : intOption(field));
    case 'switch':
      return new Option(o.flag, o.help);
  }
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

/** The config fields given by the options of `run` or `sweep` (lists for sweep). */
function configFromOptions(opts: Record<string, unknown>, list: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of OPTION_FIELDS) {
    const o = FIELD_SPECS[field].option!;
    const v = opts[ATTRIBUTE[field]!];
    // A switch sets its field only when given: `--x` true, `--no-x` false.
    if (o.kind === 'switch') out[field] = o.flag.startsWith('--no-') ? (v === false ? false : undefined) : v === true ? true : undefined;
    else out[field] = v;
  }
  for (const [k, v] of Object.entries((opts.param as Record<string, unknown[]>) ?? {})) {
    if (!list && v.length !== 1) throw new UsageError(`--param ${k}: one value expected (use \`vcpusim sweep\` for lists)`);
    out[k] = list ? v : v[0];
  }
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

/** Options shared by the commands that run experiments. */
function addRunnerOptions(cmd: Command): Command {
  return cmd
    .option('--results <dir>', 'result store directory', DEFAULT_RESULTS_DIR)
    .option('--fresh', 'ignore stored results: run every config again and overwrite its record')
    .option('--workers <n>', 'worker threads (default: one per core; 1 runs in this thread)', positiveInt('--workers'))
    .option('--retries <n>', 'retries of a run whose worker threw or died (default 2)', nonNegativeInt('--retries'));
}

function addReportOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--format <format>', 'report format').choices(FORMATS).default('table'))
    .option('--json', 'print one JSON document on stdout (same as --format json, plus run counts)')
    .option('--plot <dir>', "write the experiment's SVG plots into <dir>");
}

function positiveInt(_flag: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(notAllowed(raw, 'an integer >= 1'));
    return n;
  };
}
function nonNegativeInt(_flag: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(notAllowed(raw, 'an integer >= 0'));
    return n;
  };
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
}

/**
 * Run an experiment's configs into the store (skipping stored ones), then print its report.
 * Returns the exit code: 1 if any run failed.
 */
async function runExperiment(exp: Experiment, opts: RunExperimentOptions): Promise<number> {
  const configs = expandExperiment(exp);
  const store = new ResultStore(opts.results, exp.name);
  const { file: _file, ...manifest } = exp;
  store.writeManifest(manifest);
  const json = opts.json === true || opts.format === 'json';
  const fields = variedOf(configs);
  const progress = createProgress(configs.length, { enabled: progressWanted(json), title: exp.name });
  const onSigint = () => {
    progress.stop();
    process.stderr.write(`\ninterrupted: finished runs are stored in ${displayPath(store.dir)}; run the same command again to resume\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  let summary: ExecuteSummary;
  try {
    summary = await executeConfigs(configs, {
      store,
      fresh: opts.fresh,
      workers: opts.workers,
      retries: opts.retries,
      onConfig: (status, cfg, o) => {
        if (status === 'failed') progress.log(`run failed: ${describeConfig(cfg, fields)}: ${o?.error ?? 'unknown error'}`);
        progress.tick(`${status} ${describeConfig(cfg, fields)}`);
      },
    });
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSigint);
  }
  const records = summary.records;
  const line = `${exp.name}: ${summary.total} configs, ${summary.ran} run, ${summary.skipped} already stored, ${summary.failed.length} failed (store: ${displayPath(store.dir)})`;
  const plots = opts.plot ? await writePlots(exp, records.filter((r): r is RunRecord => r !== undefined), opts.plot) : [];
  if (json) {
    const doc = {
      schemaVersion: SCHEMA_VERSION,
      modelVersion: MODEL_VERSION,
      experiment: exp.name,
      results: store.dir,
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
  return summary.failed.length ? 1 : 0;
}

function variedOf(configs: readonly SimConfig[]): (keyof SimConfig)[] {
  return CONFIG_FIELDS.filter((f) => new Set(configs.map((c) => c[f])).size > 1);
}

function renderReport(exp: Experiment, configs: readonly SimConfig[], records: readonly (RunRecord | undefined)[], format: Format): string {
  if (exp.published) return formatPublished(publishedReport(exp, present(records)), format);
  return formatRuns(runsReport(exp.name, configs, records), format);
}

function reportDoc(exp: Experiment, configs: readonly SimConfig[], records: readonly (RunRecord | undefined)[]): unknown {
  if (exp.published) return { kind: 'published-table', ...publishedReport(exp, present(records)) };
  return { kind: 'runs', ...runsReport(exp.name, configs, records) };
}

const present = (rs: readonly (RunRecord | undefined)[]): RunRecord[] => rs.filter((r): r is RunRecord => r !== undefined);

/** The experiment to report on: an experiment file, or the manifest a sweep left in the store. */
function experimentForReport(name: string, results: string, experimentsDir: string): Experiment {
  if (findExperimentFile(name, experimentsDir)) return loadExperiment(name, experimentsDir);
  const store = new ResultStore(results, name);
  let raw: unknown;
  try {
    raw = store.readManifest();
  } catch {
    throw new ExperimentError(displayPath(`${store.dir}/experiment.json`), '', 'not valid JSON');
  }
  if (raw === undefined) {
    const names = listExperimentFiles(experimentsDir).map((e) => e.name);
    throw new UsageError(`${name}: no such experiment, and no stored sweep in ${displayPath(store.dir)}; expected one of ${names.join(', ')} or a sweep name`);
  }
  const exp = validateExperiment(raw, displayPath(`${store.dir}/experiment.json`));
  return exp;
}

/** `--where field=value` filters (repeatable). */
function whereOption(raw: string, prev: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = raw.indexOf('=');
  const field = raw.slice(0, eq);
  if (eq <= 0 || !isConfigField(field)) {
    throw new InvalidArgumentError(notAllowed(raw, `field=value with a field among ${CONFIG_FIELDS.join(', ')}`));
  }
  return { ...prev, [field]: parseScalar(raw.slice(eq + 1)) };
}

/** Plots for an ad-hoc sweep: the metric (and the cr3 hit rate) against the first varied numeric field. */
function sweepPlots(configs: readonly SimConfig[]): PlotDef[] {
  const varied = variedOf(configs);
  const xPref: (keyof SimConfig)[] = ['cacheSize', 'mmuPages', 'vcpus', 'tasks', 'groups', 'loops', 'hz', 'memoryMiB'];
  const x = xPref.find((f) => varied.includes(f)) ?? varied[0];
  if (!x) return [];
  const seriesPref: (keyof SimConfig)[] = ['mode', 'tasks', 'groups', ...varied];
  const series = seriesPref.find((f) => f !== x && varied.includes(f) && !(x === 'groups' && f === 'tasks') && !(x === 'tasks' && f === 'groups'));
  const logX = x === 'cacheSize' || x === 'mmuPages';
  const plots: PlotDef[] = [{ x, y: 'metric', ...(series ? { series } : {}), logX, file: `metric-vs-${x}` }];
  if (configs.some((c) => c.mode === 'kvm-paravirt')) plots.push({ x, y: 'hitRate', ...(series ? { series } : {}), logX, file: `hit-rate-vs-${x}` });
  return plots;
}

export function buildProgram(state: { code: number } = { code: 0 }): Command {
  const program = new Command();
  program
    .name('vcpusim')
    .description('Simulate vCPUs of a 2007 KVM/QEMU/native guest: VMX exits, shadow MMU, cr3 cache, i8259A.')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) })
    .addHelpText(
      'after',
      `
Examples:
  vcpusim reproduce                      run the published table and compare
  vcpusim run --mode kvm-trunk --workload ctxswitch --tasks 2
  vcpusim sweep --mode kvm-paravirt --cache-size 1,4,16 --tasks 2,50,200 --loops 100
  vcpusim report cr3-cache-sweep --plot plots
  vcpusim list

Exit codes: 0 ok, 1 some run failed, 2 usage or config error.`,
    );

  // --- run --------------------------------------------------------------------------
  addConfigOptions(program.command('run').description('simulate one configuration and print its statistics'), false)
    .option('--exits', 'also print a per-exit-reason report in the style of perf kvm stat report')
    .option('--json', 'print one JSON document')
    .option('--workers <n>', 'worker threads to spread a multi-vCPU VM over (default 1: this thread; the statistics are the same for any number)', positiveInt('--workers'))
    .addOption(new Option('--placement <how>', 'with --workers: how vCPUs are dealt to threads').choices(PLACEMENTS).default('blocks'))
    .addHelpText(
      'after',
      `
Examples:
  vcpusim run --mode kvm-trunk --workload ctxswitch --tasks 2
  vcpusim run --mode kvm-paravirt --workload hackbench --groups 5 --cache-size 16 --json
  vcpusim run --mode kvm-upstream --workload ctxswitch --tasks 2 --exits
  vcpusim run --mode kvm-paravirt --workload hackbench --groups 50 --vcpus 16 --workers 2`,
    )
    .action(async (opts: Record<string, unknown>) => {
      const cfg = resolveConfig(configFromOptions(opts, false));
      const workers = Math.min((opts.workers as number | undefined) ?? 1, cfg.vcpus);
      let result: RunResult;
      let hostSeconds: number;
      let split: SplitInfo | undefined;
      if (workers > 1) {
        const pool = new SimPool({ threads: workers });
        try {
          const r = await runVmSplit(pool, cfg, placeVcpus(cfg.vcpus, workers, opts.placement as PlacementKind));
          result = r.result;
          hostSeconds = r.hostSeconds;
          split = { workers, quanta: r.quanta };
        } finally {
          await pool.destroy();
        }
      } else {
        const started = process.hrtime.bigint();
        result = simulate(cfg);
        hostSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      }
      if (opts.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else {
        process.stdout.write(formatSummary(result, hostSeconds, split));
        if (opts.exits) process.stdout.write('\n' + formatExitReport(result));
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
    ).option('--name <name>', 'name of the sweep in the store (results/<name>/)', 'sweep'),
  )
    .addHelpText(
      'after',
      `
Every parameter option takes a comma list; the sweep runs every combination.
Finished runs are stored as they finish: an interrupted sweep resumes when run again.

Examples:
  vcpusim sweep --mode kvm-paravirt --workload ctxswitch --cache-size 1,2,4,8 --tasks 2,50,200 --loops 100
  vcpusim sweep --mode kvm-paravirt --workload hackbench --cache-size 1,2,4,8,16,32,64 --groups 1,5,10 --name cr3-hackbench
  vcpusim sweep --mode kvm-trunk,kvm-paravirt --workload hackbench --mmu-pages 64,256,1024 --plot plots --json`,
    )
    .action(async (opts: Record<string, unknown>) => {
      const name = String(opts.name);
      if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new UsageError(`--name: ${notAllowed(name, 'letters, digits, ".", "_" and "-"')}`);
      const fields = configFromOptions(opts, true);
      const grid: Record<string, (string | number | boolean)[]> = {};
      const base: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(fields)) {
        if (Array.isArray(v)) grid[k] = v as (string | number | boolean)[];
        else base[k] = v;
      }
      // Check every point before running any, so a bad value leaves the store untouched.
      const probe: Experiment = { name, description: '', base: base, grid: grid };
      let configs: SimConfig[];
      try {
        configs = expandExperiment(probe);
      } catch (err) {
        // A point that does not resolve: name the option that gave the field.
        if (err instanceof ExperimentError && err.cause instanceof ConfigError) {
          throw new UsageError(`${flagOf(err.cause.field)}: ${err.cause.detail}`);
        }
        throw err;
      }
      const exp: Experiment = {
        ...probe,
        description: `vcpusim sweep ${process.argv.slice(3).join(' ')}`.trim(),
        plots: sweepPlots(configs),
      };
      state.code = await runExperiment(exp, runOpts(opts));
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
    .addHelpText(
      'after',
      `
Examples:
  vcpusim reproduce                          the published table: simulated vs published, error in %
  vcpusim reproduce cr3-cache-sweep --plot plots
  vcpusim reproduce shadow-pool-sweep --format csv
  vcpusim reproduce experiments/my.yaml --fresh --json`,
    )
    .action(async (name: string, opts: Record<string, unknown>) => {
      const exp = loadExperiment(name, String(opts.experiments));
      state.code = await runExperiment(exp, runOpts(opts));
    });

  // --- report -----------------------------------------------------------------------
  program
    .command('report')
    .argument('[experiment]', 'experiment or sweep name', 'published-table')
    .description('render stored results of an experiment or sweep: table, json, csv, md, SVG plots, exit reports')
    .option('--results <dir>', 'result store directory', DEFAULT_RESULTS_DIR)
    .option('--experiments <dir>', 'directory of experiment files', defaultExperimentsDir())
    .addOption(new Option('--format <format>', 'report format').choices(FORMATS).default('table'))
    .option('--json', 'print one JSON document on stdout (same as --format json)')
    .option('--plot <dir>', "write the experiment's SVG plots into <dir>")
    .option('--exits', 'print an exit report (perf kvm stat style) for each stored run')
    .option('--where <field=value>', 'only runs whose config has field=value (repeatable)', whereOption)
    .addHelpText(
      'after',
      `
Examples:
  vcpusim report                              the published table from stored results
  vcpusim report --format md
  vcpusim report cr3-cache-sweep --plot docs/plots
  vcpusim report published-table --exits --where mode=kvm-trunk --where workload=ctxswitch
  vcpusim report sweep --format csv`,
    )
    .action(async (name: string, opts: Record<string, unknown>) => {
      const exp = experimentForReport(name, String(opts.results), String(opts.experiments));
      const store = new ResultStore(String(opts.results), exp.name);
      const where = (opts.where as Partial<SimConfig>) ?? {};
      const configs = expandExperiment(exp).filter((c) => matches(c, where));
      const records = configs.map((c) => store.get(c));
      const stored = present(records);
      const format: Format = opts.json ? 'json' : (opts.format as Format);
      if (stored.length === 0) {
        process.stderr.write(`${exp.name}: no stored results in ${displayPath(store.dir)}${Object.keys(where).length ? ' matching --where' : ''}; run \`vcpusim reproduce ${exp.name}\` first\n`);
        state.code = 1;
        if (format === 'json') process.stdout.write(JSON.stringify({ schemaVersion: SCHEMA_VERSION, modelVersion: MODEL_VERSION, experiment: exp.name, report: null }) + '\n');
        return;
      }
      if (configs.length > stored.length) {
        process.stderr.write(`${exp.name}: ${configs.length - stored.length} of ${configs.length} runs have no stored result\n`);
      }
      const plots = opts.plot ? await writePlots(exp, stored, opts.plot as string) : [];
      if (opts.exits) {
        if (format === 'json') {
          const doc = { schemaVersion: SCHEMA_VERSION, modelVersion: MODEL_VERSION, experiment: exp.name, exits: stored.map((r) => ({ key: r.key, config: r.config, ...exitReport(r.result) })) };
          process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
        } else {
          process.stdout.write(stored.map((r) => formatExitReport(r.result)).join('\n'));
        }
      } else if (format === 'json') {
        const doc = { schemaVersion: SCHEMA_VERSION, modelVersion: MODEL_VERSION, experiment: exp.name, results: store.dir, plots, report: reportDoc(exp, configs, records) };
        process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
      } else {
        process.stdout.write(renderReport(exp, configs, records, format));
      }
      for (const f of plots) process.stderr.write(`wrote ${displayPath(f)}\n`);
    });

  // --- list -------------------------------------------------------------------------
  program
    .command('list')
    .description('list experiments, modes, workloads and cost profiles')
    .option('--experiments <dir>', 'directory of experiment files', defaultExperimentsDir())
    .option('--json', 'print one JSON document')
    .addHelpText('after', '\nExamples:\n  vcpusim list\n  vcpusim list --json')
    .action((opts: Record<string, unknown>) => {
      const experiments = listExperimentFiles(String(opts.experiments)).map(({ name, file }) => {
        try {
          const e = loadExperimentFile(file);
          return { name, description: e.description, runs: expandExperiment(e).length };
        } catch (err) {
          return { name, error: err instanceof Error ? err.message : String(err) };
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
    .option('--max-evals <n>', 'objective evaluations (default: the spec\'s maxEvaluations)', positiveInt('--max-evals'))
    .option('--out <file>', 'where to write the fitted profile (default: profiles/<name>.json)')
    .option('--start <profile>', "start from this profile's values of the free costs (default: the spec's base)")
    .option('--workers <n>', 'worker threads for the runs of an evaluation (default: one per core; 1 runs in this thread)', positiveInt('--workers'))
    .option('--dry-run', 'fit and report, write nothing')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      '\nExamples:\n  vcpusim calibrate\n  vcpusim calibrate core2-2007 --max-evals 40 --dry-run\n\nEach evaluation simulates every target cell once per seed, over the worker threads; progress goes to stderr.',
    )
    .action(async (specName: string, opts: Record<string, unknown>) => {
      const file = findCalibrationSpec(specName);
      if (!file) throw new UsageError(`calibrate: no spec ${JSON.stringify(specName)}; expected a name in experiments/calibration/ or a path to a .yaml file`);
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

function runOpts(opts: Record<string, unknown>): RunExperimentOptions {
  return {
    results: resolve(String(opts.results)),
    fresh: opts.fresh === true,
    workers: opts.workers as number | undefined,
    retries: opts.retries as number | undefined,
    json: opts.json === true,
    format: opts.format as Format,
    plot: opts.plot as string | undefined,
  };
}

export async function main(argv: string[]): Promise<number> {
  const state = { code: 0 };
  const program = buildProgram(state);
  try {
    await program.parseAsync(argv);
    return state.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`error: ${flagOf(err.field)}: ${err.detail}\n`);
      return 2;
    }
    if (err instanceof ExperimentError || err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`error: the run failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);

/** A calibration spec by name (experiments/calibration/<name>.yaml) or path. */
function findCalibrationSpec(nameOrPath: string): string | undefined {
  if (/\.ya?ml$/.test(nameOrPath) && existsSync(nameOrPath)) return nameOrPath;
  const p = join(defaultExperimentsDir(), 'calibration', `${nameOrPath}.yaml`);
  return existsSync(p) ? p : undefined;
}
