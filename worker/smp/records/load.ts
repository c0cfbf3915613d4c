/** A vCPU's run-queue length at the quantum's end, for the load balancer. */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_LOAD = 10;

export interface Load {
  /** The vCPU. */
  cpu: number;
  /** Nr_running. */
  nr: number;
}

export function emitLoad(bus: RecordBus, src: RecordSource, cpu: number, nr: number): void {
  const at = bus.emit(src, M_LOAD, 2);
  const d = bus.d;
  d[at] = cpu;
  d[at + 1] = nr;
}

export function readLoad(d: Float64Array, at: number, out: Load): Load {
  out.cpu = d[at]! | 0;
  out.nr = d[at + 1]! | 0;
  return out;
}
