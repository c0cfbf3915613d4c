import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeConfigs } from '../../coordinator/execute.js';
import { expandExperiment, loadExperiment, type Experiment } from '../../coordinator/experiments.js';
import { plotSpec, renderSvg, writePlots } from '../../coordinator/plot.js';
import { formatPublished, measure, publishedReport } from '../../coordinator/report.js';
import { ResultStore, type RunRecord } from '../../coordinator/store.js';

const root = mkdtempSync(join(tmpdir(), 'vcpusim-plot-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The text nodes of an SVG (axis titles, tick labels, legend entries, title). */
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);

async function runInto(exp: Experiment): Promise<RunRecord[]> {
  const s = await executeConfigs(expandExperiment(exp), { store: new ResultStore(root, exp.name), workers: 1 });
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

  it('hit rate vs cache size: axis titles, one legend entry per task count, the cache sizes as ticks', async () => {
    const svg = await renderSvg(plotSpec(exp.plots![0]!, recs));
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
    expect(files.map((f) => f.slice(out.length + 1))).toEqual(['hit-rate-vs-cache-size.svg', 'switch-time-vs-cache-size.svg']);
    const svg = readFileSync(files[1]!, 'utf8');
    expect(texts(svg)).toEqual(expect.arrayContaining(['cr3 cache size (entries)', 'time per context switch (µs)', 'tasks', '2', '6', 'Context switch time by cache size']));
    expect(await renderSvg(plotSpec(exp.plots![1]!, recs))).toBe(svg.trimEnd());
  });
});

describe('published table', () => {
  let exp: Experiment;
  let recs: RunRecord[];
  beforeAll(async () => {
    const shipped = loadExperiment('published-table');
    exp = { ...shipped, base: { ...shipped.base, loops: 20 } };
    recs = await runInto(exp);
  });

  it('exits per switch by mode: a bar per mode and workload, with axis titles and legend', async () => {
    const svg = await renderSvg(plotSpec(exp.plots![0]!, recs));
    const t = texts(svg);
    expect(t).toEqual(expect.arrayContaining(['mode', 'VM exits per context switch', 'workload', 'ctxswitch', 'hackbench']));
    expect(t).toEqual(expect.arrayContaining(['native', 'qemu', 'kvm-upstream', 'kvm-trunk', 'kvm-paravirt']));
    // One bar per run: 5 modes x 2 workloads.
    expect(svg.match(/aria-roledescription="bar"/g)).toHaveLength(10);
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
