/**
 * The table of an experiment's or a sweep's runs: the fields that vary, then the measures
 * of each run (or, with replicates, of each point: the mean over its stored seeds with the
 * metric's 95% interval and n), and the configs with no stored result; in every format.
 */
import { fieldApplies, type SimConfig } from '../../shared/config.js';
import { SCHEMA_VERSION } from '../../shared/stats.js';
import { MODEL_VERSION } from '../../worker/model.js';
import { variedFields } from '../experiments/expand.js';
import type { RunRecord } from '../store/record.js';
import { alignTable, csvCell, fmtNum, type Format } from './format.js';
import { measure, type Measure } from './measures.js';
import { groupReplicates, meanCi } from './replicates.js';

const RUN_MEASURES: Measure[] = ['metric', 'hitRate', 'exitsPerSwitch', 'exits', 'shadowFaults', 'pagesEvicted', 'rootMissesPerSwitch', 'rootFreesPerSwitch', 'staleTranslations'];

/** Columns shown only when some run has them (KVM's previous roots: the modes of today that keep them). */
/** Columns shown only where some run has them: today's roots, and the translation checker's result. */
const ROOT_COLUMNS = [
  { m: 'rootMissesPerSwitch', head: 'root misses/switch', csv: 'root_misses_per_switch' },
  { m: 'rootFreesPerSwitch', head: 'roots freed/switch', csv: 'roots_freed_per_switch' },
  { m: 'staleTranslations', head: 'stale translations', csv: 'stale_translations' },
] as const;

const rootColumns = (rep: RunsReport) => ROOT_COLUMNS.filter((c) => rep.runs.some((r) => r.values[c.m] !== null && r.values[c.m] !== undefined));

/** A config field as a table shows it: empty where the field does not apply to the run (kvm-trunk has no cr3 cache size). */
export const fieldCell = (f: keyof SimConfig, config: SimConfig): string => (fieldApplies(f, config) ? String(config[f]) : '');

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
  const roots = rootColumns(rep);
  const head = [...rep.fields, 'metric', 'unit', 'hit rate %', 'exits/switch', 'exits', 'shadow faults', 'evicted', ...roots.map((c) => c.head)];
  const body = rep.runs.map((r) => [
    ...rep.fields.map((f) => fieldCell(f, r.config)),
    fmtNum(r.values.metric, 4),
    r.metricUnit,
    r.values.hitRate === null ? '-' : r.values.hitRate.toFixed(1),
    fmtNum(r.values.exitsPerSwitch),
    String(r.values.exits),
    String(r.values.shadowFaults),
    String(r.values.pagesEvicted),
    ...roots.map((c) => (r.values[c.m] === null ? '-' : fmtNum(r.values[c.m], 3))),
  ]);
  const note = rep.missing.length ? `\n${rep.missing.length} of ${rep.missing.length + rep.runs.length} runs have no stored result (run the experiment to fill them in)\n` : '';
  if (rep.replicates) return formatReplicatedRuns(rep, format, note);
  if (format === 'csv') {
    const csvHead = [...rep.fields, 'metric', 'unit', 'hit_rate_pct', 'exits_per_switch', 'exits', 'shadow_faults', 'pages_evicted', ...roots.map((c) => c.csv), 'key'];
    const csvBody = rep.runs.map((r) =>
      [...rep.fields.map((f) => fieldCell(f, r.config)), r.values.metric, r.metricUnit, r.values.hitRate ?? '', r.values.exitsPerSwitch ?? '', r.values.exits, r.values.shadowFaults, r.values.pagesEvicted, ...roots.map((c) => r.values[c.m] ?? ''), r.key]
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
  const roots = rootColumns(rep);
  if (format === 'csv') {
    const csvHead = [...rep.fields, 'metric_mean', 'metric_ci95', 'n', 'unit', 'hit_rate_pct', 'exits_per_switch', 'exits', 'shadow_faults', 'pages_evicted', ...roots.map((c) => c.csv), 'keys'];
    const csvBody = rep.runs.map((r) =>
      [...rep.fields.map((f) => fieldCell(f, r.config)), r.values.metric ?? '', ci(r) ?? '', r.n, r.metricUnit, r.values.hitRate ?? '', r.values.exitsPerSwitch ?? '', r.values.exits ?? '', r.values.shadowFaults ?? '', r.values.pagesEvicted ?? '', ...roots.map((c) => r.values[c.m] ?? ''), r.keys!.join(' ')]
        .map((v) => csvCell(String(v)))
        .join(','),
    );
    return [csvHead.join(','), ...csvBody].join('\n') + '\n';
  }
  const head = [...rep.fields, 'metric mean', '± 95%', 'n', 'unit', 'hit rate %', 'exits/switch', 'exits', 'shadow faults', 'evicted', ...roots.map((c) => c.head)];
  const body = rep.runs.map((r) => [
    ...rep.fields.map((f) => fieldCell(f, r.config)),
    fmtNum(r.values.metric, 4),
    ci(r) === null ? '' : fmtNum(ci(r), 3),
    String(r.n),
    r.metricUnit,
    r.values.hitRate === null ? '-' : r.values.hitRate.toFixed(1),
    fmtNum(r.values.exitsPerSwitch),
    fmtNum(r.values.exits, 6),
    fmtNum(r.values.shadowFaults, 6),
    fmtNum(r.values.pagesEvicted, 6),
    ...roots.map((c) => (r.values[c.m] === null ? '-' : fmtNum(r.values[c.m], 3))),
  ]);
  if (format === 'md') {
    return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n') + '\n' + note;
  }
  const seeds = Math.max(...rep.runs.map((r) => r.n ?? 1));
  return `${rep.experiment}: ${rep.runs.length} points, mean over up to ${seeds} seeds (95% interval: Student t)\n\n${alignTable(head, body, rep.fields.length)}${note}`;
}

