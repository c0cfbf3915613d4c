import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRunner } from '../../coordinator/execution/local.js';

/** The runs of these tests in the test's own thread. */
const inThread = () => new LocalRunner({ inThread: true });
import { executeConfigs } from '../../coordinator/execution/execute.js';
import { expand, expandExperiment } from '../../coordinator/experiments/expand.js';
import { loadExperiment, validateExperiment } from '../../coordinator/experiments/load.js';
import { type Experiment } from '../../coordinator/experiments/schema.js';
import { meanCi } from '../../coordinator/reports/replicates.js';
import { formatPublished, publishedReport } from '../../coordinator/reports/published.js';
import { formatRuns, runsReport } from '../../coordinator/reports/tables.js';
import { ResultStore } from '../../coordinator/store/store.js';
import { configKey, type RunRecord } from '../../coordinator/store/record.js';

const root = mkdtempSync(join(tmpdir(), 'vcpusim-seeds-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('seeds: N in an experiment file', () => {
  const raw = {
    name: 'seeds-small',
    description: 'replicates',
    base: { workload: 'hackbench', groups: 1, loops: 2 },
    grid: { mode: ['native', 'kvm-trunk'] },
    seeds: 3,
  };

  it('runs every point with seeds 1..N; seed 1 keeps the key the point has without seeds', () => {
    const exp = validateExperiment(raw, 'seeds-small.yaml');
    const e = expand(exp);
    expect(e.points).toBe(6);
    expect(e.configs.map((c) => `${c.mode}:${c.seed}`)).toEqual(['native:1', 'native:2', 'native:3', 'kvm-trunk:1', 'kvm-trunk:2', 'kvm-trunk:3']);
    const { seeds: _, ...once } = raw;
    const plain = expandExperiment(validateExperiment(once, 'once.yaml'));
    expect(plain.map((c) => configKey(c))).toEqual([configKey(e.configs[0]!), configKey(e.configs[3]!)]);
  });

  it('a seed of its own beside seeds is an error naming both', () => {
    expect(() => validateExperiment({ ...raw, base: { ...raw.base, seed: 7 } }, 'x.yaml')).toThrow(
      /^x\.yaml: base\.seed: a seed is not allowed together with seeds \(3: seeds 1-3 of every point\); give one or the other$/,
    );
    expect(() => validateExperiment({ ...raw, seeds: 0 }, 'x.yaml')).toThrow(/^x\.yaml: seeds: /);
    expect(() => validateExperiment({ ...raw, seeds: 21 }, 'x.yaml')).toThrow(/^x\.yaml: seeds: /);
  });

  describe('reports over stored seeds', () => {
    let exp: Experiment;
    let recs: RunRecord[];
    beforeAll(async () => {
      exp = validateExperiment(raw, 'seeds-small.yaml');
      const s = await executeConfigs(expandExperiment(exp), { store: new ResultStore(root, exp.name), runner: inThread });
      expect(s.failed).toEqual([]);
      recs = s.records as RunRecord[];
    });

    it('the runs table: one row per point, metric_mean, metric_ci95 and n from the seeds', () => {
      const configs = expandExperiment(exp);
      const rep = runsReport(exp.name, configs, recs, exp.seeds);
      expect(rep.fields).toEqual(['mode']);
      expect(rep.runs).toHaveLength(2);
      const trunk = recs.filter((r) => r.config.mode === 'kvm-trunk').map((r) => r.result.metric.value);
      // The seeds differ (objects land elsewhere in memory), so there is an interval.
      expect(new Set(trunk).size).toBeGreaterThan(1);
      const want = meanCi(trunk)!;
      const mean = trunk.reduce((a, b) => a + b, 0) / 3;
      const sd = Math.sqrt(trunk.reduce((a, v) => a + (v - mean) ** 2, 0) / 2);
      expect(want.ci95).toBeCloseTo((4.302652729911275 * sd) / Math.sqrt(3), 12);
      const csv = formatRuns(rep, 'csv').trim().split('\n');
      expect(csv[0]).toBe('mode,metric_mean,metric_ci95,n,unit,hit_rate_pct,exits_per_switch,exits,shadow_faults,pages_evicted,keys');
      const row = csv.find((l) => l.startsWith('kvm-trunk,'))!.split(',');
      expect(Number(row[1])).toBeCloseTo(mean, 12);
      expect(Number(row[2])).toBe(want.ci95);
      expect(row[3]).toBe('3');
      expect(row[10]!.split(' ')).toHaveLength(3);
      const table = formatRuns(rep, 'table');
      expect(table).toContain('metric mean');
      expect(table).toContain('± 95%');
      const json = JSON.parse(formatRuns(rep, 'json'));
      expect(json.replicates).toBe(true);
      expect(json.runs[1]).toMatchObject({ n: 3, values: { metric: rep.runs[1]!.values.metric } });
    });

    it('one stored seed: n = 1 and no interval', () => {
      const configs = expandExperiment(exp);
      const only1 = recs.map((r) => (r.config.seed === 1 ? r : undefined));
      const rep = runsReport(exp.name, configs, only1, exp.seeds);
      const csv = formatRuns(rep, 'csv').trim().split('\n');
      expect(csv[1]!.split(',').slice(2, 4)).toEqual(['', '1']);
      expect(rep.missing).toHaveLength(4);
    });

    it('the published table compares the mean over the seeds', () => {
      const withPub: Experiment = {
        ...exp,
        published: { source: 'a hand-made row', rows: [{ label: 'hackbench 1', match: { workload: 'hackbench' }, unit: 's', values: { native: 0.25, 'kvm-trunk': 0.55 } }] },
      };
      const rep = publishedReport(withPub, recs);
      const cell = rep.rows[0]!.cells.find((c) => c.mode === 'kvm-trunk')!;
      const trunk = recs.filter((r) => r.config.mode === 'kvm-trunk').map((r) => r.result.metric.value);
      const s = meanCi(trunk)!;
      expect(cell).toMatchObject({ simulated: s.mean, ci95: s.ci95, n: 3 });
      expect(cell.errorPct).toBeCloseTo(((s.mean - 0.55) / 0.55) * 100, 10);
      expect(formatPublished(rep, 'csv').split('\n')[0]).toBe('row,unit,mode,published,simulated_mean,simulated_ci95,n,error_pct,exits_per_switch');
      expect(formatPublished(rep, 'table')).toContain('95% interval, n');
    });
  });

  it('a shipped experiment without seeds runs seed 1 (its store keys as before); one whose figures vary by seed runs seeds 1-N', () => {
    const cr3 = loadExperiment('cr3-cache-sweep');
    expect(cr3.seeds).toBeUndefined();
    expect(new Set(expandExperiment(cr3).map((c) => c.seed))).toEqual(new Set([1]));
    const pool = loadExperiment('shadow-pool-sweep');
    expect(pool.seeds).toBe(3);
    expect(new Set(expandExperiment(pool).map((c) => c.seed))).toEqual(new Set([1, 2, 3]));
  });
});

describe('--seeds on the command line', () => {
  const BIN = fileURLToPath(new URL('../../bin/vcpusim.js', import.meta.url));
  const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

  it('run --seeds 3: every seed, then the mean, the 95% interval and n; --json has them', () => {
    const args = ['run', '--mode', 'kvm-trunk', '--workload', 'hackbench', '--groups', '1', '--loops', '2', '--seeds', '3'];
    const j = cli(...args, '--json');
    expect(j.status).toBe(0);
    const doc = JSON.parse(j.stdout);
    expect(doc.seeds).toEqual([1, 2, 3]);
    expect(doc.results.map((r: { config: { seed: number } }) => r.config.seed)).toEqual([1, 2, 3]);
    const s = meanCi(doc.metric.values)!;
    expect(doc.metric).toMatchObject({ unit: 's', mean: s.mean, ci95: s.ci95, n: 3 });
    const t = cli(...args);
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/hackbench over seeds 1-3: mean [\d.]+ s ± [\d.e-]+ \(95% interval, Student t\), n = 3\n$/);
  });

  it('--seeds with --seed, or out of range, is a usage error (exit 2)', () => {
    const r = cli('run', '--seeds', '2', '--seed', '5');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('error: --seeds: 2 runs seeds 1-2, and --seed 5 was given as well; expected one of --seed and --seeds');
    const s = cli('sweep', '--seeds', '21', '--tasks', '2,4');
    expect(s.status).toBe(2);
    expect(s.stderr).toContain('--seeds: 21 is not allowed; expected an integer from 1 to 20');
  });

  it('sweep --seeds 2: the CSV has metric_mean, metric_ci95 and n per point', () => {
    const results = join(root, 'cli');
    const r = cli('sweep', '--name', 'sd', '--results', results, '--workers', '1', '--mode', 'native,kvm-trunk', '--workload', 'ctxswitch', '--tasks', '2', '--loops', '50', '--seeds', '2', '--format', 'csv');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('mode,metric_mean,metric_ci95,n,unit,hit_rate_pct,exits_per_switch,exits,shadow_faults,pages_evicted,keys');
    expect(lines.slice(1).map((l) => l.split(',')[3])).toEqual(['2', '2']);
    expect(r.stderr).toContain('sd: 4 configs, 4 run');
    // The sweep's manifest keeps seeds: its report is by point again.
    const rep = cli('report', 'sd', '--results', results, '--format', 'csv');
    expect(rep.stdout).toBe(r.stdout);
  });
});
