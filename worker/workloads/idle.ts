/**
 * An idle guest: one task sleeps for the whole run (loops = milliseconds), so the
 * vCPU sits in the idle loop's HLT and wakes for every timer tick. The figure is the
 * host CPU the guest costs: the fraction of the time the host was not idle (running
 * guest code, exits and the device model in user space). Exits per tick by reason
 * are in the run's exit statistics.
 */
import type { SimConfig } from '../../shared/config.js';
import type { Kernel } from '../guest/kernel.js';
import { AGAIN, marks, program } from './steps.js';
import type { WorkloadRun } from './workload.js';

export function buildIdle(k: Kernel, cfg: SimConfig): WorkloadRun {
  const ns = cfg.loops * 1e6;
  const M = marks('start', 'end', 'busyAtStart', 'busyAtEnd');
  /** Busy cycles so far, summed over vCPUs; the running vCPU counts up to its own clock. */
  const busy = (): number => k.cpus.reduce((a, c) => a + c.vcpu.clock - c.vcpu.haltedCycles, 0);
  const sleeper = program(k, {
    sleep(cpu, t) {
      if (Number.isNaN(k.marks[M.start]!)) {
        k.markFirst(M.start, cpu.vcpu.clock);
        k.markFirst(M.busyAtStart, busy());
      }
      if (!k.sleep(cpu, t, ns)) return AGAIN;
      k.markLast(M.end, cpu.vcpu.clock);
      k.markLast(M.busyAtEnd, busy());
      return 'exit';
    },
  });
  k.start(k.createTask('sleep', k.createMm(), 0, sleeper, 'main'));
  return {
    metric(m) {
      const span = (m[M.end]! - m[M.start]!) * k.cpus.length;
      return { name: 'idle', unit: '% host CPU', value: (100 * (m[M.busyAtEnd]! - m[M.busyAtStart]!)) / span };
    },
  };
}
