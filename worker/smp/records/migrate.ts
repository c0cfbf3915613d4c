/**
 * A task moved to another vCPU's run queue by the load balancer (pull_task): its pid,
 * where it goes, and the task state it carries (the balancer's table of fields, packed
 * as numbers after these two). It is in flight until the records are merged.
 */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_MIGRATE = 11;

export interface Migrate {
  /** The task moved. */
  pid: number;
  /** The vCPU it goes to. */
  dest: number;
  /** Where its packed state starts in the record's array. */
  state: number;
}

/** Emit a migration with `stateWords` words of task state; returns where the state goes in `bus.d`. */
export function emitMigrate(bus: RecordBus, src: RecordSource, pid: number, dest: number, stateWords: number): number {
  const at = bus.emit(src, M_MIGRATE, 2 + stateWords);
  const d = bus.d;
  d[at] = pid;
  d[at + 1] = dest;
  return at + 2;
}

export function readMigrate(d: Float64Array, at: number, out: Migrate): Migrate {
  out.pid = d[at]! | 0;
  out.dest = d[at + 1]! | 0;
  out.state = at + 2;
  return out;
}
