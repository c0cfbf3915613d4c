/** Try_to_wake_up of task `pid`, made on another vCPU than the task's: finished by the task's vCPU. */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_WAKE = 5;

export interface Wake {
  /** The task woken. */
  pid: number;
}

export function emitWake(bus: RecordBus, src: RecordSource, pid: number): void {
  const at = bus.emit(src, M_WAKE, 1);
  const d = bus.d;
  d[at] = pid;
}

export function readWake(d: Float64Array, at: number, out: Wake): Wake {
  out.pid = d[at]! | 0;
  return out;
}
