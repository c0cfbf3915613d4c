/**
 * The result store: one JSON file per finished run under `<root>/<experiment>/`, named by
 * a hash of the run's full resolved config and the model version. A record is written
 * atomically (temp file in the same directory, then rename) as soon as its run finishes,
 * so an interrupted sweep loses nothing and a rerun skips every config already stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SimConfig } from '../shared/config.js';
import type { RunResult } from '../shared/stats.js';

/**
 * Version of the simulation model. It is part of every record's key: bump it whenever a
 * change to the simulator changes its figures, so that stored results of the old model are
 * not mistaken for results of the new one (they stay on disk, and are ignored).
 */
export const MODEL_VERSION = 'vcpusim-model-3';

/** Default root of the store, relative to the working directory. */
export const DEFAULT_RESULTS_DIR = 'results';

/** File (in an experiment's directory) that records what the experiment ran. */
export const MANIFEST_FILE = 'experiment.json';

/** One stored run. */
export interface RunRecord {
  /** Hash of config + model version; also the file name. */
  key: string;
  modelVersion: string;
  /** The config the run was asked for (the key's input; equal to result.config). */
  config: SimConfig;
  /** Host seconds the run took (informative; not part of the key). */
  hostSeconds?: number;
  result: RunResult;
}

/** JSON with object keys sorted, so equal configs hash equally whatever their key order. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The record key of a resolved config: sha256 of the config and model version, 20 hex digits. */
export function configKey(cfg: SimConfig, modelVersion = MODEL_VERSION): string {
  return createHash('sha256').update(canonicalJson({ modelVersion, config: cfg })).digest('hex').slice(0, 20);
}

/** Write a file atomically: a temp file in the same directory, then rename over the target. */
export function writeFileAtomic(path: string, data: string): void {
  const dir = join(path, '..');
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

const RECORD_NAME = /^[0-9a-f]{20}\.json$/;

/** The records of one experiment: `<root>/<experiment>/<key>.json`. */
export class ResultStore {
  readonly dir: string;

  constructor(
    readonly root: string,
    readonly experiment: string,
  ) {
    this.dir = join(root, experiment);
  }

  pathOf(cfg: SimConfig): string {
    return join(this.dir, `${configKey(cfg)}.json`);
  }

  has(cfg: SimConfig): boolean {
    return existsSync(this.pathOf(cfg));
  }

  /** The stored record of a config, or undefined if there is none (or it is unreadable). */
  get(cfg: SimConfig): RunRecord | undefined {
    return this.readRecord(this.pathOf(cfg));
  }

  /** Store a finished run (atomically); returns the record written. */
  put(result: RunResult, hostSeconds?: number, config: SimConfig = result.config): RunRecord {
    mkdirSync(this.dir, { recursive: true });
    const key = configKey(config);
    const rec: RunRecord = { key, modelVersion: MODEL_VERSION, config, hostSeconds, result };
    const path = join(this.dir, `${key}.json`);
    writeFileAtomic(path, JSON.stringify(rec, null, 1) + '\n');
    return rec;
  }

  /** Every readable record of the current model version, in file-name order. */
  all(): RunRecord[] {
    if (!existsSync(this.dir)) return [];
    const out: RunRecord[] = [];
    for (const f of readdirSync(this.dir).sort()) {
      if (!RECORD_NAME.test(f)) continue;
      const rec = this.readRecord(join(this.dir, f));
      if (rec && rec.modelVersion === MODEL_VERSION) out.push(rec);
    }
    return out;
  }

  /** Record the experiment definition this directory holds results of. */
  writeManifest(manifest: unknown): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(join(this.dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  }

  readManifest(): unknown {
    const p = join(this.dir, MANIFEST_FILE);
    if (!existsSync(p)) return undefined;
    return JSON.parse(readFileSync(p, 'utf8'));
  }

  private readRecord(path: string): RunRecord | undefined {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const rec = JSON.parse(text) as RunRecord;
      // A record whose key does not match its config is not trusted (hand-edited or foreign).
      if (!rec || typeof rec !== 'object' || !rec.config || !rec.result?.metric || rec.key !== configKey(rec.config, rec.modelVersion)) return undefined;
      return rec;
    } catch {
      return undefined;
    }
  }
}
