/**
 * The published table: each published figure beside the simulated one (the mean over the
 * stored seeds of its cell, with its 95% interval), the error, and the exits per switch;
 * in every report format.
 */
import { MODES, type Mode } from '../../shared/config.js';
import { SCHEMA_VERSION } from '../../shared/stats.js';
import { MODEL_VERSION } from '../../worker/model.js';
import { matches } from '../experiments/expand.js';
import type { Experiment } from '../experiments/schema.js';
import type { RunRecord } from '../store/record.js';
import { alignTable, csvCell, fmtNum, fmtPct, type Format } from './format.js';
import { measure } from './measures.js';
import { meanCi } from './replicates.js';

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

