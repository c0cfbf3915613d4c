/**
 * What `sweep` and `reproduce` do once they know the experiment: check every path before
 * the first run, run the configs the store lacks into it (this machine's threads, or a
 * queue), stop at once on a signal with every finished run kept, then print the report
 * (and write the plots). `--dry-run` prints the plan instead, touching nothing.
 */
import type { SimConfig } from '../../shared/config.js';
import { SCHEMA_VERSION } from '../../shared/stats.js';
import { MODEL_VERSION } from '../../worker/model.js';
import type { Runner } from '../execution/runner.js';
import { describeConfig, pointsWords, variedFields, type Expansion } from '../experiments/expand.js';
import type { Experiment } from '../experiments/schema.js';
import type { QueueTarget } from '../queue/url.js';
import type { Format } from '../reports/format.js';
import { publishedReport, formatPublished } from '../reports/published.js';
import { formatRuns, runsReport } from '../reports/tables.js';
import { FileProblem, PLOT_ALLOWED, RESULTS_ALLOWED, checkPath, displayPath } from '../store/files.js';
import type { RunRecord } from '../store/record.js';
import { ResultStore } from '../store/store.js';
import { UsageError } from '../../shared/errors.js';
import { flagOf } from '../../shared/config-fields.js';
import { failed, ok, stopOnSignals, type Outcome } from './outcome.js';

import { createProgress, progressWanted } from './progress.js';

export interface ExperimentRunOptions {
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

const present = (rs: readonly (RunRecord | undefined)[]): RunRecord[] => rs.filter((r): r is RunRecord => r !== undefined);

/** An experiment's report in a format: the published table, or the table of runs. */
export function renderReport(exp: Experiment, configs: readonly SimConfig[], records: readonly (RunRecord | undefined)[], format: Format): string {
  if (exp.published) return formatPublished(publishedReport(exp, present(records)), format);
  return formatRuns(runsReport(exp.name, configs, records, exp.seeds), format);
}

/** The same as the `report` member of a JSON document. */
export function reportDoc(exp: Experiment, configs: readonly SimConfig[], records: readonly (RunRecord | undefined)[]): unknown {
  if (exp.published) return { kind: 'published-table', ...publishedReport(exp, present(records)) };
  return { kind: 'runs', ...runsReport(exp.name, configs, records, exp.seeds) };
}

/**
 * Run an experiment's configs into the store (skipping stored ones), then report it.
 * Every path is checked before the first run. Fails (exit 1) if any run failed.
 */
export async function runExperiment(exp: Experiment, expansion: Expansion, opts: ExperimentRunOptions): Promise<Outcome> {
  const { configs } = expansion;
  const store = new ResultStore(opts.results, exp.name);
  const json = opts.json === true || opts.format === 'json';
  if (opts.dryRun) return printPlan(exp, expansion, store, opts, json);
  // Both paths checked, leaving nothing behind, before either is made.
  const plotDir = opts.plot;
  const { checkPlotDir, preparePlotDir, writePlots } = await import('../reports/plots.js');
  const { executeConfigs } = await import('../execution/execute.js');
  checkPath('--results', RESULTS_ALLOWED, () => store.checkWritable());
  if (plotDir) checkPath('--plot', PLOT_ALLOWED, () => checkPlotDir(exp, plotDir));
  const removed = checkPath('--results', RESULTS_ALLOWED, () => store.prepare());
  if (plotDir) checkPath('--plot', PLOT_ALLOWED, () => preparePlotDir(exp, plotDir));
  const { file: _file, ...manifest } = exp;
  checkPath('--results', RESULTS_ALLOWED, () => store.writeManifest(manifest));
  if (removed.length) process.stderr.write(`${displayPath(store.dir)}: removed ${removed.length} temp file${removed.length > 1 ? 's' : ''} left by a process that is gone\n`);

  const fields = variedFields(configs);
  const progress = createProgress(configs.length, { enabled: progressWanted(json), title: exp.name });
  let runner: Runner | undefined;
  const makeRunner = async (): Promise<() => Runner> => {
    if (opts.queue) {
      const { QueueRunner } = await import('../queue/producer.js');
      const target = opts.queue;
      return () => (runner = new QueueRunner(target, { fresh: opts.fresh }));
    }
    // Runs go to worker threads even with --workers 1: this thread must stay free to take a Ctrl-C.
    const [{ LocalRunner }, { MAX_WORKERS, defaultWorkers }] = await Promise.all([import('../execution/local.js'), import('../execution/limits.js')]);
    return () => (runner = new LocalRunner({ threads: Math.min(opts.workers ?? defaultWorkers(), MAX_WORKERS) }));
  };
  const runnerFor = await makeRunner();
  let stored = 0;
  const unhook = stopOnSignals(
    json,
    (signal) => `interrupted by ${signal}: ${stored} finished run${stored === 1 ? ' is' : 's are'} stored in ${displayPath(store.dir)}; run the same command again to resume`,
    () => progress.stop(),
  );
  let summary;
  try {
    summary = await executeConfigs(configs, {
      store,
      runner: runnerFor,
      fresh: opts.fresh,
      retries: opts.retries,
      onStalled: (cfg) => progress.log(`a worker stopped answering; queued again: ${describeConfig(cfg, fields)}`),
      onNotice: (line) => progress.log(line),
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
    await runner?.close();
  }
  const records = summary.records;
  const merged = expansion.merged ? ` (${pointsWords(expansion.points)}, ${expansion.merged} the same config as another once the fields they ignore are set to their defaults)` : '';
  const line = `${exp.name}: ${summary.total} configs${merged}, ${summary.ran} run, ${summary.skipped} already stored, ${summary.failed.length} failed (store: ${displayPath(store.dir)})`;
  const plots = opts.plot ? await writePlots(exp, present(records), opts.plot) : [];
  const done = summary.failed.length ? failed : ok;
  process.stderr.write(line + '\n');
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
    return done(JSON.stringify(doc, null, 2) + '\n');
  }
  for (const f of plots) process.stderr.write(`wrote ${displayPath(f)}\n`);
  return done(renderReport(exp, configs, records, opts.format));
}

/** --dry-run: the plan (experiments/plan.ts), read from the store without writing to it. */
async function printPlan(exp: Experiment, expansion: Expansion, store: ResultStore, opts: ExperimentRunOptions, json: boolean): Promise<Outcome> {
  const { formatPlan, makePlan } = await import('../experiments/plan.js');
  const { defaultWorkers } = await import('../execution/limits.js');
  const plan = makePlan(exp.name, expansion, store, { fresh: opts.fresh === true, workers: opts.workers ?? defaultWorkers() });
  const fields = variedFields(expansion.configs);
  if (json) return ok(JSON.stringify({ schemaVersion: SCHEMA_VERSION, modelVersion: MODEL_VERSION, plan: { ...plan, results: displayPath(plan.results) } }, null, 2) + '\n');
  return ok(formatPlan({ ...plan, results: displayPath(plan.results) }, (c) => describeConfig(c, fields)));
}
