/**
 * SVG plots of stored results: a Vega-Lite spec per plot definition, compiled by vega-lite
 * and rendered by vega's headless view (`renderer: 'none'`, `toSVG()`), so no canvas is
 * needed and the same data gives byte-identical SVG.
 */
import { join } from 'node:path';
import type * as ResvgModuleNs from '@resvg/resvg-js';
import type { TopLevelSpec } from 'vega-lite';
import { MODES, fieldApplies, type SimConfig } from '../../shared/config.js';
import type { Experiment, PlotDef } from '../experiments/schema.js';
import { FileProblem, checkDirPath, ensureDir, lstatOrUndefined, probeDirPath, probeWritable, writeFileAtomic } from '../store/files.js';
import type { RunRecord } from '../store/record.js';
import { fmtNum } from './format.js';
import { fieldTitle, measure, measureTitle } from './measures.js';
import { inWhere, placedFields } from './plot-check.js';
import { publishedReport } from './published.js';
import { meanCi } from './replicates.js';

export function plotFileName(def: PlotDef): string {
  return `${plotBaseName(def)}.svg`;
}

/** A plot's name: its file name without the extension. */
export const plotBaseName = (def: PlotDef): string => def.file ?? `${def.y}-vs-${def.x}`;

/** The files written for a plot: the SVG, its Vega-Lite spec beside it, and a PNG. */
export const plotFileNames = (def: PlotDef): string[] => filesOf(plotBaseName(def));
const filesOf = (base: string): string[] => [`${base}.svg`, `${base}.vl.json`, `${base}.png`];

/** One drawn point: the mean over its replicates (seeds), its 95% interval and how many there are. */
export interface PlotPoint {
  x: string | number | boolean;
  series?: string | number | boolean;
  facet?: string | number | boolean;
  /** The mean. */
  y: number;
  /** Ends of the 95% interval (only with two replicates or more). */
  lo?: number;
  hi?: number;
  ci95: number | null;
  n: number;
  /** The value as written on a bar. */
  label: string;
  /** The metric's unit of the runs (the y axis title names it). */
  unit: string;
  /** The x field does not apply to this point's config (kvm-trunk has no cr3 cache size): drawn as a level line across the axis, not at one x. */
  ref?: true;
}

/** The points of a plot: the stored runs grouped by their x, series and facet (which leaves only the seed to differ; see plot-check.ts), each group's mean and interval. */
export function plotData(def: PlotDef, records: readonly RunRecord[]): PlotPoint[] {
  const groups = new Map<string, { r: RunRecord; y: number }[]>();
  for (const r of records) {
    if (!inWhere(def, r.config)) continue;
    const y = measure(r.result, def.y);
    if (y === null) continue;
    const k = JSON.stringify(placedFields(def).map((f) => r.config[f]));
    const g = groups.get(k);
    if (g) g.push({ r, y });
    else groups.set(k, [{ r, y }]);
  }
  const out: PlotPoint[] = [];
  for (const g of groups.values()) {
    const c = g[0]!.r.config;
    const s = meanCi(g.map((e) => e.y))!;
    out.push({
      x: c[def.x],
      ...(def.series ? { series: c[def.series] } : {}),
      ...(def.facet ? { facet: c[def.facet] } : {}),
      y: s.mean,
      ...(s.ci95 !== null ? { lo: s.mean - s.ci95, hi: s.mean + s.ci95 } : {}),
      ci95: s.ci95,
      n: s.n,
      label: fmtNum(s.mean),
      unit: g[0]!.r.result.metric.unit,
      ...(fieldApplies(def.x, c) ? {} : { ref: true as const }),
    });
  }
  return out;
}

/** Sizes of a cache, whose result between two sizes run is that of the smaller one: drawn as steps unless a plot says otherwise. */
const STEP_X: ReadonlySet<keyof SimConfig> = new Set(['cacheSize', 'prevRoots', 'pwc']);

const sortValues = (vs: readonly (string | number | boolean)[], field: keyof SimConfig): (string | number | boolean)[] => {
  const u = [...new Set(vs)];
  if (field === 'mode') return MODES.filter((m) => u.includes(m));
  // Numbers ascending; names in the order the experiment lists them.
  const nums = u.filter((v): v is number => typeof v === 'number');
  return nums.length === u.length ? nums.sort((a, b) => a - b) : u;
};

/** The Vega-Lite spec of one plot over some stored runs (a panel per facet value; one y axis for panels of one unit). */
export function plotSpec(def: PlotDef, records: readonly RunRecord[]): TopLevelSpec {
  const all = plotData(def, records);
  // A log axis cannot draw 0: such points are named in the subtitle instead.
  const dropped = def.logY ? all.filter((d) => d.y <= 0) : [];
  const values = def.logY ? all.filter((d) => d.y > 0).map((d) => (d.lo !== undefined && d.lo <= 0 ? { ...d, lo: d.y } : d)) : all;
  const numericX = values.every((d) => typeof d.x === 'number');
  const xTitle = fieldTitle(def.x);
  // A bar's length means nothing on a log axis: there, bars are drawn as points.
  const asked = def.mark ?? (numericX ? (STEP_X.has(def.x) ? 'step' : 'line') : 'bar');
  const mark = asked === 'bar' && def.logY ? 'point' : asked;
  const xSort = sortValues(all.map((d) => d.x), def.x);
  const xValues = [...new Set(values.filter((d) => !d.ref).map((d) => d.x))].filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
  const categorical = mark === 'bar' || mark === 'point';
  const x =
    categorical || !numericX
      ? { field: 'x', type: 'nominal' as const, title: xTitle, sort: xSort, axis: { labelAngle: 0 } }
      : {
          field: 'x',
          type: 'quantitative' as const,
          title: xTitle,
          scale: def.logX ? { type: 'log' as const, base: 2 } : { zero: false },
          // Ticks at the values run when on a log axis or a few whole numbers (vCPUs: no 1.4).
          axis: def.logX || (xValues.length <= 12 && xValues.every(Number.isInteger)) ? { values: xValues } : {},
        };
  const seriesTitle = def.series ? fieldTitle(def.series) : undefined;
  const seriesValues = def.series ? sortValues(all.map((d) => d.series!), def.series) : [];
  const seriesNumeric = seriesValues.every((v) => typeof v === 'number');
  // A categorical palette: every series its own hue (tableau10; category20 past ten series).
  const color = def.series
    ? {
        field: 'series',
        type: seriesNumeric ? ('ordinal' as const) : ('nominal' as const),
        title: seriesTitle,
        sort: seriesValues,
        scale: { scheme: seriesValues.length > 10 ? 'category20' : 'tableau10' },
        legend: { orient: 'right' as const },
      }
    : undefined;
  const grouped = color && categorical ? { xOffset: { field: 'series', type: 'nominal' as const, sort: seriesValues } } : {};
  const joined = mark === 'line' || mark === 'step';
  const replicated = values.some((d) => d.n > 1);
  const yScale = def.logY ? { type: 'log' as const } : {};
  const panel = (unit: string | undefined) => {
    const yTitle = measureTitle(def.y, unit);
    // Bars are not stacked: each is one point's figure (a stack would start a log axis at 0).
    const y = { field: 'y', type: 'quantitative' as const, title: yTitle, scale: yScale, stack: null };
    const refs = joined && values.some((d) => d.ref);
    const onAxis = refs ? { transform: [{ filter: '!datum.ref' }] } : {};
    const layer: unknown[] = [
      {
        ...onAxis,
        mark:
          mark === 'line'
            ? { type: 'line', point: true }
            : mark === 'step'
              ? { type: 'line', interpolate: 'step-after', point: true }
              : mark === 'point'
                ? { type: 'point', filled: true, size: 70, ...(color ? {} : { color: '#4c78a8' }) }
                : { type: 'bar' },
        encoding: { x, y, ...(color ? { color } : {}), ...grouped, ...(color && joined ? { detail: { field: 'series', type: color.type } } : {}) },
      },
    ];
    if (refs) {
      // A config the x field does not apply to: its figure as a dashed level across the axis.
      layer.push({ transform: [{ filter: 'datum.ref' }], mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 2 }, encoding: { y, ...(color ? { color } : {}) } });
    }
    if (replicated) {
      // The 95% interval of the mean over the seeds.
      // (Only where the seeds differ: a zero-width interval would draw its ticks as a bar across the point.)
      const spread = "isValid(datum.hi) && datum.hi > datum.lo";
      layer.push({
        transform: [{ filter: refs ? `!datum.ref && ${spread}` : spread }],
        mark: { type: 'errorbar', ticks: { size: 8 }, ...(color ? {} : { color: 'black' }) },
        encoding: { x, y: { field: 'lo', type: 'quantitative', title: yTitle, scale: yScale }, y2: { field: 'hi' }, ...(color ? { color } : {}), ...grouped },
      });
    }
    if (categorical) {
      layer.push({
        mark: { type: 'text', baseline: 'bottom', dy: mark === 'point' ? -7 : -3, fontSize: 9, color: '#333' },
        encoding: { x, y: replicated ? { field: 'top', type: 'quantitative', scale: yScale } : y, text: { field: 'label' }, ...grouped },
        ...(replicated ? { transform: [{ calculate: 'isValid(datum.hi) ? datum.hi : datum.y', as: 'top' }] } : {}),
      });
    }
    // Bar groups get room for their labels: at least 95 px per x value.
    const minWidth = categorical ? 95 * xSort.length : 0;
    return { width: Math.max(def.facet ? 300 : 480, minWidth), height: 300, layer };
  };
  const unitOf = (ds: readonly PlotPoint[]): string | undefined => {
    const u = [...new Set(ds.map((d) => d.unit))];
    return u.length === 1 ? u[0] : undefined;
  };
  const yTitle = measureTitle(def.y, unitOf(values));
  const text = def.title ?? `${yTitle} by ${xTitle}`;
  const subtitle = dropped.length
    ? `${dropped.map((d) => [d.x, d.series, d.facet].filter((v) => v !== undefined).join(' ')).join(', ')}: 0, not drawn on the log axis`
    : undefined;
  const common = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: subtitle ? { text, subtitle } : text,
    background: 'white',
    data: { values },
  };
  if (!def.facet) return { ...common, ...panel(unitOf(values)) } as TopLevelSpec;
  const facetTitle = fieldTitle(def.facet);
  const panels = sortValues(all.map((d) => d.facet!), def.facet).map((v) => ({
    title: `${facetTitle}: ${String(v)}`,
    transform: [{ filter: { field: 'facet', equal: v } }],
    ...panel(unitOf(values.filter((d) => d.facet === v))),
  }));
  // Panels of one unit share their y axis (the same height means the same figure); of several units, each has its own.
  const oneUnit = unitOf(values) !== undefined;
  return { ...common, hconcat: panels, resolve: { scale: { color: 'shared', y: oneUnit ? 'shared' : 'independent' } } } as TopLevelSpec;
}

/** Render a Vega-Lite spec to SVG text. (vega and vega-lite load on first use: they take half a second, which a command that draws nothing should not pay.) */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

type ResvgModule = typeof ResvgModuleNs;

/** Render SVG text to PNG bytes with resvg (no browser), at twice the SVG's size, with the system's sans-serif fonts. */
export async function renderPng(svg: string): Promise<Buffer> {
  const mod = (await import('@resvg/resvg-js')) as ResvgModule & { default?: ResvgModule };
  const Resvg = mod.Resvg ?? mod.default.Resvg;
  const r = new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' } });
  return r.render().asPng();
}

/** One rendered plot: its name (file name without extension), the SVG, the Vega-Lite spec, and the PNG when asked for. */
export interface RenderedPlot {
  name: string;
  svg: string;
  spec: TopLevelSpec;
  png?: Buffer;
}

/** The plot every experiment with published figures has: each figure beside the simulated one, per mode. */
export const PUBLISHED_PLOT = 'simulated-vs-published';

/** The names (file names without extension) of an experiment's plots. */
export const plotNames = (exp: Experiment): string[] => [...(exp.plots ?? []).map(plotBaseName), ...(exp.published ? [PUBLISHED_PLOT] : [])];

/**
 * The published figures against the simulated ones: a panel per published row (its own
 * unit), the modes along x, the published figure a hollow point, the simulated one a filled
 * point with its 95% interval over the seeds and its error in % beside it. A log y axis
 * (the modes differ by up to fifty times), so points, never bars.
 */
export function publishedPlotSpec(exp: Experiment, records: readonly RunRecord[]): TopLevelSpec {
  const report = publishedReport(exp, records);
  const values: Record<string, unknown>[] = [];
  for (const row of report.rows) {
    const panel = `${row.label} (${row.unit})`;
    for (const c of row.cells) {
      if (c.published !== null) values.push({ panel, mode: c.mode, source: 'published', y: c.published });
      if (c.simulated !== null) {
        const ci = c.ci95 ?? 0;
        values.push({ panel, mode: c.mode, source: `simulated (mean of ${c.n} seed${c.n === 1 ? '' : 's'})`, y: c.simulated, lo: c.simulated - ci, hi: c.simulated + ci, error: c.errorPct === null ? '' : fmtPctShort(c.errorPct) });
      }
    }
  }
  const modes = report.modes;
  const x = { field: 'mode', type: 'nominal' as const, title: 'mode', sort: modes, axis: { labelAngle: 0 } };
  const panels = report.rows.map((row) => {
    const panel = `${row.label} (${row.unit})`;
    const title = `${row.unit} (log scale)`;
    const y = { field: 'y', type: 'quantitative' as const, title, scale: { type: 'log' as const } };
    return {
      title: panel,
      transform: [{ filter: { field: 'panel', equal: panel } }],
      width: 95 * modes.length,
      height: 300,
      layer: [
        { transform: [{ filter: "datum.source === 'published'" }], mark: { type: 'point', size: 110, strokeWidth: 2, filled: false, color: '#333333' }, encoding: { x, y } },
        { transform: [{ filter: "datum.source !== 'published'" }], mark: { type: 'point', size: 70, filled: true, color: '#e45756' }, encoding: { x, y } },
        { transform: [{ filter: 'isValid(datum.lo) && datum.hi > datum.lo' }], mark: { type: 'errorbar', ticks: true, color: '#e45756' }, encoding: { x, y: { field: 'lo', type: 'quantitative', title, scale: { type: 'log' } }, y2: { field: 'hi' } } },
        { transform: [{ filter: "isValid(datum.error) && datum.error !== ''" }], mark: { type: 'text', align: 'left', dx: 9, fontSize: 10, color: '#e45756' }, encoding: { x, y, text: { field: 'error' } } },
      ],
    };
  });
  const seeds = [...new Set(values.filter((v) => v.source !== 'published').map((v) => v.source))].join(', ');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Simulated against published, by mode', subtitle: `${exp.name}: hollow black = published; filled red = ${seeds || 'simulated'}, with its 95% interval and its error` },
    background: 'white',
    data: { values },
    hconcat: panels,
    resolve: { scale: { y: 'independent' } },
  } as TopLevelSpec;
}

const fmtPctShort = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`;

/** Render every plot of an experiment over stored runs (for files, or to embed the SVG in another document). */
export async function renderPlots(exp: Experiment, records: readonly RunRecord[], opts: { png?: boolean } = {}): Promise<RenderedPlot[]> {
  const out: RenderedPlot[] = [];
  const specs: [string, TopLevelSpec][] = (exp.plots ?? []).map((def) => [plotBaseName(def), plotSpec(def, records)]);
  if (exp.published) specs.push([PUBLISHED_PLOT, publishedPlotSpec(exp, records)]);
  for (const [name, spec] of specs) {
    const svg = await renderSvg(spec);
    out.push({ name, svg, spec, ...(opts.png ? { png: await renderPng(svg) } : {}) });
  }
  return out;
}

/**
 * Check, leaving nothing behind, that an experiment's plots could be written into `dir`:
 * no plot's file name is taken by a directory, the parts of the path that exist are
 * directories, the names fit, and a file can be created where the first directory would
 * be made. Throws FileProblem.
 */
export function checkPlotDir(exp: Experiment, dir: string): void {
  for (const base of plotNames(exp)) {
    for (const name of filesOf(base)) {
      checkDirPath(dir, name);
      const file = join(dir, name);
      if (lstatOrUndefined(file)?.isDirectory()) throw new FileProblem(file, 'is a directory, where a plot should be written');
      probeDirPath(dir, name);
    }
  }
}

/** checkPlotDir, then the directory made and a file created and removed there, before anything runs. Throws FileProblem. */
export function preparePlotDir(exp: Experiment, dir: string): void {
  const names = plotNames(exp);
  if (names.length === 0) return;
  checkPlotDir(exp, dir);
  ensureDir(dir);
  for (const base of names) for (const name of filesOf(base)) probeWritable(dir, name);
}

/** Write every plot of an experiment into `dir` (each file atomically): the SVG, its Vega-Lite spec and a PNG. Returns the files written. */
export async function writePlots(exp: Experiment, records: readonly RunRecord[], dir: string): Promise<string[]> {
  if (plotNames(exp).length === 0) return [];
  preparePlotDir(exp, dir);
  const files: string[] = [];
  for (const p of await renderPlots(exp, records, { png: true })) {
    const [svgFile, specFile, pngFile] = [`${p.name}.svg`, `${p.name}.vl.json`, `${p.name}.png`].map((f) => join(dir, f)) as [string, string, string];
    writeFileAtomic(svgFile, p.svg + '\n');
    writeFileAtomic(specFile, JSON.stringify(p.spec, null, 2) + '\n');
    writeFileAtomic(pngFile, p.png!);
    files.push(svgFile, specFile, pngFile);
  }
  return files;
}
