/**
 * `vcpusim calibrate [spec]`: fit the free costs a calibration spec declares to its
 * published figures over this machine's threads, and write the fitted profile
 * (calibration/).
 */
import { basename, dirname, resolve } from 'node:path';
import { PROFILES } from '../../shared/costs.js';
import { UsageError } from '../../shared/errors.js';
import { SCHEMA_VERSION } from '../../shared/stats.js';
import { ok, type Outcome } from '../cli/outcome.js';
import { findCalibrationSpec } from '../experiments/resolve.js';
import { FileProblem, checkDirPath, checkPath, ensureDir, lstatOrUndefined, probeWritable } from '../store/files.js';

export interface CalibrateCommandOptions {
  maxEvals?: number;
  out?: string;
  start?: string;
  workers?: number;
  dryRun: boolean;
  json: boolean;
}

export async function calibrateCommand(specName: string, o: CalibrateCommandOptions): Promise<Outcome> {
  const file = findCalibrationSpec(specName);
  if (!file) throw new UsageError({ option: 'calibrate', value: specName, allowed: 'a name in experiments/calibration/ or a path to a .yaml file', detail: `no spec ${JSON.stringify(specName)}; expected a name in experiments/calibration/ or a path to a .yaml file` });
  if (o.start !== undefined && !Object.hasOwn(PROFILES, o.start)) throw new UsageError({ option: '--start', value: o.start, allowed: `one of ${Object.keys(PROFILES).join(', ')}` });
  const out = o.out;
  if (out !== undefined && !o.dryRun) {
    checkPath('--out', 'a file in a directory that can be written', () => {
      checkDirPath(dirname(resolve(out)), basename(out));
      if (lstatOrUndefined(out)?.isDirectory()) throw new FileProblem(out, 'is a directory, not a file');
      ensureDir(dirname(resolve(out)));
      probeWritable(dirname(resolve(out)), basename(out));
    });
  }
  // Loaded when asked for: the spec's validation, the fit and the runner.
  const [{ loadCalibrationSpec }, { calibrate }, { formatCalibration }, { LocalRunner }, { defaultWorkers }] = await Promise.all([
    import('../calibration/spec.js'),
    import('../calibration/calibrate.js'),
    import('../calibration/format.js'),
    import('../execution/local.js'),
    import('../execution/limits.js'),
  ]);
  const spec = loadCalibrationSpec(file);
  const showProgress = !o.json && process.stderr.isTTY;
  const workers = o.workers ?? defaultWorkers();
  // One thread runs in this one (no pool to start).
  const runner = new LocalRunner(workers > 1 ? { threads: workers } : { inThread: true });
  let r;
  try {
    r = await calibrate(spec, runner, {
      maxEvaluations: o.maxEvals,
      out: o.dryRun ? null : o.out,
      start: o.start,
      onEvaluation: (n, _fx, best) => {
        if (showProgress) process.stderr.write(`\revaluation ${n}, best objective ${best.toFixed(4)}   `);
      },
    });
  } finally {
    await runner.close();
  }
  if (showProgress) process.stderr.write('\n');
  if (o.json) {
    const { spec: s, ...rest } = r;
    return ok(JSON.stringify({ schemaVersion: SCHEMA_VERSION, spec: s.name, ...rest }, null, 2) + '\n');
  }
  return ok(formatCalibration(r));
}
