/**
 * What a name on the command line refers to: an experiment file (a .yaml/.yml/.json
 * path), an experiment by name in the experiments directory, a sweep by the manifest it
 * left in the store (`results/<name>/experiment.json`), or a store directory; and a
 * calibration spec by name or path. Each is validated as a file would be.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../../shared/errors.js';
import { FileProblem, RESULTS_ALLOWED, checkPath, displayPath } from '../store/files.js';
import { ResultStore } from '../store/store.js';
import { defaultExperimentsDir, findExperimentFile, isExperimentPath, listExperimentFiles, loadExperiment, validateExperiment } from './load.js';
import { ExperimentError, NAME_ALLOWED, isValidName, type Experiment } from './schema.js';

export const EXPERIMENT_ARG_ALLOWED = `an experiment name (${NAME_ALLOWED}) or a path to a .yaml/.json file`;

/** The experiment a store directory holds results of, from its manifest; undefined if it has none. */
function manifestOf(store: ResultStore): Experiment | undefined {
  const shown = displayPath(join(store.dir, 'experiment.json'));
  let raw: unknown;
  try {
    raw = store.readManifest();
  } catch (err) {
    if (err instanceof FileProblem) throw new ExperimentError(shown, '', err.reason);
    throw err;
  }
  return raw === undefined ? undefined : validateExperiment(raw, shown);
}

/** The experiment to report on: an experiment file, or the manifest a sweep left in the store. */
export function experimentForReport(name: string, results: string, experimentsDir: string, option = 'report'): Experiment {
  if (isExperimentPath(name)) return loadExperiment(name, experimentsDir);
  if (!isValidName(name)) throw new UsageError({ option, value: name, allowed: `an experiment or sweep name (${NAME_ALLOWED}) or a path to a .yaml/.json file` });
  if (findExperimentFile(name, experimentsDir)) return loadExperiment(name, experimentsDir);
  const store = new ResultStore(results, name);
  checkPath('--results', RESULTS_ALLOWED, () => store.check());
  const exp = manifestOf(store);
  if (exp === undefined) {
    const names = listExperimentFiles(experimentsDir).map((e) => e.name);
    throw new UsageError({ option, value: name, allowed: `one of ${names.join(', ')} or a sweep name`, detail: `${JSON.stringify(name)}: no such experiment, and no stored sweep in ${displayPath(store.dir)}; expected one of ${names.join(', ')} or a sweep name` });
  }
  return exp;
}

/** One side of `compare`: the experiment and the store its runs are read from. */
export interface ResolvedSide {
  exp: Experiment;
  store: ResultStore;
  /** How the argument was resolved: an experiment file, a sweep's manifest, a store directory. */
  source: 'experiment' | 'sweep' | 'store';
}

/**
 * A side of `compare`: an experiment file (a .yaml/.yml/.json path), a store directory (a
 * path with a "/", holding the experiment.json the run left), or a name (an experiment in
 * `experimentsDir`, else a sweep in `results`). `checkDir` checks the experiments
 * directory when a name is looked up in it.
 */
export function resolveCompareSide(arg: string, results: string, experimentsDir: string, checkDir: (dir: string) => string): ResolvedSide {
  if (!isExperimentPath(arg) && arg.includes('/')) {
    const dir = resolve(arg);
    const allowed = 'a store directory holding experiment.json (left there by sweep or reproduce)';
    if (!isValidName(basename(dir))) throw new UsageError({ option: 'compare', value: arg, allowed });
    const store = new ResultStore(dirname(dir), basename(dir));
    checkPath('compare', allowed, () => store.check());
    const exp = manifestOf(store);
    if (exp === undefined) throw new UsageError({ option: 'compare', file: displayPath(dir), value: arg, allowed, detail: `has no experiment.json; expected ${allowed}` }, 'EPATH');
    return { exp, store, source: 'store' };
  }
  if (!isExperimentPath(arg) && !isValidName(arg)) throw new UsageError({ option: 'compare', value: arg, allowed: `${EXPERIMENT_ARG_ALLOWED}, or a store directory` });
  const dir = isExperimentPath(arg) ? experimentsDir : checkDir(experimentsDir);
  const source = isExperimentPath(arg) || findExperimentFile(arg, dir) ? 'experiment' : 'sweep';
  const exp = experimentForReport(arg, results, dir, 'compare');
  const store = new ResultStore(results, exp.name);
  checkPath('--results', RESULTS_ALLOWED, () => store.check());
  return { exp, store, source };
}

/** A calibration spec by name (experiments/calibration/<name>.yaml) or path. */
export function findCalibrationSpec(nameOrPath: string): string | undefined {
  if (/\.ya?ml$/.test(nameOrPath) && existsSync(nameOrPath)) return nameOrPath;
  if (!isValidName(nameOrPath)) return undefined;
  const p = join(defaultExperimentsDir(), 'calibration', `${nameOrPath}.yaml`);
  return existsSync(p) ? p : undefined;
}
