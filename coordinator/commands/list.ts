/**
 * `vcpusim list`: the experiments (each validated, or its one-line error; a file's line is
 * kept between runs, experiments/list-cache.ts), the modes, the workloads, the cost
 * profiles and the config fields.
 */
import { CONFIG_FIELDS, FIELD_SPECS, MODES, WORKLOADS } from '../../shared/config.js';
import { flagOf } from '../../shared/config-fields.js';
import { PROFILES } from '../../shared/costs.js';
import { SCHEMA_VERSION } from '../../shared/stats.js';
import { MODEL_VERSION } from '../../worker/model.js';
import { ok, type Outcome } from '../cli/outcome.js';
import { cachedListEntries } from '../experiments/list-cache.js';
import { experimentsDirOf, listExperimentFile, listExperimentFiles } from '../experiments/load.js';
import { ExperimentError } from '../experiments/schema.js';
import { displayPath } from '../store/files.js';

export interface ListOptions {
  experiments: string;
  json: boolean;
}

export function listCommand(o: ListOptions): Promise<Outcome> {
  // Each file's line is kept between runs (list-cache.ts): a file validated before, unchanged, loads neither yaml nor zod.
  const experiments = cachedListEntries(listExperimentFiles(experimentsDirOf(o.experiments)), displayPath, (name, file) => {
    try {
      // Validation counts a grid's points before it expands anything; a trace file is read when a run is planned.
      const { exp: e, runs } = listExperimentFile(file);
      return { name, description: e.description, runs };
    } catch (err) {
      if (err instanceof ExperimentError) return { name, error: err.message };
      throw err;
    }
  });
  const profiles = Object.values(PROFILES).map((p) => ({ name: p.name, description: p.description }));
  if (o.json) {
    const fields = CONFIG_FIELDS.map((f) => ({ name: f, option: flagOf(f), allowed: FIELD_SPECS[f].allowed, ...(FIELD_SPECS[f].default !== undefined ? { default: FIELD_SPECS[f].default } : {}) }));
    const doc = { schemaVersion: SCHEMA_VERSION, modelVersion: MODEL_VERSION, experiments, modes: MODES, workloads: WORKLOADS, profiles, fields };
    return Promise.resolve(ok(JSON.stringify(doc, null, 2) + '\n'));
  }
  const out: string[] = ['experiments:'];
  const w = Math.max(...experiments.map((e) => e.name.length), 4);
  for (const e of experiments) out.push(`  ${e.name.padEnd(w)}  ${'error' in e ? `invalid: ${e.error}` : `${e.runs} runs  ${e.description}`}`);
  out.push('', `modes:     ${MODES.join(', ')}`, `workloads: ${WORKLOADS.join(', ')}`, 'profiles:');
  for (const p of profiles) out.push(`  ${p.name}  ${p.description}`);
  return Promise.resolve(ok(out.join('\n') + '\n'));
}
