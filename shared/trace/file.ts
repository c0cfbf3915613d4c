/**
 * A trace file read once per process: a bounded regular file (never a FIFO or a device:
 * opened without blocking, then checked), gunzipped when it is gzip, parsed, with the
 * sha256 of its bytes. Kept by path while its size and mtime stay the same, so the configs
 * of a sweep over one trace read it once.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { UserError } from '../errors.js';
import { parseTrace, traceText, type ParsedTrace } from './parse.js';

/** The largest trace read, compressed or not, and the largest text it may unpack to. */
export const MAX_TRACE_BYTES = 512 * 1024 * 1024;

/** A trace file that cannot be read: `reason` follows the path ("does not exist"). */
export class TraceFileError extends UserError {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super('EPATH', { file: path, value: path, detail: reason });
  }
}

export interface LoadedTrace {
  readonly trace: ParsedTrace;
  readonly sha256: string;
}

const cache = new Map<string, { size: number; mtimeMs: number; loaded: LoadedTrace }>();

function readBytes(path: string): { bytes: Buffer; size: number; mtimeMs: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new TraceFileError(path, code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new TraceFileError(path, 'is a directory, not a file');
    if (!st.isFile()) throw new TraceFileError(path, `is ${st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : 'not a regular file'}, not a file`);
    if (st.size > MAX_TRACE_BYTES) throw new TraceFileError(path, 'is larger than 512 MiB');
    const bytes = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, bytes, off, st.size - off, null);
      if (n === 0) break;
      off += n;
    }
    return { bytes: bytes.subarray(0, off), size: st.size, mtimeMs: st.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

/** Throws TraceFileError (the file) or TraceParseError (a line); `shown` names the file in a line's error. */
export function loadTraceFile(path: string, shown = path): LoadedTrace {
  const { bytes, size, mtimeMs } = readBytes(path);
  const hit = cache.get(path);
  if (hit && hit.size === size && hit.mtimeMs === mtimeMs) return hit.loaded;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let text: string;
  try {
    text = traceText(bytes, MAX_TRACE_BYTES);
  } catch (err) {
    throw new TraceFileError(path, err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? 'unpacks to more than 512 MiB' : 'is not a valid gzip file');
  }
  const loaded = { trace: parseTrace(text, shown), sha256 };
  cache.set(path, { size, mtimeMs, loaded });
  return loaded;
}
