#!/usr/bin/env node
/**
 * Which store keys of the shipped experiments change when a point's ignored fields are
 * set to their defaults (coordinator/experiments/expand.ts, `expand`), and why.
 *
 *   node scripts/check-keys.js                  before: every point resolved as it is given
 *   node scripts/check-keys.js --before <dist>  before: another build's expandExperiment
 *                                               (e.g. ../main/dist), keys of this build
 *
 * For every experiment in experiments/ it resolves the configs before and after and
 * compares their keys (both with this build's configKey, so a model version bump does not
 * count). A key that changes is listed with the fields that were reset; the exit code is
 * 1 if a config changed in a field its point does not ignore (that would be a bug), else 0.
 * Run `npm run build` first.
 */
import { readdirSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const { loadExperimentFile } = await import(pathToFileURL(join(dist, 'coordinator/experiments/load.js')).href);
const { expandExperiment } = await import(pathToFileURL(join(dist, 'coordinator/experiments/expand.js')).href);
const { configKey } = await import(pathToFileURL(join(dist, 'coordinator/store/record.js')).href);
const { resolveConfig, withoutIgnored, fieldApplies, CONFIG_FIELDS } = await import(pathToFileURL(join(dist, 'shared/config.js')).href);

const at = process.argv.indexOf('--before');
const beforeDist = at > 0 ? resolve(process.argv[at + 1]) : undefined;
const before = beforeDist ? await import(pathToFileURL(join(beforeDist, 'coordinator/experiments/load.js')).href) : undefined;

/** Every point of an experiment resolved as given (what the store keyed before ignored fields were reset). */
function resolvedAsGiven(exp) {
  let points;
  if (exp.runs) points = exp.runs.map((r) => ({ ...exp.base, ...r }));
  else {
    points = [{ ...exp.base }];
    for (const [axis, values] of Object.entries(exp.grid ?? {})) {
      points = points.flatMap((p) => values.map((v) => ({ ...p, ...(typeof v === 'object' ? v : { [axis]: v }) })));
    }
  }
  const seen = new Map();
  for (const p of points) {
    const cfg = resolveConfig(p);
    seen.set(JSON.stringify(cfg), cfg);
  }
  return [...seen.values()];
}

const dir = join(root, 'experiments');
let unexplained = 0;
let changed = 0;
for (const f of readdirSync(dir).filter((n) => ['.yaml', '.yml', '.json'].includes(extname(n))).sort()) {
  const exp = loadExperimentFile(join(dir, f));
  const old = before ? before.expandExperiment(before.loadExperimentFile(join(dir, f))) : resolvedAsGiven(exp);
  const now = expandExperiment(exp);
  const nowKeys = new Set(now.map((c) => configKey(c)));
  const lines = [];
  for (const cfg of old) {
    const key = configKey(cfg);
    if (nowKeys.has(key)) continue;
    const { config, reset } = withoutIgnored(cfg);
    const newKey = configKey(config);
    const other = CONFIG_FIELDS.filter((k) => JSON.stringify(config[k]) !== JSON.stringify(cfg[k]) && fieldApplies(k, cfg));
    if (!nowKeys.has(newKey) || other.length > 0) unexplained++;
    const why = reset.map((k) => `${k} ${JSON.stringify(cfg[k])} -> ${JSON.stringify(config[k])}`).join(', ');
    lines.push(`  ${key} -> ${newKey}  ${cfg.mode} ${cfg.workload}: ${why || 'no ignored field (unexplained)'}`);
  }
  changed += lines.length;
  const merged = old.length - now.length;
  console.log(`${exp.name}: ${old.length} configs before, ${now.length} after${merged > 0 ? ` (${merged} merged)` : ''}; ${lines.length ? `${lines.length} keys change` : 'no key changes'}`);
  for (const l of lines) console.log(l);
}
console.log(`${changed} keys change in all${unexplained ? `, ${unexplained} not explained by an ignored field` : ', each because its point ignores a field the experiment sets'}`);
process.exitCode = unexplained ? 1 : 0;
