/**
 * lmbench's lat_ctx: N processes in a ring of pipes pass a 4-byte token; each process
 * reads from its pipe and writes to the next one's. lat_ctx first times the same
 * pipe writes and reads done by one process on its own pipe (no switch) and subtracts
 * that overhead, so the figure is the cost of the context switch itself:
 *   us/switch = (ring time - overhead time) / (N x passes).
 * Here the overhead process runs first, in the same guest, then starts the ring.
 */
import { WaitQueue } from '../guest/channel.js';
import type { Kernel } from '../guest/kernel.js';
import type { Task } from '../guest/task.js';
import type { Vcpu } from '../vcpu.js';
import type { SimConfig } from '../../shared/config.js';
import { placeCpu, type WorkloadRun } from './workload.js';

const TOKEN = 4;

export function buildCtxswitch(k: Kernel, cfg: SimConfig): WorkloadRun {
  const n = cfg.tasks;
  const passes = cfg.loops;
  const userLoop = k.c.userLoop;
  // Marks: 0 overhead start, 1 overhead end, 2 ring start, 3 ring end (the last ring task done).
  const startQueue = new WaitQueue();

  const ring = (kk: Kernel, v: Vcpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        kk.markFirst(2, v.clock);
        if (!kk.read(v, t, t.chIn!, TOKEN)) return;
        kk.userWork(v, t, userLoop);
        t.pc = 1;
        return;
      case 1:
        if (!kk.write(v, t, t.outs[0]!, TOKEN)) return;
        if (++t.i < passes) t.pc = 0;
        else {
          kk.markLast(3, v.clock);
          t.pc = 2;
        }
        return;
      default:
        kk.exit(v, t);
    }
  };

  const overhead = (kk: Kernel, v: Vcpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        kk.markFirst(0, v.clock);
        if (!kk.write(v, t, t.chIn!, TOKEN)) return;
        t.pc = 1;
        return;
      case 1:
        if (!kk.read(v, t, t.chIn!, TOKEN)) return;
        kk.userWork(v, t, userLoop);
        if (++t.i < n * passes) t.pc = 0;
        else {
          kk.markLast(1, v.clock);
          t.pc = 2;
        }
        return;
      case 2:
        // Start the ring (sync: the ring runs once this process has gone).
        kk.wakeUpAll(v, startQueue, true);
        t.pc = 3;
        return;
      default:
        kk.exit(v, t);
    }
  };

  const o = k.createTask('lat_ctx/overhead', k.createMm(), 0, overhead);
  o.chIn = k.newPipe('overhead');
  k.start(o);

  const pipes = Array.from({ length: n }, (_, i) => k.newPipe(`ring${i}`));
  for (let i = 0; i < n; i++) {
    const t = k.createTask(`lat_ctx/${i}`, k.createMm(), placeCpu(i, k.vcpus.length), ring);
    t.chIn = pipes[i]!;
    t.outs = [pipes[(i + 1) % n]!];
    k.park(t, startQueue, false);
  }
  // The token starts in the first process's pipe.
  pipes[0]!.pipeWrite(TOKEN);

  return {
    metric(m) {
      const ringCycles = m[3]! - m[2]!;
      const overheadCycles = m[1]! - m[0]!;
      const us = ((ringCycles - overheadCycles) / (n * passes) / k.c.clockHz) * 1e6;
      return { name: 'ctxswitch', unit: 'us/switch', value: us };
    },
  };
}
