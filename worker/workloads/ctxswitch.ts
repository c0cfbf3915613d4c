/**
 * lmbench's lat_ctx: N processes in a ring of pipes pass a 4-byte token; each process
 * reads from its pipe and writes to the next one's. lat_ctx first times the same
 * pipe writes and reads done by one process on its own pipe (no switch) and subtracts
 * that overhead, so the figure is the cost of the context switch itself:
 *   us/switch = (ring time - overhead time) / (N x passes).
 * Here the overhead process runs first, in the same guest, then starts the ring.
 */
import type { SimConfig } from '../../shared/config.js';
import type { GuestCpu } from '../guest/cpu.js';
import type { Pipe } from '../guest/ipc/pipe.js';
import { WaitQueue } from '../guest/ipc/wait.js';
import type { Kernel } from '../guest/kernel.js';
import type { Task } from '../guest/task.js';
import { placeCpu, type WorkloadRun } from './workload.js';

const TOKEN = 4;

export function buildCtxswitch(k: Kernel, cfg: SimConfig): WorkloadRun {
  const n = cfg.tasks;
  const passes = cfg.loops;
  const userLoop = k.c.userLoop;
  // Marks: 0 overhead start, 1 overhead end, 2 ring start, 3 ring end (the last ring task done).
  const startQueue = new WaitQueue<Task>();
  /** Each task's pipes, by pid: the one it reads and the next one's. */
  const chIn: Pipe[] = [];
  const chOut: Pipe[] = [];

  const ring = (cpu: GuestCpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        k.markFirst(2, cpu.vcpu.clock);
        if (!k.read(cpu, t, chIn[t.pid]!, TOKEN)) return;
        k.userWork(cpu, t, userLoop);
        t.pc = 1;
        return;
      case 1:
        if (!k.write(cpu, t, chOut[t.pid]!, TOKEN)) return;
        if (++t.i < passes) t.pc = 0;
        else {
          k.markLast(3, cpu.vcpu.clock);
          t.pc = 2;
        }
        return;
      default:
        k.exit(cpu, t);
    }
  };

  const overhead = (cpu: GuestCpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        k.markFirst(0, cpu.vcpu.clock);
        if (!k.write(cpu, t, chIn[t.pid]!, TOKEN)) return;
        t.pc = 1;
        return;
      case 1:
        if (!k.read(cpu, t, chIn[t.pid]!, TOKEN)) return;
        k.userWork(cpu, t, userLoop);
        if (++t.i < n * passes) t.pc = 0;
        else {
          k.markLast(1, cpu.vcpu.clock);
          t.pc = 2;
        }
        return;
      case 2:
        // Start the ring (sync: the ring runs once this process has gone).
        k.wakeUpAll(cpu, startQueue, true);
        t.pc = 3;
        return;
      default:
        k.exit(cpu, t);
    }
  };

  const o = k.createTask('lat_ctx/overhead', k.createMm(), 0, overhead, 'main');
  chIn[o.pid] = k.newPipe('overhead');
  k.start(o);

  const pipes = Array.from({ length: n }, (_, i) => k.newPipe(`ring${i}`));
  for (let i = 0; i < n; i++) {
    const t = k.createTask(`lat_ctx/${i}`, k.createMm(), placeCpu(i, k.cpus.length), ring);
    chIn[t.pid] = pipes[i]!;
    chOut[t.pid] = pipes[(i + 1) % n]!;
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
