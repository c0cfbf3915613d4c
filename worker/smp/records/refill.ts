/**
 * A vCPU's free-page list ran low by the quantum's end and takes `count` frames of zone
 * `zone` from the zone's reserve (rmqueue_bulk refilling a per-CPU page list): every
 * replica takes them off its copy of the reserve, in record order; the vCPU's own adds
 * them to the list.
 */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_REFILL = 13;

export interface Refill {
  /** 0: ZONE_NORMAL, 1: ZONE_HIGHMEM. */
  zone: number;
  /** Frames asked for. */
  count: number;
}

export function emitRefill(bus: RecordBus, src: RecordSource, zone: number, count: number): void {
  const at = bus.emit(src, M_REFILL, 2);
  const d = bus.d;
  d[at] = zone;
  d[at + 1] = count;
}

export function readRefill(d: Float64Array, at: number, out: Refill): Refill {
  out.zone = d[at]! | 0;
  out.count = d[at + 1]! | 0;
  return out;
}
