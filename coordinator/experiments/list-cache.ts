/**
 * What `list` shows of each experiment file, kept between runs. Validating a file takes
 * yaml and zod (loading and warming them up is most of list's time), and list shows only
 * whether each file is valid, its description and its run count, which follow from the
 * file and the code alone. An entry is kept under the sha256 of everything it follows
 * from: the file's bytes and path (and the path shown, which messages hold), the cost
 * profiles, zod's, yaml's and Node's versions, and the code that validates it (every
 * module of coordinator/ and shared/, by content). A change to any of them misses, and
 * the file is validated again, so a hit prints what validating it would.
 *
 * The cache is one JSON file in $VCPUSIM_CACHE_DIR, else $XDG_CACHE_HOME/vcpusim, else
 * ~/.cache/vcpusim, written atomically (a temp file renamed over it). One that cannot be
 * read or written is ignored: list then validates every file, as it would without it.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROFILES } from '../../shared/costs.js';
import { FileProblem, readRegularBytes, writeFileAtomic } from '../store/files.js';

/** One line of `list`: a valid experiment, or the one-line error of an invalid one. */
export type ListEntry = { name: string; description: string; runs: number } | { name: string; error: string };

/** Entries kept at most (those of the listing just made first). */
const MAX_ENTRIES = 512;

const CACHE_FORMAT = 'vcpusim-list-cache-1';

/** The cache's directory. */
export function listCacheDir(): string {
  const env = process.env;
  if (env.VCPUSIM_CACHE_DIR) return resolve(env.VCPUSIM_CACHE_DIR);
  return join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'vcpusim');
}

/** The sha256 of the code that validates an experiment: every module of coordinator/ and shared/ (source or build), zod's and yaml's package files, and Node's version. */
function codeIdentity(): string {
  // coordinator/ (this file is in coordinator/experiments/) and shared/, source or build.
  const coordinator = dirname(dirname(fileURLToPath(import.meta.url)));
  // Node's version too: a JSON file's error holds V8's message.
  const h = createHash('sha256').update(`${CACHE_FORMAT}\0${process.version}`);
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(dir, name.name);
      if (name.isDirectory()) walk(p);
      else if (name.isFile() && ['.js', '.ts'].includes(extname(name.name))) h.update(`\0${p}\0`).update(readFileSync(p));
    }
  };
  walk(coordinator);
  walk(join(coordinator, '..', 'shared'));
  const require = createRequire(import.meta.url);
  for (const pkg of ['zod', 'yaml']) h.update(`\0${pkg}\0`).update(readFileSync(require.resolve(`${pkg}/package.json`)));
  return h.digest('hex');
}

function readCache(path: string): Record<string, ListEntry> {
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { format?: unknown; entries?: unknown };
    if (doc.format !== CACHE_FORMAT || doc.entries === null || typeof doc.entries !== 'object' || Array.isArray(doc.entries)) return {};
    return doc.entries as Record<string, ListEntry>;
  } catch {
    return {};
  }
}

const isEntry = (v: unknown, name: string): v is ListEntry => {
  if (v === null || typeof v !== 'object') return false;
  const e = v as Record<string, unknown>;
  return e.name === name && (typeof e.error === 'string' || (typeof e.description === 'string' && Number.isSafeInteger(e.runs)));
};

/**
 * The list entries of `files`, each from the cache when its key is there, else from
 * `compute` (and then kept). `shown(file)` is the path messages show for it.
 */
export function cachedListEntries(files: readonly { name: string; file: string }[], shown: (file: string) => string, compute: (name: string, file: string) => ListEntry): ListEntry[] {
  let code: string;
  try {
    code = codeIdentity();
  } catch {
    return files.map(({ name, file }) => compute(name, file));
  }
  const path = join(listCacheDir(), 'list.json');
  const old = readCache(path);
  const fresh: Record<string, ListEntry> = {};
  let missed = false;
  const out = files.map(({ name, file }) => {
    let bytes: Buffer;
    try {
      bytes = readRegularBytes(file, { follow: true });
    } catch (err) {
      // What cannot be read is not kept: validating it reports the same problem.
      if (err instanceof FileProblem) return compute(name, file);
      throw err;
    }
    const key = createHash('sha256')
      .update(code)
      .update(`\0${resolve(file)}\0${shown(file)}\0${name}\0${JSON.stringify(PROFILES)}\0`)
      .update(bytes)
      .digest('hex');
    const hit = old[key];
    if (isEntry(hit, name)) {
      fresh[key] = hit;
      return hit;
    }
    const entry = compute(name, file);
    fresh[key] = entry;
    missed = true;
    return entry;
  });
  if (missed) {
    const kept = Object.entries({ ...fresh, ...old }).slice(0, MAX_ENTRIES);
    try {
      mkdirSync(dirname(path), { recursive: true });
      writeFileAtomic(path, JSON.stringify({ format: CACHE_FORMAT, entries: Object.fromEntries(kept) }) + '\n');
    } catch {
      // A cache that cannot be written is no cache: the listing stands.
    }
  }
  return out;
}
