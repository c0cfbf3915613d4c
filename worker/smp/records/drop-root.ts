/** Drop the cr3-cache entries whose root shadows page directory `frame` (unpin-on-write, or the pgd_free hypercall), on every vCPU. */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_DROP_ROOT = 9;

export interface DropRoot {
  /** Guest page-directory frame. */
  frame: number;
}

export function emitDropRoot(bus: RecordBus, src: RecordSource, frame: number): void {
  const at = bus.emit(src, M_DROP_ROOT, 1);
  const d = bus.d;
  d[at] = frame;
}

export function readDropRoot(d: Float64Array, at: number, out: DropRoot): DropRoot {
  out.frame = d[at]! | 0;
  return out;
}
