#!/usr/bin/env node
/**
 * Every figure of the model that the docs quote is made here, from the current build, so
 * that none can go stale: `npm run docs` rewrites each generated block of the docs (and
 * docs/cli.md, whole, from the commander program) and a test (test/docs/figures.sim.test.ts)
 * regenerates the cheap ones and checks that every block was made by this model version
 * with these cost profiles.
 *
 * A block is the text between `<!-- figures: ID ... -->` and `<!-- /figures -->`; its header
 * line records the model version and a hash of the cost profiles it was made with.
 *
 *   node scripts/doc-figures.js            rewrite every block (after npm run build)
 *   node scripts/doc-figures.js --cheap    only the blocks that take a second or two
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);

const { MODEL_VERSION } = await dist('worker/model.js');
const { PROFILES } = await dist('shared/costs.js');
const { resolveConfig } = await dist('shared/config.js');
const { loadExperiment, listExperimentFiles } = await dist('coordinator/experiments/load.js');
const { expand } = await dist('coordinator/experiments/expand.js');
const { configKey } = await dist('coordinator/store/record.js');
const { renderReport } = await dist('coordinator/cli/experiment-run.js');
const { publishedReport } = await dist('coordinator/reports/published.js');
const { fmtNum, fmtPct } = await dist('coordinator/reports/format.js');
const { LocalRunner } = await dist('coordinator/execution/local.js');

/** What the figures were made with: the model version and the cost profiles. */
export const STAMP = `${MODEL_VERSION} · profiles ${createHash('sha256').update(JSON.stringify(PROFILES)).digest('hex').slice(0, 12)}`;

/** Run configs on this machine's threads; records as the store would hold them. */
async function runRecords(configs) {
  const runner = new LocalRunner({ threads: 2 });
  try {
    const outs = await runner.runAll(configs);
    return outs.map((o) => {
      if (!o.result) throw new Error(`a run failed: ${o.error}`);
      return { key: configKey(o.config), modelVersion: MODEL_VERSION, config: o.config, result: o.result };
    });
  } finally {
    await runner.close();
  }
}

/** The published table as the README shows it: one line per cell. */
async function publishedTable() {
  const exp = loadExperiment('published-table');
  const configs = expand(exp).configs;
  const rep = publishedReport(exp, await runRecords(configs));
  const seeds = exp.seeds ?? 1;
  const lines = [
    `| cell | published | simulated${seeds > 1 ? ` (mean of seeds 1–${seeds}, ± 95%)` : ''} | error | exits per switch |`,
    '|---|---:|---:|---:|---:|',
  ];
  for (const row of rep.rows) {
    for (const c of row.cells) {
      const sim = `${fmtNum(c.simulated, 4)}${c.ci95 !== null ? ` ± ${fmtNum(c.ci95, 2)}` : ''}`;
      lines.push(`| ${row.label}, ${c.mode} (${row.unit}) | ${c.published ?? '-'} | ${sim} | ${fmtPct(c.errorPct)} | ${fmtNum(c.exitsPerSwitch)} |`);
    }
  }
  return lines.join('\n');
}

/** An experiment's report table (`vcpusim reproduce NAME --format md`). */
async function experimentTable(name) {
  const exp = loadExperiment(name);
  const configs = expand(exp).configs;
  return renderReport(exp, configs, await runRecords(configs), 'md').trimEnd();
}

/** The worked sweep of docs/experiments.md. */
async function workedSweep() {
  const exp = {
    name: 'cr3-example',
    description: 'worked sweep',
    base: { mode: 'kvm-paravirt', workload: 'ctxswitch', loops: 500 },
    grid: { tasks: [2, 4, 8, 16], cacheSize: [1, 2, 4, 8, 16] },
  };
  const configs = expand(exp).configs;
  const records = await runRecords(configs);
  // Its plots beside the page, as `sweep --plot docs/sweep-example` writes them.
  const { sweepPlots } = await dist('coordinator/commands/sweep.js');
  const { writePlots } = await dist('coordinator/reports/plots.js');
  await writePlots({ ...exp, plots: sweepPlots(configs) }, records, join(ROOT, 'docs', 'sweep-example'));
  return renderReport(exp, configs, records, 'md').trimEnd();
}

/** An experiment of docs/modern.md: its table, and its plots written beside the page (docs/modern/NAME/). */
async function modernExperiment(name) {
  const exp = loadExperiment(name);
  const configs = expand(exp).configs;
  const records = await runRecords(configs);
  const { writePlots } = await dist('coordinator/reports/plots.js');
  await writePlots(exp, records, join(ROOT, 'docs', 'modern', name));
  return renderReport(exp, configs, records, 'md').trimEnd();
}

/** The same workload's exits under EPT and under today's shadow MMU (docs/modern.md), as `report --exits` prints them. */
async function exitsEptVsShadow() {
  const { formatExitView, DEFAULT_EXIT_VIEW } = await dist('coordinator/reports/exits.js');
  const base = { profile: 'skylake-sp-2017', workload: 'fork', kpti: true, loops: 200 };
  const [ept, shadow] = await runRecords([resolveConfig({ ...base, mode: 'kvm-ept' }), resolveConfig({ ...base, mode: 'kvm-shadow' })]);
  const view = (r) => formatExitView(r.result, DEFAULT_EXIT_VIEW).trimEnd();
  const kvmStat = (r) => formatExitView(r.result, { ...DEFAULT_EXIT_VIEW, event: 'kvm_stat' }).trimEnd();
  return ['```', view(ept), '', view(shadow), '```', '', '```', kvmStat(ept), '', kvmStat(shadow), '```'].join('\n');
}

/** A profile's costs of a core and a KVM of today (docs/modern.md): each value and its source. */
function profileCosts(name) {
  const file = JSON.parse(readFileSync(join(ROOT, 'profiles', `${name}.json`), 'utf8'));
  const lines = [`Features: ${Object.entries(file.features).map(([f, on]) => `${f} ${on ? 'yes' : 'no'}`).join(', ')}.`, '', '| cost | value | without mitigations | source |', '|---|---:|---:|---|'];
  for (const [cost, c] of Object.entries(file.costs)) {
    if (c.note.startsWith('carried from')) continue;
    lines.push(`| \`${cost}\` | ${c.value} | ${c.off ? c.off.value : ''} | ${c.note.replace(/\|/g, '/')}${c.off ? ` — without: ${c.off.note.replace(/\|/g, '/')}` : ''} |`);
  }
  const carried = Object.entries(file.costs).filter(([, c]) => c.note.startsWith('carried from')).map(([cost]) => `\`${cost}\``);
  lines.push('', `Carried from \`core2-2007-fitted\` (the guest's kernel paths and QEMU's, in cycles; no measurement of them on this core): ${carried.join(', ')}.`);
  return lines.join('\n');
}

/** A pipe ping-pong on one vCPU and across two at the default quantum (docs/model.md). */
async function smpPipe() {
  const one = resolveConfig({ mode: 'kvm-paravirt', workload: 'pipe', mmuPages: 2048 });
  const two = resolveConfig({ mode: 'kvm-paravirt', workload: 'pipe', mmuPages: 2048, vcpus: 2 });
  const [a, b] = await runRecords([one, two]);
  return `| pipe ping-pong, kvm-paravirt | µs per round trip |\n|---|---:|\n| one vCPU | ${fmtNum(a.result.metric.value, 4)} |\n| two vCPUs, quantum ${two.quantum} µs | ${fmtNum(b.result.metric.value, 4)} |`;
}

/** The fitted costs and the residuals of the fit, from the fitted profile's own record of it. */
function fitTables() {
  const file = JSON.parse(readFileSync(join(ROOT, 'profiles', 'core2-2007-fitted.json'), 'utf8'));
  const lines = ['| cost | fitted (cycles) | bounds and reason |', '|---|---:|---|'];
  for (const [name, c] of Object.entries(file.costs)) lines.push(`| \`${name}\` | ${c.value} | ${c.note.replace(/^fitted by vcpusim calibrate to [\w-]+ /, '')} |`);
  lines.push('', `Mean squared log error ${file.fit.objective.toFixed(4)} over the seed means (${file.fit.evaluations} evaluations, seeds 1–${file.fit.seeds}).`, '');
  lines.push('| cell | published | simulated (mean of seeds) | error | lowest – highest seed |', '|---|---:|---:|---:|---:|');
  for (const c of file.fit.cells) lines.push(`| ${c.label}, ${c.mode} | ${c.published} | ${fmtNum(c.simulated, 4)} | ${fmtPct(c.errorPct)} | ${fmtNum(c.seedMin, 4)} – ${fmtNum(c.seedMax, 4)} |`);
  return lines.join('\n');
}

/** The calibration spec's predictions (the runs of experiments/predictions-2007.yaml) with the fitted profile: mean and spread over the experiment's seeds. */
async function predictions() {
  const { loadCalibrationSpec, predictionConfigs } = await dist('coordinator/calibration/spec.js');
  const { describePrediction } = await dist('coordinator/calibration/format.js');
  const spec = loadCalibrationSpec(join(ROOT, 'experiments', 'calibration', 'core2-2007.yaml'));
  const seeds = typeof spec.predictions === 'string' ? (loadExperiment(spec.predictions).seeds ?? 1) : (spec.seeds ?? 1);
  const configs = predictionConfigs(spec, spec.name);
  const all = await runRecords(configs.flatMap((c) => Array.from({ length: seeds }, (_, i) => ({ ...c, seed: i + 1 }))));
  const lines = [`| configuration | predicted (mean of seeds 1–${seeds}) | lowest – highest seed |`, '|---|---:|---:|'];
  configs.forEach((c, i) => {
    const v = all.slice(i * seeds, (i + 1) * seeds).map((r) => r.result.metric.value);
    const mean = v.reduce((a, x) => a + x, 0) / v.length;
    lines.push(`| ${describePrediction(c)} | ${fmtNum(mean, 4)} ${all[i * seeds].result.metric.unit} | ${fmtNum(Math.min(...v), 4)} – ${fmtNum(Math.max(...v), 4)} |`);
  });
  return lines.join('\n');
}

/** docs/cli.md: every command's --help as commander prints it, at a width of 100 columns. */
export async function cliDoc() {
  const { buildProgram } = await dist('coordinator/cli/program.js');
  const program = buildProgram();
  const parts = [
    '# Command-line reference',
    '',
    'Generated from the program itself by `npm run docs` (scripts/doc-figures.js); a test checks',
    'that it matches. How the commands are used together is in [usage.md](usage.md).',
    '',
  ];
  const walk = (cmd, path) => {
    let text = '';
    cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: () => {}, getOutHelpWidth: () => 100 });
    cmd.outputHelp();
    parts.push(`## ${path}`, '', '```', text.trimEnd(), '```', '');
    for (const sub of cmd.commands) walk(sub, `${path} ${sub.name()}`);
  };
  walk(program, 'vcpusim');
  return parts.join('\n');
}

/** The generated blocks, each with whether it is cheap enough for the test to make again. */
export const BLOCKS = {
  'published-table': { cheap: true, make: publishedTable },
  'smp-pipe': { cheap: true, make: smpPipe },
  fit: { cheap: true, make: async () => fitTables() },
  'worked-sweep': { cheap: false, make: workedSweep },
  predictions: { cheap: false, make: predictions },
  ...Object.fromEntries(listExperimentFiles().map((e) => [`experiment:${e.name}`, { cheap: false, make: () => experimentTable(e.name) }])),
  'modern:prev-roots-sweep': { cheap: false, make: () => modernExperiment('prev-roots-sweep') },
  'modern:generations': { cheap: false, make: () => modernExperiment('generations') },
  'modern:predictions-today': { cheap: false, make: () => modernExperiment('predictions-today') },
  'exits-ept-vs-shadow': { cheap: false, make: exitsEptVsShadow },
  'profile:skylake-sp-2017': { cheap: true, make: async () => profileCosts('skylake-sp-2017') },
  'profile:zen2-2019': { cheap: true, make: async () => profileCosts('zen2-2019') },
};

/** The files that hold generated blocks. */
export const DOCS = ['README.md', 'docs/experiments.md', 'docs/model.md', 'docs/fidelity.md', 'docs/modern.md'];

const BLOCK = /<!-- figures: ([\w:.-]+)[^>]*-->\n[\s\S]*?<!-- \/figures -->/g;

/** The blocks of a text: id, its stamp, its body. */
export function blocksOf(text) {
  return [...text.matchAll(/<!-- figures: ([\w:.-]+) · (.*?) -->\n([\s\S]*?)\n?<!-- \/figures -->/g)].map((m) => ({ id: m[1], stamp: m[2], body: m[3] }));
}

/** A text with each of its blocks made again by `make(id)` (null: left as it is). */
export async function regenerate(text, make) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(BLOCK)) {
    const id = m[1];
    const body = await make(id);
    out.push(text.slice(last, m.index));
    out.push(body === null ? m[0] : `<!-- figures: ${id} · ${STAMP} -->\n${body}\n<!-- /figures -->`);
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out.join('');
}

async function main() {
  const cheapOnly = process.argv.includes('--cheap');
  for (const file of DOCS) {
    const path = join(ROOT, file);
    const text = readFileSync(path, 'utf8');
    const next = await regenerate(text, async (id) => {
      const b = BLOCKS[id];
      if (!b) throw new Error(`${file}: no generator for the block ${id}`);
      if (cheapOnly && !b.cheap) return null;
      process.stderr.write(`${file}: ${id}\n`);
      return (await b.make()).trimEnd();
    });
    if (next !== text) writeFileSync(path, next);
  }
  writeFileSync(join(ROOT, 'docs', 'cli.md'), await cliDoc());
  process.stderr.write('wrote docs/cli.md\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
