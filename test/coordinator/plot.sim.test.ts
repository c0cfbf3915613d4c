import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRunner } from '../../coordinator/execution/local.js';

/** The runs of these tests in the test's own thread. */
const inThread = () => new LocalRunner({ inThread: true });
import { executeConfigs } from '../../coordinator/execution/execute.js';
import { expandExperiment } from '../../coordinator/experiments/expand.js';
import { loadExperiment, loadExperimentFile, validateExperiment } from '../../coordinator/experiments/load.js';
import { type Experiment } from '../../coordinator/experiments/schema.js';
import { plotSpec, renderPlots, renderSvg, writePlots } from '../../coordinator/reports/plots.js';
import { METRIC_UNITS } from '../../coordinator/reports/plot-check.js';
import { fmtNum } from '../../coordinator/reports/format.js';
import { formatPublished, publishedReport } from '../../coordinator/reports/published.js';
import { measure } from '../../coordinator/reports/measures.js';
import { ResultStore } from '../../coordinator/store/store.js';
import { type RunRecord } from '../../coordinator/store/record.js';

const root = mkdtempSync(join(tmpdir(), 'vcpusim-plot-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The text nodes of an SVG (axis titles, tick labels, legend entries, title). */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);

async function runInto(exp: Experiment): Promise<RunRecord[]> {
  const s = await executeConfigs(expandExperiment(exp), { store: new ResultStore(root, exp.name), runner: inThread });
  expect(s.failed).toEqual([]);
  return s.records as RunRecord[];
}

describe('cr3 cache sweep plots', () => {
  let exp: Experiment;
  let recs: RunRecord[];
  beforeAll(async () => {
    // The shipped sweep's plots over a small grid.
    exp = { ...loadExperiment('cr3-cache-sweep'), grid: { cacheSize: [1, 2, 4, 8], tasks: [{ tasks: 2, loops: 40 }, { tasks: 6, loops: 20 }] } };
    recs = await runInto(exp);
  });

  it('hit rate vs cache size: steps (a size between two run holds the smaller one\'s figure), axis titles, one legend entry per task count, the cache sizes as ticks', async () => {
    const spec = plotSpec(exp.plots![0]!, recs) as { layer: { mark: { type: string; interpolate?: string } }[] };
    expect(spec.layer[0]!.mark).toMatchObject({ type: 'line', interpolate: 'step-after' });
    const svg = await renderSvg(spec as never);
    const t = texts(svg);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(t).toContain('cr3 cache size (entries)');
    expect(t).toContain('cr3 cache hit rate (%)');
    expect(t).toContain('tasks'); // legend title
    expect(t).toEqual(expect.arrayContaining(['2', '6'])); // legend entries
    expect(t).toEqual(expect.arrayContaining(['1', '4', '8'])); // x ticks
    // The data behind the lines are the stored hit rates: 2 tasks fit from 2 entries on, 6 tasks from 8.
    const rate = (tasks: number, size: number) => measure(recs.find((r) => r.config.tasks === tasks && r.config.cacheSize === size)!.result, 'hitRate')!;
    expect(rate(2, 4)).toBeGreaterThan(90);
    expect(rate(6, 8)).toBeGreaterThan(rate(6, 1));
  });

  it('µs per switch vs cache size, written to files; rendering is deterministic', async () => {
    const out = join(root, 'plots');
    const files = await writePlots(exp, recs, out);
    expect(files.map((f) => f.slice(out.length + 1))).toEqual([
      'hit-rate-vs-cache-size.svg',
      'hit-rate-vs-cache-size.vl.json',
      'hit-rate-vs-cache-size.png',
      'switch-time-vs-cache-size.svg',
      'switch-time-vs-cache-size.vl.json',
      'switch-time-vs-cache-size.png',
    ]);
    const svg = readFileSync(files[3]!, 'utf8');
    expect(texts(svg)).toEqual(expect.arrayContaining(['cr3 cache size (entries)', 'time per context switch (µs)', 'tasks', '2', '6', 'Context switch time by cache size']));
    expect(await renderSvg(plotSpec(exp.plots![1]!, recs))).toBe(svg.trimEnd());
    // The Vega-Lite spec beside it, with the log y axis the switch time needs, and a PNG.
    const spec = JSON.parse(readFileSync(files[4]!, 'utf8'));
    expect(spec.layer[0].encoding.y.scale).toEqual({ type: 'log' });
    expect(spec.layer[0].encoding.color.scale).toEqual({ scheme: 'tableau10' });
    const png = readFileSync(files[5]!);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const plots = await renderPlots(exp, recs);
    expect(plots.map((p) => p.name)).toEqual(['hit-rate-vs-cache-size', 'switch-time-vs-cache-size']);
    expect(plots[1]!.svg).toBe(svg.trimEnd());
    expect(plots[1]!.png).toBeUndefined();
  });
});

describe('published table', () => {
  let exp: Experiment;
  let recs: RunRecord[];
  beforeAll(async () => {
    const shipped = loadExperiment('published-table');
    exp = { ...shipped, base: { ...shipped.base, loops: 20 }, seeds: undefined };
    recs = await runInto(exp);
  });

  it('exits per switch by mode on a log axis: a labelled point (never a bar) per KVM mode and workload; the 0 of native and qemu said in the subtitle', async () => {
    const spec = plotSpec(exp.plots![0]!, recs) as { layer: { mark: { type: string }; encoding: { y: { scale: unknown } } }[] };
    expect(spec.layer[0]!.encoding.y.scale).toEqual({ type: 'log' });
    expect(spec.layer[0]!.mark.type).toBe('point');
    const svg = await renderSvg(spec as never);
    const t = texts(svg);
    expect(t).toEqual(expect.arrayContaining(['mode', 'VM exits per context switch', 'workload', 'ctxswitch', 'hackbench']));
    expect(t).toEqual(expect.arrayContaining(['kvm-upstream', 'kvm-trunk', 'kvm-paravirt']));
    expect(t).toContain('native ctxswitch, qemu ctxswitch, native hackbench, qemu hackbench: 0, not drawn on the log axis');
    // No bar; one point per KVM run: 3 modes x 2 workloads, each with its value written above it.
    expect(svg.match(/aria-roledescription="bar"/g)).toBeNull();
    expect(svg.match(/aria-roledescription="point"/g)).toHaveLength(6);
    const trunk = recs.find((r) => r.config.mode === 'kvm-trunk' && r.config.workload === 'ctxswitch')!;
    expect(t).toContain(fmtNum(measure(trunk.result, 'exitsPerSwitch')));
  });

  it('simulated against published: a panel per row, published hollow and simulated filled per mode, each error written', async () => {
    const plots = await renderPlots(exp, recs);
    expect(plots.map((p) => p.name)).toEqual(['exits-per-switch', 'simulated-vs-published']);
    const cmp = plots[1]!;
    const t = texts(cmp.svg);
    expect(t).toEqual(expect.arrayContaining(['2-task context switch (us/switch)', 'hackbench 1 (40 tasks) (s)', 'us/switch (log scale)', 's (log scale)']));
    const rep = publishedReport(exp, recs);
    for (const row of rep.rows) for (const c of row.cells) expect(t).toContain(`${c.errorPct! >= 0 ? '+' : ''}${c.errorPct!.toFixed(1)}%`);
    // 10 published points and 10 simulated ones.
    expect(cmp.svg.match(/aria-roledescription="point"/g)).toHaveLength(20);
    expect(cmp.svg.match(/aria-roledescription="bar"/g)).toBeNull();
  });

  it('the report puts simulated beside published with the error in %', () => {
    const rep = publishedReport(exp, recs);
    expect(rep.modes).toEqual(['native', 'qemu', 'kvm-upstream', 'kvm-trunk', 'kvm-paravirt']);
    const cs = rep.rows[0]!.cells.find((c) => c.mode === 'kvm-trunk')!;
    const rec = recs.find((r) => r.config.mode === 'kvm-trunk' && r.config.workload === 'ctxswitch')!;
    expect(cs.published).toBe(6.36);
    expect(cs.simulated).toBe(rec.result.metric.value);
    expect(cs.errorPct).toBeCloseTo(((rec.result.metric.value - 6.36) / 6.36) * 100, 10);
    const csv = formatPublished(rep, 'csv').trim().split('\n');
    expect(csv[0]).toBe('row,unit,mode,published,simulated,error_pct,exits_per_switch');
    expect(csv).toHaveLength(11);
    expect(csv.find((l) => l.includes('hackbench') && l.includes(',qemu,'))).toContain(',7.8,');
    const md = formatPublished(rep, 'md');
    expect(md).toContain('| workload | unit | native | qemu | kvm-upstream | kvm-trunk | kvm-paravirt |');
    const json = JSON.parse(formatPublished(rep, 'json'));
    expect(json.schemaVersion).toBe(2);
    expect(json.rows[1].cells[4]).toMatchObject({ mode: 'kvm-paravirt', published: 0.36 });
  });
});

describe('plots place every varied field', () => {
  const shipped = (name: string) => {
    const e = loadExperiment(name);
    const { file: _, ...raw } = e;
    return raw;
  };

  it('a varied field that is neither x, series nor facet is an error naming the plot, the field and its values', () => {
    const raw = shipped('shadow-pool-sweep');
    const plots = raw.plots!.map(({ facet: _, ...p }) => p);
    expect(() => validateExperiment({ ...raw, plots }, 'pool.yaml')).toThrow(
      /^pool\.yaml: plots\[0\]: plot hackbench-vs-mmu-pages draws mode = kvm-trunk, kvm-paravirt as one point; expected mode as its x, series or facet \(x is mmuPages, series groups\)$/,
    );
    // Where the plotted subset has one value it is fine: the hit rate exists only under kvm-paravirt.
    const trace = shipped('trace-cache-sweep');
    expect(trace.plots![0]!.series).toBeUndefined();
    expect(() => validateExperiment(trace, 'trace.yaml')).not.toThrow();
  });

  it('two units on one y axis is an error; the seed as a field needs a place or seeds: N', () => {
    const raw = shipped('smp-quantum');
    const plots = [{ x: 'quantum', y: 'metric', series: 'workload' }];
    expect(() => validateExperiment({ ...raw, plots }, 'q.yaml')).toThrow(/^q\.yaml: plots\[0\]: plot metric-vs-quantum puts the metric in us\/roundtrip and s on one y axis; expected facet: workload \(a panel per unit\)$/);
    const seeded = { name: 's', description: '', base: { workload: 'ctxswitch' }, grid: { seed: [1, 2], tasks: [2, 4] }, plots: [{ x: 'tasks', y: 'metric' }] };
    expect(() => validateExperiment(seeded, 's.yaml')).toThrow(/draws seed = 1, 2 as one point; .*or give seeds: N to average over seeds 1\.\.N$/);
    expect(() => validateExperiment({ ...seeded, grid: { tasks: [2, 4] }, seeds: 2 }, 's.yaml')).not.toThrow();
  });

  it('the shipped experiments: every plot loads, the fixed ones facet and use log axes', () => {
    for (const f of ['cr3-cache-sweep', 'published-table', 'shadow-pool-sweep', 'smp-quantum', 'idle-guest']) expect(() => loadExperimentFile(`experiments/${f}.yaml`)).not.toThrow();
    expect(loadExperiment('shadow-pool-sweep').plots!.map((p) => [p.facet, p.logY])).toEqual([['mode', true], ['mode', undefined]]);
    expect(loadExperiment('smp-quantum').plots![0]!.facet).toBe('workload');
    expect(loadExperiment('idle-guest').plots![0]!.facet).toBe('clocksource');
    expect(loadExperiment('published-table').plots![0]!.logY).toBe(true);
    expect(loadExperiment('cr3-cache-sweep').plots![1]!.logY).toBe(true);
  });
});

describe('a faceted plot with replicates', () => {
  let exp: Experiment;
  let recs: RunRecord[];
  beforeAll(async () => {
    const shipped = loadExperiment('shadow-pool-sweep');
    exp = { ...shipped, base: { ...shipped.base, loops: 2 }, grid: { mode: ['kvm-trunk', 'kvm-paravirt'], groups: [1], mmuPages: [64, 256] }, seeds: 2 };
    recs = await runInto(exp);
  });

  it('a panel per mode with its own title, log y, and error bars of the 95% interval', async () => {
    const spec = plotSpec(exp.plots![0]!, recs) as unknown as { hconcat: { title: string; layer: { mark: { type: string }; encoding: { y: { scale: unknown } } }[] }[] };
    expect(spec.hconcat.map((p) => p.title)).toEqual(['mode: kvm-trunk', 'mode: kvm-paravirt']);
    expect(spec.hconcat[0]!.layer.map((l) => l.mark.type)).toEqual(['line', 'errorbar']);
    expect(spec.hconcat[0]!.layer[0]!.encoding.y.scale).toEqual({ type: 'log' });
    // Both panels in seconds: one y axis, so the same height is the same figure.
    expect((spec as unknown as { resolve: { scale: { y: string } } }).resolve.scale.y).toBe('shared');
    const data = (spec as unknown as { data: { values: { x: number; facet: string; y: number; n: number; lo: number; hi: number }[] } }).data.values;
    const p = data.find((d) => d.x === 64 && d.facet === 'kvm-trunk')!;
    const ys = recs.filter((r) => r.config.mode === 'kvm-trunk' && r.config.mmuPages === 64).map((r) => r.result.metric.value);
    expect(ys).toHaveLength(2);
    expect(p.n).toBe(2);
    expect(p.y).toBe((ys[0]! + ys[1]!) / 2);
    // t(0.975, 1) = 12.706: the half-width is 12.706 * |a - b| / 2.
    expect(p.hi - p.y).toBeCloseTo((12.706204736174707 * Math.abs(ys[0]! - ys[1]!)) / 2, 9);
    const svg = await renderSvg(spec as never);
    expect(texts(svg)).toEqual(expect.arrayContaining(['mode: kvm-trunk', 'mode: kvm-paravirt', 'run time (s)', 'shadow page pool (pages)']));
  });

  it('the metric units of the workloads are those the runs report', () => {
    for (const r of recs) expect(r.result.metric.unit).toBe(METRIC_UNITS[r.config.workload]);
  });
});
