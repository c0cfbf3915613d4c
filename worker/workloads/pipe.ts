/**
 * `perf bench sched pipe`: two tasks ping-pong a message through two pipes;
 * the figure is the time of one round trip.
 */
import type { SimConfig } from '../../shared/config.js';
import type { Kernel } from '../guest/kernel.js';
import { AGAIN, marks, program } from './steps.js';
import { placeCpu, type WorkloadRun } from './workload.js';

const MSG = 4;

export function buildPipe(k: Kernel, cfg: SimConfig): WorkloadRun {
  const loops = cfg.loops;
  const userLoop = k.c.userLoop;
  const ab = k.newPipe('a->b');
  const ba = k.newPipe('b->a');

  const M = marks('start', 'end');
  // A: write, then read the answer.
  const a = program(k, {
    write(cpu, t) {
      k.markFirst(M.start, cpu.vcpu.clock);
      if (!k.write(cpu, t, ab, MSG)) return AGAIN;
      return 'read';
    },
    read(cpu, t) {
      if (!k.read(cpu, t, ba, MSG)) return AGAIN;
      k.userWork(cpu, t, userLoop);
      if (++t.i < loops) return 'write';
      k.markLast(M.end, cpu.vcpu.clock);
      return 'exit';
    },
  });
  // B: read, then answer.
  const b = program(k, {
    read(cpu, t) {
      if (!k.read(cpu, t, ab, MSG)) return AGAIN;
      k.userWork(cpu, t, userLoop);
      return 'answer';
    },
    answer(cpu, t) {
      if (!k.write(cpu, t, ba, MSG)) return AGAIN;
      return ++t.i < loops ? 'read' : 'exit';
    },
  });
  k.start(k.createTask('pipe/a', k.createMm(), placeCpu(0, k.cpus.length), a, 'main'));
  k.start(k.createTask('pipe/b', k.createMm(), placeCpu(1, k.cpus.length), b));

  return {
    metric(m) {
      return { name: 'pipe', unit: 'us/roundtrip', value: ((m[M.end]! - m[M.start]!) / loops / k.c.clockHz) * 1e6 };
    },
  };
}
