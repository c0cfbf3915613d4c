/**
 * A trace file from disk: a bounded regular file, gunzipped when it is gzip, parsed, with
 * the sha256 of its bytes (what a run's config records, so the store key follows the file).
 */
import { createHash } from 'node:crypto';
import { FileProblem, readRegularBytes } from '../files.js';
import { parseTrace, traceText, type ParsedTrace } from './parse.js';

/** The largest trace read, compressed or not, and the largest text it may unpack to. */
export const MAX_TRACE_BYTES = 512 * 1024 * 1024;

export interface LoadedTrace {
  readonly trace: ParsedTrace;
  readonly sha256: string;
}

/** Throws FileProblem (the file) or TraceParseError (a line). `shown` names the file in messages. */
export function loadTrace(path: string, shown: string): LoadedTrace {
  const bytes = readRegularBytes(path, { follow: true, maxBytes: MAX_TRACE_BYTES });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  let text: string;
  try {
    text = traceText(bytes);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new FileProblem(path, code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError ? 'unpacks to more than 512 MiB' : 'is not a valid gzip file');
  }
  return { trace: parseTrace(text, shown), sha256 };
}
