/**
 * The file system as the coordinator meets it: a result store, experiment files and plot
 * directories that a user, a crash or another process may have left in any state.
 *
 * Nothing here opens what is not a regular file (a FIFO would block, /dev/zero never
 * ends), reads without a bound, follows a symbolic link where it must not, or creates
 * directories with a recursive mkdir (which never returns under /proc on Node 20). Every
 * write goes to a temp file in the target's directory, created exclusively, then renamed
 * over the target: a rename replaces a directory entry (a symbolic link, a FIFO) and never
 * writes through it, and a reader sees the old file or the new one, never a part.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { UsageError, UserError } from '../../shared/errors.js';
import { basename, dirname, isAbsolute, join, parse, relative, resolve, sep } from 'node:path';

/** A path as a user would type it: relative to the working directory when inside it. */
export function displayPath(p: string): string {
  const abs = resolve(p);
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : abs;
}

/** The largest file the coordinator reads (an experiment file, a record, a manifest). */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

/** The deepest nesting of arrays and objects a file may have (the coordinator's own files nest 6 deep). */
export const MAX_NESTING = 64;

/** What is wrong with a path, in words that follow it: "is a FIFO, not a file". */
export class FileProblem extends UserError {
  constructor(
    readonly path: string,
    readonly reason: string,
    /** The system's error code, when there was one (ENOENT, EACCES, ...). */
    readonly errno?: string,
  ) {
    super('EPATH', { file: path, detail: reason });
  }
}

/** A file's kind, as messages name it. */
export function kindOf(st: Stats): string {
  if (st.isFile()) return 'a file';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a file';
}

/** An errno code in words. */
function errnoWords(code: string | undefined): string {
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'is on a read-only file system';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'ENAMETOOLONG':
      return 'the name is too long for the file system';
    case 'ELOOP':
      return 'is a symbolic link (or a loop of them)';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return code ?? 'unknown error';
  }
}

const codeOf = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** lstat that returns undefined when nothing is there, and throws FileProblem otherwise. */
export function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    const code = codeOf(err);
    if (code === 'ENOENT') return undefined;
    throw new FileProblem(path, `cannot be examined (${errnoWords(code)})`, code);
  }
}

/**
 * The text of a regular file of at most `maxBytes`. With `follow` false a symbolic link
 * is refused. Opening never blocks (O_NONBLOCK: a FIFO or a device opens at once and is
 * then refused), and the read stops past the bound whatever the file's size says.
 */
export function readRegularFile(path: string, opts: { follow: boolean; maxBytes?: number }): string {
  return readRegularBytes(path, opts).toString('utf8');
}

/** readRegularFile's bytes. Throws FileProblem. */
export function readRegularBytes(path: string, opts: { follow: boolean; maxBytes?: number }): Buffer {
  const maxBytes = opts.maxBytes ?? MAX_FILE_BYTES;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (opts.follow ? 0 : constants.O_NOFOLLOW));
  } catch (err) {
    const code = codeOf(err);
    throw new FileProblem(path, code === 'ENOENT' ? 'does not exist' : code === 'ELOOP' && !opts.follow ? 'is a symbolic link, not a file' : `cannot be read (${errnoWords(code)})`, code);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new FileProblem(path, `is ${kindOf(st)}, not a file`);
    if (st.size > maxBytes) throw new FileProblem(path, `is larger than ${formatBytes(maxBytes)}`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(64 * 1024);
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        throw new FileProblem(path, `cannot be read (${errnoWords(codeOf(err))})`, codeOf(err));
      }
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw new FileProblem(path, `is larger than ${formatBytes(maxBytes)}`);
      chunks.push(buf.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

const formatBytes = (n: number): string => (n >= 1024 * 1024 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`);

/** The deepest nesting of arrays and objects in JSON text (strings skipped), without parsing it. */
export function jsonNesting(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * Parse JSON text that anyone may have written: nesting beyond MAX_NESTING is refused
 * before parsing (a 200,000-deep array would overflow the stack of whatever walks it).
 * Throws FileProblem naming `path`.
 */
export function parseJsonText(path: string, text: string): unknown {
  if (jsonNesting(text) > MAX_NESTING) throw new FileProblem(path, `not valid here: nested deeper than ${MAX_NESTING} levels`);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new FileProblem(path, `not valid JSON: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`);
  }
}

/** The longest name of one directory entry (Linux's NAME_MAX), and of a whole path (PATH_MAX, with its NUL). */
const NAME_MAX = 255;
const PATH_MAX = 4095;

/**
 * Check, creating nothing, that `path` could be made a directory holding files named up
 * to `longestName`: every part that exists is a directory (links followed), and no part
 * nor the longest file's path is too long. Throws FileProblem. What only trying shows (a
 * read-only or virtual file system) is left to ensureDir and probeWritable.
 */
export function checkDirPath(path: string, longestName = ''): void {
  const abs = resolve(path);
  const root = parse(abs).root;
  const parts = abs.slice(root.length).split(sep).filter((p) => p !== '');
  const longest = join(abs, `${longestName}.tmp-${process.pid}-000000000000`);
  if (Buffer.byteLength(longest) > PATH_MAX) throw new FileProblem(abs, `is too long a path for the file system (${Buffer.byteLength(longest)} bytes with its files; at most ${PATH_MAX})`, 'ENAMETOOLONG');
  let at = root;
  let exists = true;
  for (const part of parts) {
    at = join(at, part);
    if (Buffer.byteLength(part) > NAME_MAX) throw new FileProblem(at, `has a part too long for the file system (${Buffer.byteLength(part)} bytes; at most ${NAME_MAX})`, 'ENAMETOOLONG');
    if (!exists) continue;
    let st: Stats | undefined;
    try {
      st = statSync(at);
    } catch (err) {
      const code = codeOf(err);
      if (code !== 'ENOENT') throw new FileProblem(at, `cannot be examined (${errnoWords(code)})`, code);
      exists = false;
      continue;
    }
    if (!st.isDirectory()) throw new FileProblem(at, `is ${kindOf(st)}, not a directory`);
  }
}

/**
 * Check that `path` can be made a directory holding files named up to `longestName`,
 * leaving nothing behind: checkDirPath, then a file created and removed in the nearest
 * part of the path that exists (where the first directory would be made), which shows
 * what only trying shows (a read-only or virtual file system such as /proc). Throws
 * FileProblem.
 */
export function probeDirPath(path: string, longestName: string): void {
  checkDirPath(path, longestName);
  let at = resolve(path);
  let child = longestName;
  for (;;) {
    let exists = false;
    try {
      exists = statSync(at).isDirectory();
    } catch {
      // not there yet: try its parent
    }
    if (exists) {
      probeWritable(at, child);
      return;
    }
    const up = dirname(at);
    if (up === at) return;
    child = basename(at);
    at = up;
  }
}

/**
 * Make a directory and its missing parents, one level at a time (no recursive mkdir).
 * Every existing part must be a directory (a symbolic link to one is followed: the user
 * may point `--results` anywhere). Throws FileProblem naming the part that failed.
 */
export function ensureDir(path: string): void {
  const abs = resolve(path);
  const root = parse(abs).root;
  const parts = abs.slice(root.length).split(sep).filter((p) => p !== '');
  let at = root;
  for (const part of parts) {
    at = join(at, part);
    let st: Stats | undefined;
    try {
      st = statSync(at);
    } catch (err) {
      const code = codeOf(err);
      if (code !== 'ENOENT') throw new FileProblem(at, `cannot be examined (${errnoWords(code)})`, code);
    }
    if (st) {
      if (!st.isDirectory()) throw new FileProblem(at, `is ${kindOf(st)}, not a directory`);
      continue;
    }
    try {
      mkdirSync(at);
    } catch (err) {
      const code = codeOf(err);
      // Another process may have made it in between.
      if (code === 'EEXIST' && statSync(at).isDirectory()) continue;
      throw new FileProblem(at, `cannot be created (${errnoWords(code)})`, code);
    }
  }
}

/** Suffix of a temp file: `<target>.tmp-<pid>-<12 hex digits>`. */
const TEMP = /\.tmp-(\d+)-[0-9a-f]{12}$/;
/** Temp files of versions that named them `.<12 hex digits>.<pid>.tmp`. */
const OLD_TEMP = /^\.[0-9a-f]{12}\.(\d+)\.tmp$/;

function tempPath(target: string): string {
  return `${target}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/**
 * Check that files can be written in a directory (which must exist): a temp file as long
 * as `longestName` is created there and removed. Throws FileProblem.
 */
export function probeWritable(dir: string, longestName: string): void {
  const probe = tempPath(join(dir, longestName));
  try {
    writeFileSync(probe, '', { flag: 'wx' });
  } catch (err) {
    const code = codeOf(err);
    throw new FileProblem(code === 'ENAMETOOLONG' ? probe : dir, `cannot be written (${errnoWords(code)})`, code);
  }
  rmSync(probe, { force: true });
}

/**
 * Write a file atomically: a temp file created exclusively in the same directory (it
 * cannot be a link someone planted), then renamed over the target.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = tempPath(path);
  try {
    writeFileSync(tmp, data, { flag: 'wx' });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Whether a process of this id is running (EPERM: it is, and is someone else's). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return codeOf(err) === 'EPERM';
  }
}

/**
 * Remove the temp files in `dir` that processes no longer running left behind (a
 * `kill -9` between the write and the rename). A temp file of a live process is left
 * alone: another sweep may be writing it. Only regular files are removed. Returns the
 * names removed.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP.exec(name) ?? OLD_TEMP.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    const p = join(dir, name);
    try {
      if (!lstatSync(p).isFile()) continue;
      unlinkSync(p);
      removed.push(name);
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}

export const RESULTS_ALLOWED = 'a directory where the store can be written';
export const PLOT_ALLOWED = 'a directory where the plots can be written';
export const HTML_ALLOWED = 'a directory where index.html can be written';

/** A path the command cannot use, as the usage error of the option that named it (EPATH). */
export function pathError(option: string, err: FileProblem, allowed: string): UsageError {
  return new UsageError({ option, file: displayPath(err.path), value: err.path, allowed, detail: `${err.reason}; expected ${allowed}` }, 'EPATH');
}

/** Run `f`, which checks or prepares a path; a FileProblem becomes the usage error of `option`. */
export function checkPath<T>(option: string, allowed: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof FileProblem) throw pathError(option, err, allowed);
    throw err;
  }
}
