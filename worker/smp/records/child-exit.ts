/** A child exited on another vCPU than its parent's: a zombie for `parent`, and __wake_up_parent. */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_CHILD_EXIT = 6;

export interface ChildExit {
  /** Pid of the parent. */
  parent: number;
}

export function emitChildExit(bus: RecordBus, src: RecordSource, parent: number): void {
  const at = bus.emit(src, M_CHILD_EXIT, 1);
  const d = bus.d;
  d[at] = parent;
}

export function readChildExit(d: Float64Array, at: number, out: ChildExit): ChildExit {
  out.parent = d[at]! | 0;
  return out;
}
