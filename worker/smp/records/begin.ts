/** The workload's measured part began on a vCPU (Kernel.beginMeasurement): every replica restarts the statistics at this quantum's end. */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_BEGIN = 15;

export function emitBegin(bus: RecordBus, src: RecordSource): void {
  bus.emit(src, M_BEGIN, 0);
}
