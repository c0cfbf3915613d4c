import type { SimConfig } from '../shared/config.js';
import type { RunResult } from '../shared/stats.js';
import { Vm } from '../worker/vm.js';

/** Build and run one VM of `cfg` in this thread: host seconds of each, and the result. */
export function timeRun(cfg: SimConfig): { setupS: number; runS: number; result: RunResult } {
  const t0 = process.hrtime.bigint();
  const vm = new Vm(cfg);
  const t1 = process.hrtime.bigint();
  vm.run();
  const t2 = process.hrtime.bigint();
  return { setupS: Number(t1 - t0) / 1e9, runS: Number(t2 - t1) / 1e9, result: vm.result() };
}
