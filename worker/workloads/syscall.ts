/**
 * lmbench's lat_syscall null: one process calls getppid() in a loop; the figure is the
 * time of one call, entry and return (with page-table isolation two cr3 switches, under
 * PVM two trips through the switcher). Timed as benchmp times it (benchmp.ts).
 */
import type { SimConfig } from '../../shared/config.js';
import type { Kernel } from '../guest/kernel.js';
import { BenchmpWarmup, LAT_CTX_ENOUGH_US } from './benchmp.js';
import { marks, program } from './steps.js';
import type { WorkloadRun } from './workload.js';

/** The user loop around the call (lat_syscall's do_getppid: a loop of calls, no work between). */
const LOOP_CYCLES = 10;

export function buildSyscall(k: Kernel, cfg: SimConfig): WorkloadRun {
  const M = marks('start', 'end', 'calls');
  const warmup = new BenchmpWarmup(LAT_CTX_ENOUGH_US, k.c.clockHz);
  const prog = program(k, {
    call(cpu, t) {
      warmup.start(cpu.vcpu.clock);
      k.nullSyscall(cpu, t);
      k.userWork(cpu, t, LOOP_CYCLES);
      const clock = cpu.vcpu.clock;
      if (warmup.warming) {
        if (warmup.done(clock)) {
          k.markFirst(M.start, clock);
          k.beginMeasurement(cpu);
        }
        return 'call';
      }
      if (!warmup.intervalOver(++t.i, cfg.loops, clock)) return 'call';
      k.markLast(M.end, clock);
      k.markLast(M.calls, t.i);
      k.finish(cpu);
      return 'call';
    },
  });
  k.start(k.createTask('lat_syscall', k.createMm(), 0, prog, 'main'));
  return {
    metric(m) {
      return { name: 'syscall', unit: 'us/call', value: ((m[M.end]! - m[M.start]!) / m[M.calls]! / k.c.clockHz) * 1e6 };
    },
  };
}
