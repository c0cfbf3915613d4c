/**
 * lmbench's lat_proc fork: the process forks, the child exits at once, the parent waits
 * for it; the figure is the time of one fork, exit and wait. The child runs first (as
 * 2.6.20's and the scheduler of today's sched_fork let it), so its exit tears its
 * address space down before the parent reaps it. Timed as benchmp times it (benchmp.ts).
 * The model's fork builds the child's address space afresh (its text, libc, stack and
 * data mapped, the private pages cleared: guest/sched/fork.ts) rather than copying the
 * parent's tables for copy-on-write.
 */
import type { SimConfig } from '../../shared/config.js';
import { WaitQueue } from '../guest/ipc/wait.js';
import type { Kernel } from '../guest/kernel.js';
import type { Task } from '../guest/task.js';
import { BenchmpWarmup, LAT_CTX_ENOUGH_US } from './benchmp.js';
import { AGAIN, marks, program } from './steps.js';
import type { WorkloadRun } from './workload.js';

export function buildFork(k: Kernel, cfg: SimConfig): WorkloadRun {
  const M = marks('start', 'end', 'forks');
  const warmup = new BenchmpWarmup(LAT_CTX_ENOUGH_US, k.c.clockHz);
  const child = program(k, {
    run() {
      return 'exit';
    },
  });
  k.programsFirst(child);
  const parentProgram = program(k, {
    fork(cpu, t) {
      warmup.start(cpu.vcpu.clock);
      k.fork(cpu, t, 'lat_proc/child', child);
      return 'wait';
    },
    wait(cpu, t) {
      if (!k.wait(cpu, t)) return AGAIN;
      const clock = cpu.vcpu.clock;
      if (warmup.warming) {
        if (warmup.done(clock)) {
          k.markFirst(M.start, clock);
          k.beginMeasurement(cpu);
        }
        return 'fork';
      }
      if (!warmup.intervalOver(++t.i, cfg.loops, clock)) return 'fork';
      k.markLast(M.end, clock);
      k.markLast(M.forks, t.i);
      k.finish(cpu);
      return 'fork';
    },
  });
  const parent = k.createTask('lat_proc', k.createMm(), 0, parentProgram, 'main');
  parent.childWait = new WaitQueue<Task>();
  k.start(parent);
  return {
    metric(m) {
      return { name: 'fork', unit: 'us/fork', value: ((m[M.end]! - m[M.start]!) / m[M.forks]! / k.c.clockHz) * 1e6 };
    },
  };
}
