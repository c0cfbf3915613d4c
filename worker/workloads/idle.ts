/**
 * An idle guest: one task sleeps for the whole run (loops = milliseconds), so the
 * vCPU sits in the idle loop's HLT and wakes for every timer tick. The figure is the
 * host CPU the guest costs: the fraction of the time the host was not idle (running
 * guest code, exits and the device model in user space). Exits per tick by reason
 * are in the run's exit statistics.
 */
import type { Kernel } from '../guest/kernel.js';
import type { Task } from '../guest/task.js';
import type { GuestCpu } from '../guest/cpu.js';
import type { SimConfig } from '../../shared/config.js';
import type { WorkloadRun } from './workload.js';

export function buildIdle(k: Kernel, cfg: SimConfig): WorkloadRun {
  const ns = cfg.loops * 1e6;
  // Marks: 0 start, 1 end, 2 busy cycles at the start, 3 at the end.
  /** Busy cycles so far, summed over vCPUs; the running vCPU counts up to its own clock. */
  const busy = (): number => k.cpus.reduce((a, c) => a + c.vcpu.clock - c.vcpu.haltedCycles, 0);
  const sleeper = (cpu: GuestCpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        if (Number.isNaN(k.marks[0]!)) {
          k.markFirst(0, cpu.vcpu.clock);
          k.markFirst(2, busy());
        }
        if (!k.sleep(cpu, t, ns)) return;
        k.markLast(1, cpu.vcpu.clock);
        k.markLast(3, busy());
        t.pc = 1;
        return;
      default:
        k.exit(cpu, t);
    }
  };
  k.start(k.createTask('sleep', k.createMm(), 0, sleeper, 'main'));
  return {
    metric(m) {
      const span = (m[1]! - m[0]!) * k.cpus.length;
      return { name: 'idle', unit: '% host CPU', value: (100 * (m[3]! - m[2]!)) / span };
    },
  };
}
