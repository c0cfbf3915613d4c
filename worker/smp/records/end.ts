/** The workload's measured part is over on a vCPU (Kernel.finish): every replica ends the run at this quantum's end. */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_END = 16;

export function emitEnd(bus: RecordBus, src: RecordSource): void {
  bus.emit(src, M_END, 0);
}
