/** A pipe read that took `len` bytes out of channel `ch` on another vCPU (pipe_read), replayed onto the one pipe. */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_PIPE_READ = 2;

export interface PipeRead {
  /** The channel. */
  ch: number;
  /** Bytes the read took. */
  len: number;
}

export function emitPipeRead(bus: RecordBus, src: RecordSource, ch: number, len: number): void {
  const at = bus.emit(src, M_PIPE_READ, 2);
  const d = bus.d;
  d[at] = ch;
  d[at + 1] = len;
}

export function readPipeRead(d: Float64Array, at: number, out: PipeRead): PipeRead {
  out.ch = d[at]! | 0;
  out.len = d[at + 1]! | 0;
  return out;
}
