import type { SimConfig } from '../shared/config.js';
import type { RunResult } from '../shared/stats.js';
import { Vm } from '../worker/vm.js';

/** Simulated events of a result: system calls, context switches, TLB misses and VM exits. */
export const eventsOf = (r: RunResult): number => r.guest.syscalls + r.guest.contextSwitches + r.tlb.misses + r.exits.total;

/**
 * Build and run one VM of `cfg` in this thread: host seconds of each, the result, and the
 * events of the whole run: the result's (the measured part) and those before the
 * measurement began (a workload's set-up, hackbench's forks: the statistics start from
 * zero there), read just before they are reset; and the VM, run.
 */
export function timeRun(cfg: SimConfig): { setupS: number; runS: number; result: RunResult; allEvents: number; vm: Vm } {
  const t0 = process.hrtime.bigint();
  const vm = new Vm(cfg);
  const t1 = process.hrtime.bigint();
  let before = 0;
  const begin = vm.kernel.onMeasurementStart;
  vm.kernel.onMeasurementStart = (cpu) => {
    before = eventsOf(vm.result());
    begin?.(cpu);
  };
  vm.run();
  const t2 = process.hrtime.bigint();
  const result = vm.result();
  return { setupS: Number(t1 - t0) / 1e9, runS: Number(t2 - t1) / 1e9, result, allEvents: before + eventsOf(result), vm };
}
