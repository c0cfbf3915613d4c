/**
 * Reports of stored results: the published table (simulated beside published, with the
 * error), a table of any experiment's runs, and a `perf kvm stat report`-style exit report.
 * Formats: table (terminal), json, csv, md.
 */
import { MODES, type Mode, type SimConfig } from '../shared/config.js';
import type { RunResult } from '../shared/stats.js';
import { SCHEMA_VERSION } from '../shared/stats.js';
import { matches, variedFields, type Experiment, type Measure } from './experiments.js';
import { MODEL_VERSION, type RunRecord } from './store.js';
import { groupReplicates, meanCi } from './replicates.js';

export const FORMATS = ['table', 'json', 'csv', 'md'] as const;
export type Format = (typeof FORMATS)[number];

/** One quantity of one run; null where it does not apply (no cr3 lookups, no switches). */
export function measure(r: RunResult, m: Measure): number | null {
  switch (m) {
    case 'metric':
      return r.metric.value;
    case 'hitRate':
      return r.cr3Cache.lookups ? (r.cr3Cache.hits / r.cr3Cache.lookups) * 100 : null;
    case 'exitsPerSwitch':
      return r.guest.contextSwitches ? r.exits.total / r.guest.contextSwitches : null;
    case 'exits':
      return r.exits.total;
    case 'contextSwitches':
      return r.guest.contextSwitches;
    case 'shadowFaults':
      return r.mmu.shadowFaults;
    case 'pagesEvicted':
      return r.mmu.pagesEvicted;
    case 'tlbMisses':
      return r.tlb.misses;
    case 'hostCpu':
      return r.hostCpuUtilisation * 100;
  }
}

/** Titles of the workloads' metrics, by unit (see METRIC_UNITS in plot-check.ts). */
const METRIC_TITLES: Readonly<Record<string, string>> = {
  'us/switch': 'time per context switch (µs)',
  s: 'run time (s)',
  'us/roundtrip': 'time per round trip (µs)',
  'us/pass': 'time per token pass (µs)',
  'us/round': 'time per round (µs)',
  '% host CPU': 'host CPU (%)',
};

/** Axis and column titles of the measures (the metric's title depends on its unit). */
export function measureTitle(m: Measure, metricUnit?: string): string {
  switch (m) {
    case 'metric':
      return metricUnit ? (METRIC_TITLES[metricUnit] ?? `metric (${metricUnit})`) : 'metric (unit per workload)';
    case 'hitRate':
      return 'cr3 cache hit rate (%)';
    case 'exitsPerSwitch':
      return 'VM exits per context switch';
    case 'exits':
      return 'VM exits';
    case 'contextSwitches':
      return 'context switches';
    case 'shadowFaults':
      return 'shadow page faults';
    case 'pagesEvicted':
      return 'shadow pages evicted';
    case 'tlbMisses':
      return 'TLB misses';
    case 'hostCpu':
      return 'host CPU utilisation (%)';
  }
}

/** Titles of config fields for axes, legends and column heads (others show their name). */
const FIELD_TITLES: Readonly<Partial<Record<keyof SimConfig, string>>> = {
  mode: 'mode',
  workload: 'workload',
  tasks: 'tasks',
  groups: 'hackbench groups',
  loops: 'loops',
  thread: 'threads',
  pipe: 'pipes',
  cacheSize: 'cr3 cache size (entries)',
  mmuPages: 'shadow page pool (pages)',
  hz: 'HZ',
  vcpus: 'vCPUs',
  seed: 'seed',
  profile: 'cost profile',
  memoryMiB: 'guest memory (MiB)',
  quantum: 'synchronisation quantum (µs)',
  sndbuf: 'socket send buffer (bytes)',
  io: 'disk reads per pass',
  clocksource: 'clocksource',
};
export const fieldTitle = (f: keyof SimConfig): string => FIELD_TITLES[f] ?? f;

// ---------------------------------------------------------------------------------------
// Published table

export interface PublishedCell {
  mode: Mode;
  published: number | null;
  /** The simulated figure: the mean over the stored seeds of the cell. */
  simulated: number | null;
  /** Half-width of the 95% interval of that mean (null with one seed). */
  ci95: number | null;
  /** Stored seeds behind the figure. */
  n: number;
  /** (simulated - published) / published, in %. */
  errorPct: number | null;
  /** Exits per context switch of the simulated run. */
  exitsPerSwitch: number | null;
}

export interface PublishedRowReport {
  label: string;
  unit: string;
  cells: PublishedCell[];
}

export interface PublishedReport {
  experiment: string;
  source: string;
  modes: Mode[];
  rows: PublishedRowReport[];
}

/** The published figures beside the simulated ones (a missing run gives null cells). */
export function publishedReport(exp: Experiment, records: readonly RunRecord[]): PublishedReport {
  const pub = exp.published!;
  const modes = MODES.filter((m) => pub.rows.some((r) => r.values[m] !== undefined));
  const rows = pub.rows.map((row) => ({
    label: row.label,
    unit: row.unit,
    cells: modes.map((mode): PublishedCell => {
      // Every stored seed of the cell: the figure is their mean.
      const recs = records.filter((r) => r.config.mode === mode && matches(r.config, row.match));
      const published = row.values[mode] ?? null;
      const s = meanCi(recs.map((r) => r.result.metric.value));
      const simulated = s ? s.mean : null;
      const errorPct = simulated !== null && published !== null ? ((simulated - published) / published) * 100 : null;
      const eps = recs.map((r) => measure(r.result, 'exitsPerSwitch')).filter((v): v is number => v !== null);
      return { mode, published, simulated, ci95: s?.ci95 ?? null, n: recs.length, errorPct, exitsPerSwitch: eps.length ? meanCi(eps)!.mean : null };
    }),
  }));
  return { experiment: exp.name, source: pub.source, modes, rows };
}

/** Significant-digit formatting that keeps small and large figures readable. */
export function fmtNum(v: number | null, digits = 3): string {
  if (v === null || !Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1000) return v.toFixed(0);
  return Number(v.toPrecision(digits + (a >= 100 ? 1 : 0))).toString();
}

const fmtPct = (v: number | null) => (v === null ? '-' : `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`);

function alignTable(head: string[], body: string[][], leftCols = 1): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i < leftCols ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n') + '\n';
}

const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function formatPublished(rep: PublishedReport, format: Format): string {
  // With more than one seed per cell the simulated figure is a mean: its interval and n are shown too.
  const replicated = rep.rows.some((row) => row.cells.some((c) => c.n > 1));
  const fmtCi = (c: PublishedCell) => (c.ci95 === null ? `n=${c.n}` : `±${fmtNum(c.ci95, 2)} n=${c.n}`);
  switch (format) {
    case 'json':
      return JSON.stringify({ schemaVersion: SCHEMA_VERSION, modelVersion: MODEL_VERSION, kind: 'published-table', ...rep }, null, 2) + '\n';
    case 'csv': {
      const lines = [replicated ? 'row,unit,mode,published,simulated_mean,simulated_ci95,n,error_pct,exits_per_switch' : 'row,unit,mode,published,simulated,error_pct,exits_per_switch'];
      for (const row of rep.rows) {
        for (const c of row.cells) {
          const sim = replicated ? [c.simulated ?? '', c.ci95 ?? '', c.n] : [c.simulated ?? ''];
          lines.push([csvCell(row.label), csvCell(row.unit), c.mode, c.published ?? '', ...sim, c.errorPct?.toFixed(2) ?? '', c.exitsPerSwitch?.toFixed(3) ?? ''].join(','));
        }
      }
      return lines.join('\n') + '\n';
    }
    case 'md': {
      const head = `| workload | unit | ${rep.modes.join(' | ')} |`;
      const sep = `|---|---|${rep.modes.map(() => '---:').join('|')}|`;
      const body = rep.rows.map(
        (row) => `| ${row.label} | ${row.unit} | ${row.cells.map((c) => `${fmtNum(c.simulated, 4)}${replicated ? ` ${fmtCi(c)}` : ''} (published ${c.published ?? '-'}, ${fmtPct(c.errorPct)})`).join(' | ')} |`,
      );
      return [head, sep, ...body].join('\n') + `\n\nSource of the published figures: ${rep.source}\n`;
    }
    case 'table': {
      const head = ['', ...rep.modes];
      const body: string[][] = [];
      for (const row of rep.rows) {
        body.push([`${row.label} (${row.unit})`, ...rep.modes.map(() => '')]);
        body.push([replicated ? '  simulated (mean)' : '  simulated', ...row.cells.map((c) => fmtNum(c.simulated, 4))]);
        if (replicated) body.push(['  95% interval, n', ...row.cells.map(fmtCi)]);
        body.push(['  published', ...row.cells.map((c) => (c.published === null ? '-' : String(c.published)))]);
        body.push(['  error', ...row.cells.map((c) => fmtPct(c.errorPct))]);
        body.push(['  exits/switch', ...row.cells.map((c) => fmtNum(c.exitsPerSwitch))]);
      }
      return `${rep.experiment}: simulated vs published\n\n${alignTable(head, body)}\npublished: ${rep.source}\n`;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Table of runs (any experiment or sweep)

const RUN_MEASURES: Measure[] = ['metric', 'hitRate', 'exitsPerSwitch', 'exits', 'shadowFaults', 'pagesEvicted'];

export interface RunsReport {
  experiment: string;
  /** Config fields that vary across the runs (the table's leading columns; with replicates, the seed is not one). */
  fields: (keyof SimConfig)[];
  /** With replicates (an experiment's `seeds`), a row is a point: its values are means over its stored seeds. */
  replicates?: true;
  runs: {
    key: string;
    config: SimConfig;
    metricUnit: string;
    values: Record<Measure, number | null>;
    /** With replicates: the stored seeds' keys, how many, and each value's 95% half-width (null with one seed). */
    keys?: string[];
    n?: number;
    ci95?: Record<Measure, number | null>;
  }[];
  /** Configs of the experiment with no stored result. */
  missing: SimConfig[];
}

export function runsReport(name: string, configs: readonly SimConfig[], records: readonly (RunRecord | undefined)[], seeds?: number): RunsReport {
  const replicates = seeds !== undefined;
  const fields = variedFields(configs).filter((f) => !(replicates && f === 'seed'));
  const runs: RunsReport['runs'] = [];
  const missing: SimConfig[] = [];
  const stored: { cfg: SimConfig; rec: RunRecord }[] = [];
  configs.forEach((cfg, i) => {
    const rec = records[i];
    if (!rec) missing.push(cfg);
    else stored.push({ cfg, rec });
  });
  if (!replicates) {
    for (const { cfg, rec } of stored) {
      const values = Object.fromEntries(RUN_MEASURES.map((m) => [m, measure(rec.result, m)])) as Record<Measure, number | null>;
      runs.push({ key: rec.key, config: cfg, metricUnit: rec.result.metric.unit, values });
    }
    return { experiment: name, fields, runs, missing };
  }
  for (const group of groupReplicates(stored, (s) => s.cfg)) {
    const stats = RUN_MEASURES.map((m) => [m, meanCi(group.map((s) => measure(s.rec.result, m)).filter((v): v is number => v !== null))] as const);
    runs.push({
      key: group[0]!.rec.key,
      config: group[0]!.cfg,
      metricUnit: group[0]!.rec.result.metric.unit,
      values: Object.fromEntries(stats.map(([m, s]) => [m, s?.mean ?? null])) as Record<Measure, number | null>,
      keys: group.map((s) => s.rec.key),
      n: group.length,
      ci95: Object.fromEntries(stats.map(([m, s]) => [m, s?.ci95 ?? null])) as Record<Measure, number | null>,
    });
  }
  return { experiment: name, fields, replicates: true, runs, missing };
}

export function formatRuns(rep: RunsReport, format: Format): string {
  if (format === 'json') {
    return JSON.stringify({ schemaVersion: SCHEMA_VERSION, modelVersion: MODEL_VERSION, kind: 'runs', ...rep }, null, 2) + '\n';
  }
  const head = [...rep.fields, 'metric', 'unit', 'hit rate %', 'exits/switch', 'exits', 'shadow faults', 'evicted'];
  const body = rep.runs.map((r) => [
    ...rep.fields.map((f) => String(r.config[f])),
    fmtNum(r.values.metric, 4),
    r.metricUnit,
    r.values.hitRate === null ? '-' : r.values.hitRate.toFixed(1),
    fmtNum(r.values.exitsPerSwitch),
    String(r.values.exits),
    String(r.values.shadowFaults),
    String(r.values.pagesEvicted),
  ]);
  const note = rep.missing.length ? `\n${rep.missing.length} of ${rep.missing.length + rep.runs.length} runs have no stored result (run the experiment to fill them in)\n` : '';
  if (rep.replicates) return formatReplicatedRuns(rep, format, note);
  if (format === 'csv') {
    const csvHead = [...rep.fields, 'metric', 'unit', 'hit_rate_pct', 'exits_per_switch', 'exits', 'shadow_faults', 'pages_evicted', 'key'];
    const csvBody = rep.runs.map((r) =>
      [...rep.fields.map((f) => String(r.config[f])), r.values.metric, r.metricUnit, r.values.hitRate ?? '', r.values.exitsPerSwitch ?? '', r.values.exits, r.values.shadowFaults, r.values.pagesEvicted, r.key]
        .map((v) => csvCell(String(v)))
        .join(','),
    );
    return [csvHead.join(','), ...csvBody].join('\n') + '\n';
  }
  if (format === 'md') {
    return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n') + '\n' + note;
  }
  return `${rep.experiment}: ${rep.runs.length} runs\n\n${alignTable(head, body, rep.fields.length)}${note}`;
}

/** The table of points over replicates: each value the mean over the stored seeds; the metric with its 95% half-width and n. */
function formatReplicatedRuns(rep: RunsReport, format: Exclude<Format, 'json'>, note: string): string {
  const ci = (r: RunsReport['runs'][number]) => (r.ci95?.metric ?? null);
  if (format === 'csv') {
    const csvHead = [...rep.fields, 'metric_mean', 'metric_ci95', 'n', 'unit', 'hit_rate_pct', 'exits_per_switch', 'exits', 'shadow_faults', 'pages_evicted', 'keys'];
    const csvBody = rep.runs.map((r) =>
      [...rep.fields.map((f) => String(r.config[f])), r.values.metric ?? '', ci(r) ?? '', r.n, r.metricUnit, r.values.hitRate ?? '', r.values.exitsPerSwitch ?? '', r.values.exits ?? '', r.values.shadowFaults ?? '', r.values.pagesEvicted ?? '', r.keys!.join(' ')]
        .map((v) => csvCell(String(v)))
        .join(','),
    );
    return [csvHead.join(','), ...csvBody].join('\n') + '\n';
  }
  const head = [...rep.fields, 'metric mean', '± 95%', 'n', 'unit', 'hit rate %', 'exits/switch', 'exits', 'shadow faults', 'evicted'];
  const body = rep.runs.map((r) => [
    ...rep.fields.map((f) => String(r.config[f])),
    fmtNum(r.values.metric, 4),
    ci(r) === null ? '' : fmtNum(ci(r), 3),
    String(r.n),
    r.metricUnit,
    r.values.hitRate === null ? '-' : r.values.hitRate.toFixed(1),
    fmtNum(r.values.exitsPerSwitch),
    fmtNum(r.values.exits, 6),
    fmtNum(r.values.shadowFaults, 6),
    fmtNum(r.values.pagesEvicted, 6),
  ]);
  if (format === 'md') {
    return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n') + '\n' + note;
  }
  const seeds = Math.max(...rep.runs.map((r) => r.n ?? 1));
  return `${rep.experiment}: ${rep.runs.length} points, mean over up to ${seeds} seeds (95% interval: Student t)\n\n${alignTable(head, body, rep.fields.length)}${note}`;
}

// ---------------------------------------------------------------------------------------
// Exit report, in the style of `perf kvm stat report`

export interface ExitReportRow {
  reason: string;
  samples: number;
  samplesPct: number;
  timePct: number;
  avgNs: number;
}

export function exitReport(r: RunResult): { total: number; totalNs: number; rows: ExitReportRow[] } {
  const entries = Object.entries(r.exits.byReason).filter(([, e]) => e && e.count > 0) as [string, { count: number; ns: number }][];
  const total = entries.reduce((s, [, e]) => s + e.count, 0);
  const totalNs = entries.reduce((s, [, e]) => s + e.ns, 0);
  const rows = entries
    .map(([reason, e]) => ({
      reason,
      samples: e.count,
      samplesPct: total ? (e.count / total) * 100 : 0,
      timePct: totalNs ? (e.ns / totalNs) * 100 : 0,
      avgNs: e.ns / e.count,
    }))
    .sort((a, b) => b.samples - a.samples || a.reason.localeCompare(b.reason));
  return { total, totalNs, rows };
}

/**
 * The exit report as `perf kvm stat report` prints it. The simulator records a count and
 * the total time per exit reason, not each exit's time, so min and max are not known:
 * only the average is shown, and the report says so.
 */
export function formatExitReport(r: RunResult): string {
  const rep = exitReport(r);
  const c = r.config;
  const lines: string[] = [];
  lines.push(`Analyze events for all VMs, all VCPUs (${c.mode}, ${c.workload}${c.workload === 'hackbench' ? ` ${c.groups}` : ` ${c.tasks} tasks`}, ${c.vcpus} vCPU${c.vcpus > 1 ? 's' : ''}):`);
  lines.push('');
  lines.push(`${'VM-EXIT'.padStart(20)} ${'Samples'.padStart(10)} ${'Samples%'.padStart(9)} ${'Time%'.padStart(9)} ${'Avg time'.padStart(12)}`);
  lines.push('');
  for (const row of rep.rows) {
    lines.push(
      `${row.reason.padStart(20)} ${String(row.samples).padStart(10)} ${(row.samplesPct.toFixed(2) + '%').padStart(9)} ${(row.timePct.toFixed(2) + '%').padStart(9)} ${((row.avgNs / 1000).toFixed(2) + 'us').padStart(12)}`,
    );
  }
  lines.push('');
  lines.push(`Total Samples:${rep.total}, Total events handled time:${(rep.totalNs / 1000).toFixed(2)}us.`);
  lines.push('(Min and max time per exit are not recorded by the simulator, which keeps a count and total time per reason; only averages are shown.)');
  return lines.join('\n') + '\n';
}
