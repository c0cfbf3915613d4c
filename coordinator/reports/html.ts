/**
 * `report --html DIR`: one self-contained `DIR/index.html` with what the other report
 * forms print: the published-vs-simulated table (or the table of runs), the experiment's
 * plots as inline SVG, the exit report of every run (perf kvm stat style) and every run's
 * config. No external URL, no script, inline CSS only; every text from an experiment file
 * or a config (names, labels, trace paths) is escaped, so it shows as text.
 */
import { join } from 'node:path';
import type { SimConfig } from '../../shared/config.js';
import { MODEL_VERSION } from '../../worker/model.js';
import { describeConfig } from '../experiments/expand.js';
import type { Experiment } from '../experiments/schema.js';
import { checkDirPath, ensureDir, FileProblem, lstatOrUndefined, probeDirPath, probeWritable, writeFileAtomic } from '../store/files.js';
import type { RunRecord } from '../store/record.js';
import { DEFAULT_EXIT_VIEW, formatExitView, viewProblem, type ExitView } from './exits.js';
import { fmtNum, fmtPct } from './format.js';
import { fieldTitle } from './measures.js';
import { renderPlots } from './plots.js';
import { publishedReport, type PublishedReport } from './published.js';
import { fieldCell, runsReport, type RunsReport } from './tables.js';

export const HTML_FILE = 'index.html';

/** Text for HTML text and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
const e = (v: unknown): string => escapeHtml(String(v));
const num = (v: number | null): string => (v === null ? '' : e(v));

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.25em .6em}
td.num{text-align:right;font-variant-numeric:tabular-nums}pre{background:#f6f6f6;padding:.6em;overflow:auto}
section.plot svg{max-width:100%;height:auto}details.run{margin:.3em 0}summary{cursor:pointer}`;

function publishedTable(rep: PublishedReport): string {
  const head = '<tr><th>row</th><th>unit</th><th>mode</th><th>published</th><th>simulated</th><th>95% interval</th><th>n</th><th>error</th><th>exits/switch</th></tr>';
  const rows = rep.rows.flatMap((row, i) =>
    row.cells.map(
      (c) =>
        `<tr data-key="${e(`${i}:${c.mode}`)}" data-row="${e(row.label)}" data-mode="${e(c.mode)}">` +
        `<td class="label">${e(row.label)}</td><td class="unit">${e(row.unit)}</td><td class="mode">${e(c.mode)}</td>` +
        `<td class="num published" data-value="${num(c.published)}">${c.published === null ? '-' : e(c.published)}</td>` +
        `<td class="num simulated" data-value="${num(c.simulated)}">${e(fmtNum(c.simulated, 4))}</td>` +
        `<td class="num ci95" data-value="${num(c.ci95)}">${c.ci95 === null ? '-' : `±${e(fmtNum(c.ci95, 2))}`}</td>` +
        `<td class="num n">${c.n}</td><td class="num error" data-value="${num(c.errorPct)}">${e(fmtPct(c.errorPct))}</td>` +
        `<td class="num eps" data-value="${num(c.exitsPerSwitch)}">${e(fmtNum(c.exitsPerSwitch))}</td></tr>`,
    ),
  );
  return `<section class="table"><h2>Simulated vs published</h2><table id="published"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table><p class="source">published: ${e(rep.source)}</p></section>`;
}

function runsTable(rep: RunsReport): string {
  const measures = [
    ['metric', 'metric'],
    ['hitRate', 'hit rate %'],
    ['exitsPerSwitch', 'exits/switch'],
    ['exits', 'exits'],
    ['shadowFaults', 'shadow faults'],
    ['pagesEvicted', 'evicted'],
  ] as const;
  const head = `<tr>${rep.fields.map((f) => `<th>${e(fieldTitle(f))}</th>`).join('')}${measures.map(([, t]) => `<th>${e(t)}</th>`).join('')}<th>unit</th>${rep.replicates ? '<th>n</th>' : ''}</tr>`;
  const rows = rep.runs.map(
    (r) =>
      `<tr data-key="${e(r.key)}">${rep.fields.map((f) => `<td class="field" data-field="${e(f)}">${e(fieldCell(f, r.config))}</td>`).join('')}` +
      measures.map(([m]) => `<td class="num ${m}" data-value="${num(r.values[m])}">${e(fmtNum(r.values[m], 4))}${r.ci95?.[m] ? ` ±${e(fmtNum(r.ci95[m], 2))}` : ''}</td>`).join('') +
      `<td class="unit">${e(r.metricUnit)}</td>${rep.replicates ? `<td class="num n">${r.n}</td>` : ''}</tr>`,
  );
  const missing = rep.missing.length ? `<p class="missing">${rep.missing.length} run${rep.missing.length > 1 ? 's have' : ' has'} no stored result</p>` : '';
  return `<section class="table"><h2>Runs</h2><table id="runs"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>${missing}</section>`;
}

/** The exit report of a run in the given view, or why the view does not apply to it (a vCPU it lacks). */
function exitText(r: RunRecord, view: ExitView): string {
  return viewProblem(r.result, view) ?? formatExitView(r.result, view);
}

/**
 * The whole page for an experiment's stored runs. `configs` is the experiment's expansion
 * (after --where) and `records` its stored record or undefined, in the same order.
 */
export async function buildHtmlReport(exp: Experiment, configs: readonly SimConfig[], records: readonly (RunRecord | undefined)[], view: ExitView = DEFAULT_EXIT_VIEW): Promise<string> {
  const stored = records.filter((r): r is RunRecord => r !== undefined);
  const runs = runsReport(exp.name, configs, records, exp.seeds);
  const table = exp.published ? publishedTable(publishedReport(exp, stored)) : runsTable(runs);
  const plots = (await renderPlots(exp, stored)).map((p) => `<section class="plot" data-name="${e(p.name)}"><h3>${e(p.name)}</h3>${p.svg}</section>`);
  const exits = stored.map((r) => `<div class="exit" data-key="${e(r.key)}"><h3>${e(describeConfig(r.config, runs.fields))}</h3><pre>${e(exitText(r, view))}</pre></div>`);
  const configBlocks = stored.map(
    (r) =>
      `<details class="run" data-key="${e(r.key)}"><summary>${e(describeConfig(r.config, runs.fields))} <code>${e(r.key)}</code></summary>` +
      `<pre class="config">${e(JSON.stringify(r.config, null, 2))}</pre></details>`,
  );
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${e(exp.name)}: vcpusim report</title><style>${CSS}</style></head><body>`,
    `<h1 id="experiment">${e(exp.name)}</h1>`,
    exp.description ? `<p class="description">${e(exp.description)}</p>` : '',
    `<p class="meta">model ${e(MODEL_VERSION)}; ${stored.length} of ${configs.length} runs stored</p>`,
    table,
    plots.length ? `<h2>Plots</h2>${plots.join('\n')}` : '',
    `<section class="exits"><h2>Exit reports</h2>${exits.join('\n')}</section>`,
    `<section class="configs"><h2>Runs and their configs</h2>${configBlocks.join('\n')}</section>`,
    '</body></html>',
    '',
  ].join('\n');
}

/** Check, make and probe the directory the page is written into (as --plot's). Throws FileProblem. */
export function prepareHtmlDir(dir: string): void {
  checkDirPath(dir, HTML_FILE);
  const file = join(dir, HTML_FILE);
  if (lstatOrUndefined(file)?.isDirectory()) throw new FileProblem(file, 'is a directory, where the HTML report should be written');
  probeDirPath(dir, HTML_FILE);
  ensureDir(dir);
  probeWritable(dir, HTML_FILE);
}

/** Write `dir/index.html` atomically; returns its path. */
export async function writeHtmlReport(exp: Experiment, configs: readonly SimConfig[], records: readonly (RunRecord | undefined)[], dir: string, view?: ExitView): Promise<string> {
  const html = await buildHtmlReport(exp, configs, records, view);
  prepareHtmlDir(dir);
  const file = join(dir, HTML_FILE);
  writeFileAtomic(file, html);
  return file;
}
