/**
 * `perf bench sched pipe`: two tasks ping-pong a message through two pipes;
 * the figure is the time of one round trip.
 */
import type { Kernel } from '../guest/kernel.js';
import type { Task } from '../guest/task.js';
import type { Vcpu } from '../vcpu.js';
import type { SimConfig } from '../../shared/config.js';
import { placeCpu, type WorkloadRun } from './workload.js';

const MSG = 4;

export function buildPipe(k: Kernel, cfg: SimConfig): WorkloadRun {
  const loops = cfg.loops;
  const userLoop = k.c.userLoop;
  const ab = k.newPipe('a->b');
  const ba = k.newPipe('b->a');

  // A: write, then read the answer.
  const a = (kk: Kernel, v: Vcpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        kk.markFirst(0, v.clock);
        if (!kk.write(v, t, ab, MSG)) return;
        t.pc = 1;
        return;
      case 1:
        if (!kk.read(v, t, ba, MSG)) return;
        kk.userWork(v, t, userLoop);
        if (++t.i < loops) t.pc = 0;
        else {
          kk.markLast(1, v.clock);
          t.pc = 2;
        }
        return;
      default:
        kk.exit(v, t);
    }
  };
  // B: read, then answer.
  const b = (kk: Kernel, v: Vcpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        if (!kk.read(v, t, ab, MSG)) return;
        kk.userWork(v, t, userLoop);
        t.pc = 1;
        return;
      case 1:
        if (!kk.write(v, t, ba, MSG)) return;
        t.pc = ++t.i < loops ? 0 : 2;
        return;
      default:
        kk.exit(v, t);
    }
  };
  k.start(k.createTask('pipe/a', k.createMm(), placeCpu(0, k.vcpus.length), a));
  k.start(k.createTask('pipe/b', k.createMm(), placeCpu(1, k.vcpus.length), b));

  return {
    metric(m) {
      return { name: 'pipe', unit: 'us/roundtrip', value: ((m[1]! - m[0]!) / loops / k.c.clockHz) * 1e6 };
    },
  };
}
