/**
 * lmbench's lat_ctx: N processes in a ring of pipes pass a 4-byte token; each process
 * reads from its pipe and writes to the next one's. lat_ctx first times the same
 * pipe writes and reads done by one process on its own pipe (no switch) and subtracts
 * that overhead, so the figure is the cost of the context switch itself:
 *   us/switch = (ring time - overhead time) / (N x passes).
 * Here the overhead process runs first, in the same guest, then starts the ring.
 */
import type { SimConfig } from '../../shared/config.js';
import type { Pipe } from '../guest/ipc/pipe.js';
import { WaitQueue } from '../guest/ipc/wait.js';
import type { Kernel } from '../guest/kernel.js';
import type { Task } from '../guest/task.js';
import { AGAIN, marks, program } from './steps.js';
import { placeCpu, type WorkloadRun } from './workload.js';

const TOKEN = 4;

export function buildCtxswitch(k: Kernel, cfg: SimConfig): WorkloadRun {
  const n = cfg.tasks;
  const passes = cfg.loops;
  const userLoop = k.c.userLoop;
  const M = marks('overheadStart', 'overheadEnd', 'ringStart', 'ringEnd');
  const startQueue = new WaitQueue<Task>();
  /** Each task's pipes, by pid: the one it reads and the next one's. */
  const chIn: Pipe[] = [];
  const chOut: Pipe[] = [];

  // A process of the ring: read the token, pass it on, `passes` times.
  const ring = program(k, {
    read(cpu, t) {
      k.markFirst(M.ringStart, cpu.vcpu.clock);
      if (!k.read(cpu, t, chIn[t.pid]!, TOKEN)) return AGAIN;
      k.userWork(cpu, t, userLoop);
      return 'write';
    },
    write(cpu, t) {
      if (!k.write(cpu, t, chOut[t.pid]!, TOKEN)) return AGAIN;
      if (++t.i < passes) return 'read';
      k.markLast(M.ringEnd, cpu.vcpu.clock);
      return 'exit';
    },
  });

  // The overhead: the same writes and reads by one process on its own pipe, then the ring starts.
  const overhead = program(k, {
    write(cpu, t) {
      k.markFirst(M.overheadStart, cpu.vcpu.clock);
      if (!k.write(cpu, t, chIn[t.pid]!, TOKEN)) return AGAIN;
      return 'read';
    },
    read(cpu, t) {
      if (!k.read(cpu, t, chIn[t.pid]!, TOKEN)) return AGAIN;
      k.userWork(cpu, t, userLoop);
      if (++t.i < n * passes) return 'write';
      k.markLast(M.overheadEnd, cpu.vcpu.clock);
      return 'startRing';
    },
    startRing(cpu) {
      // Start the ring (sync: the ring runs once this process has gone).
      k.wakeUpAll(cpu, startQueue, true);
      return 'exit';
    },
  });

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
      const ringCycles = m[M.ringEnd]! - m[M.ringStart]!;
      const overheadCycles = m[M.overheadEnd]! - m[M.overheadStart]!;
      const us = ((ringCycles - overheadCycles) / (n * passes) / k.c.clockHz) * 1e6;
      return { name: 'ctxswitch', unit: 'us/switch', value: us };
    },
  };
}
