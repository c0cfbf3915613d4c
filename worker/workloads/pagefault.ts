/**
 * First touches of fresh anonymous memory: one process maps a region of REGION pages
 * (mmap, MAP_PRIVATE | MAP_ANONYMOUS), touches each page once (a page fault that clears a
 * fresh page and maps it: Kernel.touchFresh), unmaps the region (munmap: the PTEs cleared,
 * one flush of the whole mm, the pages freed) and starts again. The figure is the time per
 * fault, the munmap's share included. Timed as lmbench's benchmp times a loop
 * (benchmp.ts), an iteration being one fault.
 */
import type { SimConfig } from '../../shared/config.js';
import type { Kernel } from '../guest/kernel.js';
import { USER } from '../guest/layout.js';
import { BenchmpWarmup, LAT_CTX_ENOUGH_US } from './benchmp.js';
import { marks, program } from './steps.js';
import type { WorkloadRun } from './workload.js';

/** Pages of the region (1 MiB): within one page table of either paging. */
export const REGION = 256;

export function buildPagefault(k: Kernel, cfg: SimConfig): WorkloadRun {
  const M = marks('start', 'end', 'faults');
  const warmup = new BenchmpWarmup(LAT_CTX_ENOUGH_US, k.c.clockHz);
  const region = Array.from({ length: REGION }, (_, i) => USER.anon + i);
  const prog = program(k, {
    touch(cpu, t) {
      warmup.start(cpu.vcpu.clock);
      k.touchFresh(cpu, t, USER.anon + t.j);
      if (++t.j === REGION) {
        t.j = 0;
        k.munmap(cpu, t, region);
      }
      const clock = cpu.vcpu.clock;
      if (warmup.warming) {
        if (warmup.done(clock)) {
          k.markFirst(M.start, clock);
          k.beginMeasurement(cpu);
        }
        return 'touch';
      }
      if (!warmup.intervalOver(++t.i, cfg.loops, clock)) return 'touch';
      k.markLast(M.end, clock);
      k.markLast(M.faults, t.i);
      k.finish(cpu);
      return 'touch';
    },
  });
  k.start(k.createTask('pagefault', k.createMm(), 0, prog, 'main'));
  return {
    metric(m) {
      return { name: 'pagefault', unit: 'us/fault', value: ((m[M.end]! - m[M.start]!) / m[M.faults]! / k.c.clockHz) * 1e6 };
    },
  };
}
