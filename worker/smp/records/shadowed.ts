/** A vCPU's shadow shard began (+1) or stopped (-1) shadowing guest frame `frame` (a frame any shard shadows is write-protected for all). */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_SHADOWED = 8;

export interface Shadowed {
  /** Guest frame. */
  frame: number;
  /** +1 or -1. */
  delta: number;
}

export function emitShadowed(bus: RecordBus, src: RecordSource, frame: number, delta: number): void {
  const at = bus.emit(src, M_SHADOWED, 2);
  const d = bus.d;
  d[at] = frame;
  d[at + 1] = delta;
}

export function readShadowed(d: Float64Array, at: number, out: Shadowed): Shadowed {
  out.frame = d[at]! | 0;
  out.delta = d[at + 1]! | 0;
  return out;
}
