/** A task dropped its address space's user count (mmput at exit); the last drop tears it down. */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_MMPUT = 12;

export interface Mmput {
  /** The address space's id. */
  mm: number;
}

export function emitMmput(bus: RecordBus, src: RecordSource, mm: number): void {
  const at = bus.emit(src, M_MMPUT, 1);
  const d = bus.d;
  d[at] = mm;
}

export function readMmput(d: Float64Array, at: number, out: Mmput): Mmput {
  out.mm = d[at]! | 0;
  return out;
}
