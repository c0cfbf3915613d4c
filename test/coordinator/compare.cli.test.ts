import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../shared/config.js';
import { compare } from '../../coordinator/reports/compare.js';
import type { RunRecord } from '../../coordinator/store/record.js';

const BIN = fileURLToPath(new URL('../../bin/vcpusim.js', import.meta.url));
const cli = (args: string[], cwd: string) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd });

/** A record with just what the measures read: the metric, exits, switches, the cr3 cache. */
function record(cfg: Parameters<typeof resolveConfig>[0], metric: number): RunRecord {
  const config = resolveConfig(cfg);
  const result = {
    config,
    metric: { name: 'm', unit: 'us/switch', value: metric },
    exits: { total: 10, byReason: {} },
    guest: { contextSwitches: 5 },
    cr3Cache: { lookups: 0, hits: 0 },
    mmu: { shadowFaults: 1, pagesEvicted: 0 },
    tlb: { misses: 2 },
    hostCpuUtilisation: 1,
  } as unknown as RunRecord['result'];
  return { key: JSON.stringify(config), modelVersion: 'x', config, result };
}

describe('compare: matching and replicates', () => {
  it('groups seeds, matches on the varied fields, names what differs, and gives the Welch interval', () => {
    const a = [1, 2, 3].map((seed) => record({ mode: 'kvm-trunk', tasks: 2, seed }, seed));
    a.push(record({ mode: 'kvm-trunk', tasks: 4, seed: 1 }, 10));
    const b = [1, 2, 3].map((seed) => record({ mode: 'kvm-trunk', tasks: 2, hz: 100, seed }, 4));
    const c = compare({ arg: 'a', experiment: 'a', source: 'sweep', results: 'r/a', records: a }, { arg: 'b', experiment: 'b', source: 'sweep', results: 'r/b', records: b });
    expect(c.matchedOn).toEqual(['tasks']);
    expect(c.differ).toEqual({ hz: [1000, 100] });
    expect(c.rows).toHaveLength(1);
    expect(c.unmatched).toEqual({ a: 1, b: 0 });
    const m = c.rows[0]!.figures.metric;
    expect([c.rows[0]!.nA, c.rows[0]!.nB, m.a, m.b, m.diff, m.ratio]).toEqual([3, 3, 2, 4, 2, 2]);
    expect(m.bLow).toBe(4);
    expect(m.diffLow).toBeCloseTo(2 - 4.302652729749464 / Math.sqrt(3), 12);
    expect(c.rows[0]!.figures.hitRate.a).toBeNull();
  });
});

describe('vcpusim compare (built CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vcpusim-compare-'));
  const sweep = (...args: string[]) => expect(cli(['sweep', '--mode', 'kvm-paravirt', '--loops', '20', '--cache-size', '1,4', ...args], dir).status).toBe(0);
  const metrics = (name: string): Map<number, number> => {
    const d = join(dir, 'results', name);
    const m = new Map<number, number>();
    for (const f of readdirSync(d).filter((f) => f !== 'experiment.json')) {
      const r = JSON.parse(readFileSync(join(d, f), 'utf8')) as RunRecord;
      m.set(r.config.cacheSize, r.result.metric.value);
    }
    return m;
  };

  it('two small stores: the exact difference and ratio of each matched run, by name and by store directory', () => {
    sweep('--name', 'hz1000');
    sweep('--name', 'hz100', '--hz', '100');
    const a = metrics('hz1000');
    const b = metrics('hz100');
    const r = cli(['compare', 'hz1000', 'results/hz100', '--json'], dir);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.kind).toBe('comparison');
    expect(doc.matchedOn).toEqual(['cacheSize']);
    expect(doc.differ).toEqual({ hz: [1000, 100] });
    expect([doc.a.source, doc.b.source]).toEqual(['sweep', 'store']);
    expect(doc.rows).toHaveLength(2);
    for (const row of doc.rows) {
      const x = a.get(row.match.cacheSize)!;
      const y = b.get(row.match.cacheSize)!;
      expect(row.figures.metric).toMatchObject({ a: x, b: y, diff: y - x, ratio: y / x, diffLow: null });
    }
    const csv = cli(['compare', 'hz1000', 'hz100', '--format', 'csv'], dir);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('cacheSize,nA,nB,figure,a,b,diff,ratio,aLow,aHigh,bLow,bHigh,diffLow,diffHigh');
    expect(lines).toHaveLength(1 + 2 * 9);
    expect(lines[1]).toBe(`1,1,1,metric,${a.get(1)},${b.get(1)},${b.get(1)! - a.get(1)!},${b.get(1)! / a.get(1)!},,,,,,`);
    const md = cli(['compare', 'hz1000', 'hz100', '--format', 'md'], dir);
    expect(md.stdout).toContain('| cacheSize | figure | A | B | B - A | B / A |');
  });

  it('a side that names nothing is one line, exit 2', () => {
    for (const [args, message] of [
      [['nosuch', 'hz100'], /^error: compare: "nosuch": no such experiment, and no stored sweep/],
      [['hz100', 'results/nosuch'], /^error: compare: results\/nosuch: has no experiment\.json/],
      [['hz100', '../'], /^error: compare: /],
    ] as const) {
      const r = cli(['compare', ...args], dir);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
