/**
 * The result store: one JSON file per finished run under `<root>/<experiment>/`, named by
 * a hash of the run's full resolved config and the model version. A record is written
 * atomically (temp file in the same directory, then rename) as soon as its run finishes,
 * so an interrupted sweep loses nothing and a rerun skips every config already stored.
 *
 * What sits under a record's name is trusted only if it is a regular file (never a link
 * followed, a FIFO opened or a device read), of bounded size and nesting, whose key is its
 * file name, whose model version is this one, whose config is the config the key was made
 * from, and whose result has the statistics a report reads. Anything else is reported,
 * treated as missing, run again and replaced by a rename (which replaces a link or a FIFO
 * without touching what it points to). An empty directory under a record's name is
 * removed and replaced; a directory that holds anything is never touched: the sweep stops
 * before its first run and says so.
 */
import { readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SimConfig } from '../../shared/config.js';
import type { RunResult } from '../../shared/stats.js';
import { MODEL_VERSION } from '../../worker/model.js';
import { FileProblem, checkDirPath, ensureDir, probeDirPath, kindOf, lstatOrUndefined, parseJsonText, probeWritable, readRegularFile, removeStaleTemps, writeFileAtomic } from './files.js';
import { configKey, recordProblem, type RunRecord } from './record.js';

/** Default root of the store, relative to the working directory. */
export const DEFAULT_RESULTS_DIR = 'results';

/** File (in an experiment's directory) that records what the experiment ran. */
export const MANIFEST_FILE = 'experiment.json';

/** A record's file name, as long as any (for the checks of path lengths). */
const RECORD_NAME_EXAMPLE = `${'0'.repeat(20)}.json`;

/** What is found where a config's record should be. */
export type Lookup =
  | { kind: 'record'; path: string; record: RunRecord }
  | { kind: 'missing'; path: string }
  /** Something that is not this config's record: treated as missing, replaced when the config runs. */
  | { kind: 'invalid'; path: string; reason: string }
  /** A directory that holds files: never touched, so the config cannot be stored. */
  | { kind: 'blocked'; path: string; reason: string };

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

  /** What the store holds for a config. */
  lookup(cfg: SimConfig): Lookup {
    const key = configKey(cfg);
    const path = join(this.dir, `${key}.json`);
    let st;
    try {
      st = lstatOrUndefined(path);
    } catch (err) {
      return { kind: 'invalid', path, reason: err instanceof FileProblem ? err.reason : String(err) };
    }
    if (!st) return { kind: 'missing', path };
    if (st.isDirectory()) {
      return isEmptyDir(path)
        ? { kind: 'invalid', path, reason: 'is an empty directory, not a record' }
        : { kind: 'blocked', path, reason: 'is a directory that is not empty, where a record should be' };
    }
    if (!st.isFile()) return { kind: 'invalid', path, reason: `is ${kindOf(st)}, not a record` };
    let raw: unknown;
    try {
      raw = parseJsonText(path, readRegularFile(path, { follow: false }));
    } catch (err) {
      return { kind: 'invalid', path, reason: err instanceof FileProblem ? err.reason : String(err) };
    }
    const problem = recordProblem(raw, cfg, key);
    if (problem) return { kind: 'invalid', path, reason: problem };
    return { kind: 'record', path, record: raw as RunRecord };
  }

  /** The stored record of a config, or undefined if there is none that can be trusted. */
  get(cfg: SimConfig): RunRecord | undefined {
    const l = this.lookup(cfg);
    return l.kind === 'record' ? l.record : undefined;
  }

  /**
   * Check, creating nothing, that the experiment's directory can be used: the parts of
   * the path that exist are directories, the names fit the file system, and the directory
   * itself, if it exists, is a real directory (not a link, which would lead outside the
   * store). Missing is fine: nothing is stored yet. Throws FileProblem.
   */
  check(): void {
    checkDirPath(this.root, `${this.experiment}/${RECORD_NAME_EXAMPLE}`);
    const st = lstatOrUndefined(this.dir);
    if (st && !st.isDirectory()) throw new FileProblem(this.dir, `is ${kindOf(st)}, not a directory of the store`);
  }

  /** check(), and that the directory could be made and written, leaving nothing behind. Throws FileProblem. */
  checkWritable(): void {
    this.check();
    probeDirPath(this.dir, RECORD_NAME_EXAMPLE);
  }

  /**
   * Make the experiment's directory ready to write into, before any run: check(), then
   * the directories made, a file created and removed there, and the temp files of dead
   * processes removed. Throws FileProblem. Returns the temp files removed.
   */
  prepare(): string[] {
    this.check();
    ensureDir(this.dir);
    probeWritable(this.dir, RECORD_NAME_EXAMPLE);
    return removeStaleTemps(this.dir);
  }

  /** Store a finished run (atomically); returns the record written. */
  put(result: RunResult, hostSeconds?: number, config: SimConfig = result.config): RunRecord {
    const key = configKey(config);
    const rec: RunRecord = { key, modelVersion: MODEL_VERSION, config, hostSeconds, result };
    const path = join(this.dir, `${key}.json`);
    ensureDir(this.dir);
    // A rename cannot replace a directory: an empty one is removed first (rmdir refuses any other).
    if (lstatOrUndefined(path)?.isDirectory()) {
      try {
        rmdirSync(path);
      } catch {
        throw new FileProblem(path, 'is a directory that is not empty, where a record should be');
      }
    }
    writeFileAtomic(path, JSON.stringify(rec, null, 1) + '\n');
    return rec;
  }

  /** Record the experiment definition this directory holds results of. */
  writeManifest(manifest: unknown): void {
    const path = join(this.dir, MANIFEST_FILE);
    ensureDir(this.dir);
    if (lstatOrUndefined(path)?.isDirectory()) throw new FileProblem(path, 'is a directory, where the experiment file of the store should be');
    writeFileAtomic(path, JSON.stringify(manifest, null, 2) + '\n');
  }

  /** The manifest as parsed JSON, or undefined if there is none. Throws FileProblem if it is not a readable JSON file. */
  readManifest(): unknown {
    const p = join(this.dir, MANIFEST_FILE);
    if (!lstatOrUndefined(p)) return undefined;
    return parseJsonText(p, readRegularFile(p, { follow: false }));
  }
}

/** Whether a directory is empty (one that cannot be read counts as not: it is left alone). */
function isEmptyDir(path: string): boolean {
  try {
    return readdirSync(path).length === 0;
  } catch {
    return false;
  }
}
