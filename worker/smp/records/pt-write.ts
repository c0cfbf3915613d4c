/** An emulated guest page-table write (kvm_mmu_pte_write) that the other vCPUs' shadow shards must apply: entry `index` of guest frame `frame` now holds `value`; `flooded` if the writer's fork detector zapped. */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_PT_WRITE = 7;

export interface PtWrite {
  /** Guest page-table frame. */
  frame: number;
  /** Entry. */
  index: number;
  /** The new entry. */
  value: number;
  /** 1 if the write flooded the frame. */
  flooded: number;
}

export function emitPtWrite(bus: RecordBus, src: RecordSource, frame: number, index: number, value: number, flooded: number): void {
  const at = bus.emit(src, M_PT_WRITE, 4);
  const d = bus.d;
  d[at] = frame;
  d[at + 1] = index;
  d[at + 2] = value;
  d[at + 3] = flooded;
}

export function readPtWrite(d: Float64Array, at: number, out: PtWrite): PtWrite {
  out.frame = d[at]! | 0;
  out.index = d[at + 1]! | 0;
  out.value = d[at + 2]!; // a 32-bit entry: kept whole
  out.flooded = d[at + 3]! | 0;
  return out;
}
