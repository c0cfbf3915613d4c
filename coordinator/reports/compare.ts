/**
 * `vcpusim compare A B`: the stored runs of two experiments, sweeps or store directories
 * side by side. Runs that differ only in their seed are replicates: grouped, shown by
 * their mean and, with two or more, its 95% Student-t interval (replicates.ts). A group of A
 * is matched with the group of B that has the same value of every config field either
 * side varies (the seed aside); fields that are constant on each side but differ between
 * them are what the comparison is about, and are named in its header. Per figure (the
 * measures of report.ts): A, B, the difference B − A, the ratio B / A, and where both
 * sides have replicates the Welch interval of the difference.
 */
import { CONFIG_FIELDS, type SimConfig } from '../../shared/config.js';
import { SCHEMA_VERSION } from '../../shared/stats.js';
import { MODEL_VERSION } from '../../worker/model.js';
import { variedFields } from '../experiments/expand.js';
import type { RunRecord } from '../store/record.js';
import { csvCell, fmtNum, type Format } from './format.js';
import { MEASURES, measure, type Measure } from './measures.js';
import { diffCi, groupReplicates, meanCi, type Replicated } from './replicates.js';

/** One side: what the argument named, and its stored runs. */
export interface CompareSide {
  /** The argument as given. */
  arg: string;
  /** The experiment or sweep name. */
  experiment: string;
  /** How the argument was resolved: an experiment file, a sweep's manifest, a store directory. */
  source: 'experiment' | 'sweep' | 'store';
  /** The store directory read. */
  results: string;
  records: RunRecord[];
}

export interface FigureComparison {
  a: number | null;
  b: number | null;
  /** b − a. */
  diff: number | null;
  /** b / a (null if a is 0). */
  ratio: number | null;
  aLow: number | null;
  aHigh: number | null;
  bLow: number | null;
  bHigh: number | null;
  diffLow: number | null;
  diffHigh: number | null;
}

export interface ComparisonRow {
  /** The values of the matched fields. */
  match: Partial<Record<keyof SimConfig, unknown>>;
  /** Replicates on each side. */
  nA: number;
  nB: number;
  figures: Record<Measure, FigureComparison>;
}

export interface Comparison {
  a: { arg: string; experiment: string; source: CompareSide['source']; results: string; runs: number };
  b: { arg: string; experiment: string; source: CompareSide['source']; results: string; runs: number };
  /** Fields the groups are matched on (varied by A or B). */
  matchedOn: (keyof SimConfig)[];
  /** Fields constant on each side with different values: field → [A's, B's]. */
  differ: Partial<Record<keyof SimConfig, [unknown, unknown]>>;
  rows: ComparisonRow[];
  /** Groups with no partner on the other side. */
  unmatched: { a: number; b: number };
}

interface Group {
  config: SimConfig;
  records: RunRecord[];
}

/** Replicate groups: runs whose configs are equal but for the seed, in first-seen order. */
const groupsOf = (records: readonly RunRecord[]): Group[] => groupReplicates(records, (r) => r.config).map((rs) => ({ config: rs[0]!.config, records: rs }));

const varied = (gs: readonly Group[]): (keyof SimConfig)[] => variedFields(gs.map((g) => g.config), ['seed']);

/** The interval of a mean as its ends (null with one value). */
const ends = (c: Replicated | null): [number | null, number | null] => (c && c.ci95 !== null ? [c.mean - c.ci95, c.mean + c.ci95] : [null, null]);

function figure(a: readonly RunRecord[], b: readonly RunRecord[], m: Measure): FigureComparison {
  const values = (rs: readonly RunRecord[]) => rs.map((r) => measure(r.result, m)).filter((v): v is number => v !== null);
  const va = values(a);
  const vb = values(b);
  const ca = meanCi(va);
  const cb = meanCi(vb);
  const d = ca && cb ? diffCi(ca, cb) : null;
  const am = ca?.mean ?? null;
  const bm = cb?.mean ?? null;
  const [aLow, aHigh] = ends(ca);
  const [bLow, bHigh] = ends(cb);
  return {
    a: am,
    b: bm,
    diff: am !== null && bm !== null ? bm - am : null,
    ratio: am !== null && bm !== null && am !== 0 ? bm / am : null,
    aLow,
    aHigh,
    bLow,
    bHigh,
    diffLow: d?.low ?? null,
    diffHigh: d?.high ?? null,
  };
}

export function compare(a: CompareSide, b: CompareSide): Comparison {
  const ga = groupsOf(a.records);
  const gb = groupsOf(b.records);
  const va = varied(ga);
  const vb = varied(gb);
  const matchedOn = CONFIG_FIELDS.filter((f) => va.includes(f) || vb.includes(f));
  const differ: Comparison['differ'] = {};
  for (const f of CONFIG_FIELDS) {
    if (f === 'seed' || matchedOn.includes(f) || ga.length === 0 || gb.length === 0) continue;
    const x = ga[0]!.config[f];
    const y = gb[0]!.config[f];
    if (JSON.stringify(x) !== JSON.stringify(y)) differ[f] = [x, y];
  }
  const idOf = (g: Group) => JSON.stringify(matchedOn.map((f) => g.config[f]));
  const bById = new Map(gb.map((g) => [idOf(g), g]));
  const rows: ComparisonRow[] = [];
  const used = new Set<Group>();
  for (const g of ga) {
    const h = bById.get(idOf(g));
    if (!h) continue;
    used.add(h);
    const figures = Object.fromEntries(MEASURES.map((m) => [m, figure(g.records, h.records, m)])) as Record<Measure, FigureComparison>;
    rows.push({ match: Object.fromEntries(matchedOn.map((f) => [f, g.config[f]])), nA: g.records.length, nB: h.records.length, figures });
  }
  const side = (s: CompareSide) => ({ arg: s.arg, experiment: s.experiment, source: s.source, results: s.results, runs: s.records.length });
  return { a: side(a), b: side(b), matchedOn, differ, rows, unmatched: { a: ga.length - rows.length, b: gb.length - used.size } };
}

/** The figures a text table shows: those with a value on either side of some row. */
const shownFigures = (c: Comparison): Measure[] => MEASURES.filter((m) => c.rows.some((r) => r.figures[m].a !== null || r.figures[m].b !== null));

const FIGURE_KEYS = ['a', 'b', 'diff', 'ratio', 'aLow', 'aHigh', 'bLow', 'bHigh', 'diffLow', 'diffHigh'] as const;

const interval = (low: number | null, high: number | null): string => (low === null || high === null ? '' : ` [${fmtNum(low)}, ${fmtNum(high)}]`);

export function formatComparison(c: Comparison, format: Format): string {
  if (format === 'json') return JSON.stringify({ schemaVersion: SCHEMA_VERSION, modelVersion: MODEL_VERSION, kind: 'comparison', ...c }, null, 2) + '\n';
  if (format === 'csv') {
    // Long form: one row per matched group x figure (the figures with a value somewhere); the column names are the JSON keys.
    const head = [...c.matchedOn, 'nA', 'nB', 'figure', ...FIGURE_KEYS];
    const lines = [head.join(',')];
    for (const r of c.rows) {
      for (const m of shownFigures(c)) lines.push([...c.matchedOn.map((f) => r.match[f]), r.nA, r.nB, m, ...FIGURE_KEYS.map((k) => r.figures[m][k])].map(csvCell).join(','));
    }
    return lines.join('\n') + '\n';
  }
  const figs = shownFigures(c);
  const head = [...c.matchedOn, 'figure', 'A', 'B', 'B - A', 'B / A'];
  const body: string[][] = [];
  for (const r of c.rows) {
    for (const m of figs) {
      const f = r.figures[m];
      body.push([
        ...c.matchedOn.map((k) => String(r.match[k])),
        m,
        `${fmtNum(f.a, 4)}${interval(f.aLow, f.aHigh)}`,
        `${fmtNum(f.b, 4)}${interval(f.bLow, f.bHigh)}`,
        `${fmtNum(f.diff, 4)}${interval(f.diffLow, f.diffHigh)}`,
        f.ratio === null ? '-' : f.ratio.toFixed(4),
      ]);
    }
  }
  const differ = Object.entries(c.differ).map(([f, [x, y]]) => `${f}: ${String(x)} → ${String(y)}`);
  const title = `A = ${c.a.experiment} (${c.a.runs} runs), B = ${c.b.experiment} (${c.b.runs} runs)${differ.length ? `; ${differ.join(', ')}` : ''}`;
  const notes: string[] = [];
  if (c.unmatched.a || c.unmatched.b) notes.push(`unmatched: ${c.unmatched.a} of A, ${c.unmatched.b} of B (no run on the other side with the same ${c.matchedOn.join(', ') || 'config'})`);
  if (c.rows.some((r) => r.nA > 1 || r.nB > 1)) notes.push('[low, high]: 95% Student-t interval of the mean over seeds (of the difference: Welch)');
  if (format === 'md') {
    const esc = (s: string) => s.replace(/\|/g, '\\|');
    return [`${esc(title)}`, '', `| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < c.matchedOn.length + 1 ? '---' : '---:')).join('|')}|`, ...body.map((r) => `| ${r.map(esc).join(' | ')} |`), '', ...notes].join('\n') + '\n';
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const left = c.matchedOn.length + 1;
  const line = (r: string[]) =>
    r
      .map((x, i) => (i < left ? x.padEnd(widths[i]!) : x.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [title, '', line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), ...(notes.length ? ['', ...notes] : [])].join('\n') + '\n';
}
