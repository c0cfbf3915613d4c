/**
 * A child exited on another vCPU than its parent's: a zombie for `parent` (with what
 * sched_exit reads of it when it is reaped) and __wake_up_parent.
 */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_CHILD_EXIT = 6;

export interface ChildExit {
  /** Pid of the parent. */
  parent: number;
  /** Pid of the child. */
  child: number;
  /** 1 if the child was still on its first time slice. */
  firstTimeSlice: number;
  /** Ticks left of its slice. */
  timeSlice: number;
  /** Its sleep_avg (ns). */
  sleepAvg: number;
  /** The vCPU it exited on. */
  cpu: number;
}

export function emitChildExit(bus: RecordBus, src: RecordSource, parent: number, child: number, firstTimeSlice: number, timeSlice: number, sleepAvg: number, cpu: number): void {
  const at = bus.emit(src, M_CHILD_EXIT, 6);
  const d = bus.d;
  d[at] = parent;
  d[at + 1] = child;
  d[at + 2] = firstTimeSlice;
  d[at + 3] = timeSlice;
  d[at + 4] = sleepAvg;
  d[at + 5] = cpu;
}

export function readChildExit(d: Float64Array, at: number, out: ChildExit): ChildExit {
  out.parent = d[at]! | 0;
  out.child = d[at + 1]! | 0;
  out.firstTimeSlice = d[at + 2]! | 0;
  out.timeSlice = d[at + 3]! | 0;
  out.sleepAvg = d[at + 4]!; // ns, not a small integer: kept whole
  out.cpu = d[at + 5]! | 0;
  return out;
}
