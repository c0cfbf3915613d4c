/**
 * `vcpusim report [experiment]`: the stored runs of an experiment or a sweep, run nothing:
 * the published table or the table of runs in any format, the plots, the exit reports,
 * the long (tidy) CSV, or one self-contained HTML page.
 */
import type { SimConfig } from '../../shared/config.js';
import { UsageError } from '../../shared/errors.js';
import { SCHEMA_VERSION } from '../../shared/stats.js';
import { MODEL_VERSION } from '../../worker/model.js';
import { renderReport, reportDoc } from '../cli/experiment-run.js';
import { failed, ok, type Outcome } from '../cli/outcome.js';
import { expand, matches } from '../experiments/expand.js';
import { experimentsDirOf, isExperimentPath } from '../experiments/load.js';
import { experimentForReport } from '../experiments/resolve.js';
import type { ExitView } from '../reports/exits.js';
import type { Format } from '../reports/format.js';
import { HTML_ALLOWED, PLOT_ALLOWED, RESULTS_ALLOWED, checkPath, displayPath } from '../store/files.js';
import type { RunRecord } from '../store/record.js';
import { ResultStore } from '../store/store.js';
import { withSeeds } from './reproduce.js';

export interface ReportOptions {
  results: string;
  experiments: string;
  format: Format;
  plot?: string;
  html?: string;
  /** --exits: the exit reports instead of the table. */
  exits: boolean;
  /** The exit reports' view (also the HTML page's); throws on an exit option without --exits. */
  exitView: () => ExitView;
  where: Partial<SimConfig>;
  seeds?: number;
  tidy: boolean;
}

export async function reportCommand(name: string, o: ReportOptions): Promise<Outcome> {
  const exitView = o.exitView();
  const exp = experimentForReport(name, o.results, isExperimentPath(name) ? o.experiments : experimentsDirOf(o.experiments));
  withSeeds(exp, o.seeds);
  const store = new ResultStore(o.results, exp.name);
  checkPath('--results', RESULTS_ALLOWED, () => store.check());
  const configs = expand(exp).configs.filter((c) => matches(c, o.where));
  const { preparePlotDir, writePlots } = await import('../reports/plots.js');
  const { prepareHtmlDir, writeHtmlReport } = await import('../reports/html.js');
  if (o.plot) checkPath('--plot', PLOT_ALLOWED, () => preparePlotDir(exp, o.plot!));
  if (o.html) checkPath('--html', HTML_ALLOWED, () => prepareHtmlDir(o.html!));
  const records = configs.map((c) => {
    const l = store.lookup(c);
    if (l.kind === 'invalid' || l.kind === 'blocked') process.stderr.write(`${displayPath(l.path)}: ${l.reason}; it is left out (run the experiment again to replace it)\n`);
    return l.kind === 'record' ? l.record : undefined;
  });
  const stored = records.filter((r): r is RunRecord => r !== undefined);
  if (stored.length === 0) {
    process.stderr.write(`${exp.name}: no stored results in ${displayPath(store.dir)}${Object.keys(o.where).length ? ' matching --where' : ''}; run \`vcpusim reproduce ${exp.name}\` first\n`);
    return failed(o.format === 'json' ? JSON.stringify({ schemaVersion: SCHEMA_VERSION, modelVersion: MODEL_VERSION, experiment: exp.name, report: null }) + '\n' : undefined);
  }
  if (configs.length > stored.length) process.stderr.write(`${exp.name}: ${configs.length - stored.length} of ${configs.length} runs have no stored result\n`);
  const plots = o.plot ? await writePlots(exp, stored, o.plot) : [];
  const html = o.html ? await writeHtmlReport(exp, configs, records, o.html, exitView) : undefined;
  if (o.tidy && o.format !== 'csv') throw new UsageError({ option: '--tidy', value: o.format, allowed: 'it applies with --format csv', detail: `has no effect with ${o.format}; it applies with --format csv` });
  let out: string;
  if (o.tidy) out = (await import('../reports/tidy.js')).formatTidy(stored);
  else if (o.exits) {
    if (o.format === 'md') throw new UsageError({ option: '--format', value: o.format, allowed: 'table, csv or json with --exits' });
    out = (await import('../reports/exits.js')).reportExits(stored, exitView, o.format, exp.name);
  } else if (o.format === 'json') {
    out = JSON.stringify({ schemaVersion: SCHEMA_VERSION, modelVersion: MODEL_VERSION, experiment: exp.name, results: store.dir, plots, report: reportDoc(exp, configs, records) }, null, 2) + '\n';
  } else out = renderReport(exp, configs, records, o.format);
  for (const f of plots) process.stderr.write(`wrote ${displayPath(f)}\n`);
  if (html) process.stderr.write(`wrote ${displayPath(html)}\n`);
  return ok(out);
}
