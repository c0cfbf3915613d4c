/** A pipe write of `len` bytes into channel `ch` on another vCPU (fs/pipe.c pipe_write), replayed onto the one pipe. */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_PIPE_WRITE = 1;

export interface PipeWrite {
  /** The channel. */
  ch: number;
  /** Bytes written. */
  len: number;
}

export function emitPipeWrite(bus: RecordBus, src: RecordSource, ch: number, len: number): void {
  const at = bus.emit(src, M_PIPE_WRITE, 2);
  const d = bus.d;
  d[at] = ch;
  d[at + 1] = len;
}

export function readPipeWrite(d: Float64Array, at: number, out: PipeWrite): PipeWrite {
  out.ch = d[at]! | 0;
  out.len = d[at + 1]! | 0;
  return out;
}
