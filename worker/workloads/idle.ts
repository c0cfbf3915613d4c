/**
 * An idle guest: one task sleeps for the whole run (loops = milliseconds), so the
 * vCPU sits in the idle loop's HLT and wakes for every timer tick. The figure is the
 * host CPU the guest costs: the fraction of the time the host was not idle (running
 * guest code, exits and the device model in user space). Exits per tick by reason
 * are in the run's exit statistics.
 */
import type { Kernel } from '../guest/kernel.js';
import type { Task } from '../guest/task.js';
import type { Vcpu } from '../vcpu.js';
import type { SimConfig } from '../../shared/config.js';
import type { WorkloadRun } from './workload.js';

export function buildIdle(k: Kernel, cfg: SimConfig): WorkloadRun {
  const ns = cfg.loops * 1e6;
  const w = { start: -1, end: -1, busyStart: 0, busyEnd: 0 };
  /** Busy cycles so far, summed over vCPUs; the running vCPU counts up to its own clock. */
  const busy = (): number => k.vcpus.reduce((a, x) => a + x.clock - x.haltedCycles, 0);
  const sleeper = (kk: Kernel, v: Vcpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        if (w.start < 0) {
          w.start = v.clock;
          w.busyStart = busy();
        }
        if (!kk.sleep(v, t, ns)) return;
        w.end = v.clock;
        w.busyEnd = busy();
        t.pc = 1;
        return;
      default:
        kk.exit(v, t);
    }
  };
  k.start(k.createTask('sleep', k.createMm(), 0, sleeper));
  return {
    metric() {
      const span = (w.end - w.start) * k.vcpus.length;
      return { name: 'idle', unit: '% host CPU', value: (100 * (w.busyEnd - w.busyStart)) / span };
    },
  };
}
