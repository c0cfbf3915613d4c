/**
 * `perf bench sched pipe`: two tasks ping-pong a message through two pipes;
 * the figure is the time of one round trip.
 */
import type { Kernel } from '../guest/kernel.js';
import type { Task } from '../guest/task.js';
import type { GuestCpu } from '../guest/cpu.js';
import type { SimConfig } from '../../shared/config.js';
import { placeCpu, type WorkloadRun } from './workload.js';

const MSG = 4;

export function buildPipe(k: Kernel, cfg: SimConfig): WorkloadRun {
  const loops = cfg.loops;
  const userLoop = k.c.userLoop;
  const ab = k.newPipe('a->b');
  const ba = k.newPipe('b->a');

  // A: write, then read the answer.
  const a = (cpu: GuestCpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        k.markFirst(0, cpu.vcpu.clock);
        if (!k.write(cpu, t, ab, MSG)) return;
        t.pc = 1;
        return;
      case 1:
        if (!k.read(cpu, t, ba, MSG)) return;
        k.userWork(cpu, t, userLoop);
        if (++t.i < loops) t.pc = 0;
        else {
          k.markLast(1, cpu.vcpu.clock);
          t.pc = 2;
        }
        return;
      default:
        k.exit(cpu, t);
    }
  };
  // B: read, then answer.
  const b = (cpu: GuestCpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        if (!k.read(cpu, t, ab, MSG)) return;
        k.userWork(cpu, t, userLoop);
        t.pc = 1;
        return;
      case 1:
        if (!k.write(cpu, t, ba, MSG)) return;
        t.pc = ++t.i < loops ? 0 : 2;
        return;
      default:
        k.exit(cpu, t);
    }
  };
  k.start(k.createTask('pipe/a', k.createMm(), placeCpu(0, k.cpus.length), a, 'main'));
  k.start(k.createTask('pipe/b', k.createMm(), placeCpu(1, k.cpus.length), b));

  return {
    metric(m) {
      return { name: 'pipe', unit: 'us/roundtrip', value: ((m[1]! - m[0]!) / loops / k.c.clockHz) * 1e6 };
    },
  };
}
