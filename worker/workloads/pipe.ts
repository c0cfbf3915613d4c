/**
 * Two tasks ping-pong a message through two pipes (lmbench's lat_pipe, as `perf bench
 * sched pipe` does it too); the figure is the time of one round trip. Measured as lat_pipe's
 * benchmp measures it (benchmp.ts, `enough` of 1 s): the first short batches of round
 * trips are thrown away as the warm-up, then `loops` round trips are timed. A times them;
 * the statistics count from the end of its warm-up, and the run ends when it has timed
 * its round trips (Kernel.finish), B left answering.
 */
import type { SimConfig } from '../../shared/config.js';
import type { Kernel } from '../guest/kernel.js';
import { BenchmpWarmup, LAT_PIPE_ENOUGH_US } from './benchmp.js';
import { AGAIN, marks, program } from './steps.js';
import { placeCpu, type WorkloadRun } from './workload.js';

/** lat_pipe writes one byte each way (lat_pipe.c doit). */
const MSG = 1;

export function buildPipe(k: Kernel, cfg: SimConfig): WorkloadRun {
  const loops = cfg.loops;
  const userLoop = k.c.userLoop;
  const ab = k.newPipe('a->b');
  const ba = k.newPipe('b->a');

  const M = marks('start', 'end', 'roundTrips');
  const warmup = new BenchmpWarmup(LAT_PIPE_ENOUGH_US, k.c.clockHz);
  // A: write, then read the answer.
  const a = program(k, {
    write(cpu, t) {
      warmup.start(cpu.vcpu.clock);
      if (!k.write(cpu, t, ab, MSG)) return AGAIN;
      return 'read';
    },
    read(cpu, t) {
      if (!k.read(cpu, t, ba, MSG)) return AGAIN;
      k.userWork(cpu, t, userLoop);
      if (warmup.warming) {
        if (warmup.done(cpu.vcpu.clock)) {
          k.markFirst(M.start, cpu.vcpu.clock);
          k.beginMeasurement(cpu);
        }
        return 'write';
      }
      if (!warmup.intervalOver(++t.i, loops, cpu.vcpu.clock)) return 'write';
      k.markLast(M.end, cpu.vcpu.clock);
      k.markLast(M.roundTrips, t.i);
      k.finish(cpu);
      return AGAIN;
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
      return k.write(cpu, t, ba, MSG) ? 'read' : AGAIN;
    },
  });
  k.start(k.createTask('pipe/a', k.createMm(), placeCpu(0, k.cpus.length), a, 'main'));
  k.start(k.createTask('pipe/b', k.createMm(), placeCpu(1, k.cpus.length), b));

  return {
    metric(m) {
      return { name: 'pipe', unit: 'us/roundtrip', value: ((m[M.end]! - m[M.start]!) / m[M.roundTrips]! / k.c.clockHz) * 1e6 };
    },
  };
}
