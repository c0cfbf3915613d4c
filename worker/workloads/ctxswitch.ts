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
  const w = { overheadStart: -1, overheadEnd: -1, ringStart: -1, ringEnd: -1, done: 0 };
  const startQueue = new WaitQueue();

  const ring = (kk: Kernel, v: Vcpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        if (w.ringStart < 0) w.ringStart = v.clock;
        if (!kk.read(v, t, t.chIn!, TOKEN)) return;
        kk.userWork(v, t, userLoop);
        t.pc = 1;
        return;
      case 1:
        if (!kk.write(v, t, t.outs[0]!, TOKEN)) return;
        if (++t.i < passes) t.pc = 0;
        else {
          if (++w.done === n) w.ringEnd = v.clock;
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
        if (w.overheadStart < 0) w.overheadStart = v.clock;
        if (!kk.write(v, t, t.chIn!, TOKEN)) return;
        t.pc = 1;
        return;
      case 1:
        if (!kk.read(v, t, t.chIn!, TOKEN)) return;
        kk.userWork(v, t, userLoop);
        if (++t.i < n * passes) t.pc = 0;
        else {
          w.overheadEnd = v.clock;
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
    metric() {
      const ringCycles = w.ringEnd - w.ringStart;
      const overheadCycles = w.overheadEnd - w.overheadStart;
      const us = ((ringCycles - overheadCycles) / (n * passes) / k.c.clockHz) * 1e6;
      return { name: 'ctxswitch', unit: 'us/switch', value: us };
    },
  };
}
