/** A trace file for the CLI: shared/trace/file.ts, its file errors as FileProblem. */
import { TraceFileError, loadTraceFile, type LoadedTrace } from '../../shared/trace/file.js';
import { FileProblem } from '../store/files.js';

export type { LoadedTrace };

/** Throws FileProblem (the file) or TraceParseError (a line). `shown` names the file in messages. */
export function loadTrace(path: string, shown: string): LoadedTrace {
  try {
    return loadTraceFile(path, shown);
  } catch (err) {
    if (err instanceof TraceFileError) throw new FileProblem(err.path, err.reason);
    throw err;
  }
}
