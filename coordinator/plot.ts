/**
 * SVG plots of stored results: a Vega-Lite spec per plot definition, compiled by vega-lite
 * and rendered by vega's headless view (`renderer: 'none'`, `toSVG()`), so no canvas is
 * needed and the same data gives byte-identical SVG.
 */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { MODES } from '../shared/config.js';
import type { Experiment, PlotDef } from './experiments.js';
import { fieldTitle, measure, measureTitle } from './report.js';
import { FileProblem, checkDirPath, ensureDir, lstatOrUndefined, probeDirPath, probeWritable, writeFileAtomic } from './files.js';
import type { RunRecord } from './store.js';

export function plotFileName(def: PlotDef): string {
  return `${def.file ?? `${def.y}-vs-${def.x}`}.svg`;
}

/** The Vega-Lite spec of one plot over some stored runs. */
export function plotSpec(def: PlotDef, records: readonly RunRecord[]): TopLevelSpec {
  const values = records
    .map((r) => ({
      x: r.config[def.x],
      y: measure(r.result, def.y),
      ...(def.series ? { series: r.config[def.series] } : {}),
    }))
    .filter((d) => d.y !== null);
  const numericX = values.every((d) => typeof d.x === 'number');
  const units = [...new Set(records.map((r) => r.result.metric.unit))];
  const yTitle = measureTitle(def.y, units.length === 1 ? units[0] : undefined);
  const xTitle = fieldTitle(def.x);
  const mark = def.mark ?? (numericX ? 'line' : 'bar');
  const xSort = def.x === 'mode' ? [...MODES] : 'ascending';
  const x =
    mark === 'bar' || !numericX
      ? { field: 'x', type: 'nominal' as const, title: xTitle, sort: xSort, axis: { labelAngle: 0 } }
      : {
          field: 'x',
          type: 'quantitative' as const,
          title: xTitle,
          scale: def.logX ? { type: 'log' as const, base: 2 } : { zero: false },
          axis: def.logX ? { values: [...new Set(values.map((d) => d.x as number))].sort((a, b) => a - b) } : {},
        };
  const seriesTitle = def.series ? fieldTitle(def.series) : undefined;
  const seriesNumeric = values.every((d) => typeof (d as { series?: unknown }).series === 'number');
  const color = def.series ? { field: 'series', type: seriesNumeric ? ('ordinal' as const) : ('nominal' as const), title: seriesTitle, legend: { orient: 'right' as const } } : undefined;
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: def.title ?? `${yTitle} by ${xTitle}`,
    width: 480,
    height: 300,
    background: 'white',
    data: { values },
    mark: mark === 'line' ? { type: 'line' as const, point: true } : { type: 'bar' as const },
    encoding: {
      x,
      y: { field: 'y', type: 'quantitative' as const, title: yTitle },
      ...(color ? { color } : {}),
      ...(color && mark === 'bar' ? { xOffset: { field: 'series', type: 'nominal' as const, title: seriesTitle } } : {}),
      ...(color && mark === 'line' ? { detail: { field: 'series', type: color.type } } : {}),
    },
  };
  return spec;
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

/**
 * Check, leaving nothing behind, that an experiment's plots could be written into `dir`:
 * no plot's file name is taken by a directory, the parts of the path that exist are
 * directories, the names fit, and a file can be created where the first directory would
 * be made. Throws FileProblem.
 */
export function checkPlotDir(exp: Experiment, dir: string): void {
  for (const def of exp.plots ?? []) {
    checkDirPath(dir, plotFileName(def));
    const file = join(dir, plotFileName(def));
    if (lstatOrUndefined(file)?.isDirectory()) throw new FileProblem(file, 'is a directory, where a plot should be written');
    probeDirPath(dir, plotFileName(def));
  }
}

/** checkPlotDir, then the directory made and a file created and removed there, before anything runs. Throws FileProblem. */
export function preparePlotDir(exp: Experiment, dir: string): void {
  const defs = exp.plots ?? [];
  if (defs.length === 0) return;
  checkPlotDir(exp, dir);
  ensureDir(dir);
  for (const def of defs) probeWritable(dir, plotFileName(def));
}

/** Write every plot of an experiment into `dir` (each atomically); returns the files written. */
export async function writePlots(exp: Experiment, records: readonly RunRecord[], dir: string): Promise<string[]> {
  const defs = exp.plots ?? [];
  if (defs.length === 0) return [];
  preparePlotDir(exp, dir);
  const files: string[] = [];
  for (const def of defs) {
    const svg = await renderSvg(plotSpec(def, records));
    const file = join(dir, plotFileName(def));
    writeFileAtomic(file, svg + '\n');
    files.push(file);
  }
  return files;
}
