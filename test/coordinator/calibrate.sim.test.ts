import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calibrate } from '../../coordinator/calibration/calibrate.js';
import { loadCalibrationSpec, targetCells } from '../../coordinator/calibration/spec.js';
import { nelderMead } from '../../coordinator/calibration/nelder-mead.js';
import { LocalRunner } from '../../coordinator/execution/local.js';
import { CORE2_2007, profileFromFile } from '../../shared/costs.js';

describe('Nelder–Mead', () => {
  it('finds the minimum of a shifted quadratic in the unit box, deterministically', async () => {
    const f = (x: readonly number[]) => (x[0]! - 0.3) ** 2 + 2 * (x[1]! - 0.7) ** 2 + 0.5;
    const a = await nelderMead(f, [0.9, 0.1], { maxEvaluations: 400, tolerance: 1e-12 });
    const b = await nelderMead(f, [0.9, 0.1], { maxEvaluations: 400, tolerance: 1e-12 });
    expect(a.x[0]).toBeCloseTo(0.3, 3);
    expect(a.x[1]).toBeCloseTo(0.7, 3);
    expect(a.fx).toBeCloseTo(0.5, 6);
    expect(b).toEqual(a);
  });

  it('stays inside the box when the minimum lies outside it', async () => {
    const r = await nelderMead((x) => (x[0]! - 2) ** 2, [0.5], { maxEvaluations: 200 });
    expect(r.x[0]).toBe(1);
  });
});

describe('calibration spec and fit', () => {
  // In this thread: the fit's runs block it, as calibrate --workers 1 does.
  const here = new LocalRunner({ inThread: true });
  const dir = mkdtempSync(join(tmpdir(), 'vcpusim-cal-'));
  const specPath = join(dir, 'tiny.yaml');
  writeFileSync(
    specPath,
    [
      'name: tiny-fitted',
      'description: one cost fitted to the native 2-task figure',
      'base: core2-2007',
      'targets: published-table',
      'maxEvaluations: 12',
      'loops: { ctxswitch: 300, hackbench: 5 }',
      'free:',
      '  - { cost: schedule, min: 300, max: 6000, reason: the native switch }',
    ].join('\n'),
  );

  it('reads the ten target cells of the published table', () => {
    const cells = targetCells(loadCalibrationSpec(specPath));
    expect(cells).toHaveLength(10);
    expect(cells.find((c) => c.mode === 'kvm-paravirt' && c.config.workload === 'ctxswitch')?.published).toBe(1.6);
    expect(cells.every((c) => c.config.profile === 'core2-2007')).toBe(true);
  });

  it('rejects more than 8 free costs, unknown costs and inverted bounds, naming the field', () => {
    const bad = (free: string, name = 'bad.yaml') => {
      const p = join(dir, name);
      writeFileSync(p, ['name: x', 'description: x', 'base: core2-2007', 'targets: published-table', 'maxEvaluations: 5', 'free:', free].join('\n'));
      return () => loadCalibrationSpec(p);
    };
    expect(bad('  - { cost: warpDrive, min: 1, max: 2, reason: r }')).toThrow(/free\[0\]\.cost: "warpDrive" is not allowed/);
    expect(bad('  - { cost: schedule, min: 5, max: 2, reason: r }')).toThrow(/free\[0\]: .*min must be below max/);
    expect(bad('  - { cost: schedule, min: 1, max: 2, reason: r }\nstart: { warpDrive: 3 }')).toThrow(/start/);
    const nine = ['schedule', 'wakeup', 'pipeRead', 'pipeWrite', 'unixSend', 'unixRecv', 'tlbWalk', 'movCr3', 'invlpg'];
    expect(bad(nine.map((c) => `  - { cost: ${c}, min: 1, max: 2, reason: r }`).join('\n'))).toThrow(/free: .*is not allowed/);
  });

  it('lowers the objective and writes a profile whose fitted costs carry bounds and reasons', async () => {
    const out = join(dir, 'tiny-fitted.json');
    const spec = loadCalibrationSpec(specPath);
    const start = await calibrate(spec, here, { out: null, maxEvaluations: 2 }); // only the initial simplex
    const r = await calibrate(spec, here, { out });
    expect(r.evaluations).toBeGreaterThanOrEqual(12);
    expect(r.cells).toHaveLength(10);
    expect(r.fitObjective).toBeLessThan(start.fitObjective);
    const file = JSON.parse(readFileSync(out, 'utf8'));
    expect(file.base).toBe('core2-2007');
    expect(file.costs.schedule.value).toBe(r.fitted.schedule);
    expect(file.costs.schedule.note).toMatch(/within \[300, 6000\]: the native switch/);
    expect(file.fit.cells).toHaveLength(10);
    const profile = profileFromFile(file, { 'core2-2007': CORE2_2007 });
    expect(profile.costs.schedule.value).toBe(r.fitted.schedule);
    expect(profile.costs.wakeup.value).toBe(CORE2_2007.costs.wakeup.value);
  });

  it('a tolerance counts each cell beyond it ten times its excess', async () => {
    const withTolerance = (t: number) => {
      const p = join(dir, `tolerance-${t}.yaml`);
      writeFileSync(p, readFileSync(specPath, 'utf8') + `\ntolerance: ${t}\n`);
      return loadCalibrationSpec(p);
    };
    const at = (spec: ReturnType<typeof loadCalibrationSpec>) => calibrate(spec, here, { out: null, maxEvaluations: 1 });
    const plain = await at(loadCalibrationSpec(specPath));
    const wide = await at(withTolerance(1));
    const tight = await at(withTolerance(0.001));
    // The same start point: the same cells and the same reported mean squared log error.
    expect(wide.objective).toBe(plain.objective);
    expect(tight.objective).toBe(plain.objective);
    // Every cell is more than 0.1% off: each counts its squared error about 1 + 10 times.
    expect(tight.fitObjective / plain.fitObjective).toBeGreaterThan(10.9);
    expect(tight.fitObjective / plain.fitObjective).toBeLessThanOrEqual(11);
    // Within a band of ±100% only the cells beyond it add anything.
    expect(wide.fitObjective).toBeGreaterThanOrEqual(plain.fitObjective);
    expect(wide.fitObjective).toBeLessThan(tight.fitObjective);
  });
});
