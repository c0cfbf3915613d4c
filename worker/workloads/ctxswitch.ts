/**
 * lmbench's lat_ctx: N processes in a ring of pipes pass a 4-byte token; each process
 * reads from its pipe and writes to the next one's. lat_ctx first times the same
 * pipe writes and reads done by one process on its own pipe (no switch) and subtracts
 * that overhead, so the figure is the cost of the context switch itself:
 *   us/switch = (ring time - overhead time) / (N x passes).
 * Here the overhead process runs first, in the same guest, then starts the ring. Each of
 * the two is measured as benchmp measures it (benchmp.ts): its first, short batches are
 * thrown away as the warm-up, then `passes` iterations are timed. The ring's first
 * process times the ring (an iteration is a pass of the token around the ring); the
 * statistics count from the end of its warm-up, and the run ends when it has timed its
 * passes (Kernel.finish), the other processes left as lat_ctx leaves them until it kills
 * them.
 *
 * With `size` (lat_ctx -s) each process has an array of that many KiB of its own and sums
 * it every time it has the token (lat_ctx.c sumit: one add per 4-byte word), touching each
 * of its pages; the overhead process sums one too, so what remains per switch is what the
 * switch makes the sums cost more (their TLB misses). With `thread` the ring is threads of
 * one process: no switch changes the address space, so the difference from the process
 * ring is the switch of mm.
 */
import type { SimConfig } from '../../shared/config.js';
import type { Pipe } from '../guest/ipc/pipe.js';
import { WaitQueue } from '../guest/ipc/wait.js';
import type { Kernel } from '../guest/kernel.js';
import type { Task } from '../guest/task.js';
import { USER } from '../guest/layout.js';
import { BenchmpWarmup, LAT_CTX_ENOUGH_US } from './benchmp.js';
import { AGAIN, marks, program } from './steps.js';
import { placeCpu, type WorkloadRun } from './workload.js';

const TOKEN = 4;

/** sumit's cycles per KiB summed: 256 adds of a 4-byte word. */
const SUM_CYCLES_PER_KIB = 256;

export function buildCtxswitch(k: Kernel, cfg: SimConfig): WorkloadRun {
  const n = cfg.tasks;
  const passes = cfg.loops;
  const userLoop = k.c.userLoop;
  const M = marks('overheadStart', 'overheadEnd', 'ringStart', 'ringEnd', 'ringPasses', 'overheadIterations');
  const startQueue = new WaitQueue<Task>();
  /** Each task's pipes, by pid: the one it reads and the next one's. */
  const chIn: Pipe[] = [];
  const chOut: Pipe[] = [];
  /** Each task's array (lat_ctx -s): its first page, by pid; its pages. */
  const arrayAt: number[] = [];
  const arrayPages = Math.ceil(cfg.size / 4);
  const sum = (cpu: Parameters<typeof k.userWork>[0], t: Task): void => {
    if (arrayPages === 0) return;
    cpu.work(cfg.size * SUM_CYCLES_PER_KIB);
    const base = arrayAt[t.pid]!;
    for (let p = 0; p < arrayPages; p++) cpu.touch(base + p);
  };
  /** The ring's first process: it times the ring. */
  let leader: Task | null = null;
  const ringWarmup = new BenchmpWarmup(LAT_CTX_ENOUGH_US, k.c.clockHz);
  const overheadWarmup = new BenchmpWarmup(LAT_CTX_ENOUGH_US, k.c.clockHz);

  // A process of the ring: read the token, pass it on. The first process times the ring as
  // lat_ctx's does: an iteration is a whole pass, from the token's return to its next return.
  const ring = program(k, {
    read(cpu, t) {
      if (!k.read(cpu, t, chIn[t.pid]!, TOKEN)) return AGAIN;
      k.userWork(cpu, t, userLoop);
      sum(cpu, t);
      if (t !== leader) return 'write';
      const clock = cpu.vcpu.clock;
      if (t.j++ === 0) ringWarmup.start(clock);
      else if (ringWarmup.warming) {
        if (ringWarmup.done(clock)) {
          k.markFirst(M.ringStart, clock);
          k.beginMeasurement(cpu);
        }
      } else if (ringWarmup.intervalOver(++t.i, passes, clock)) {
        k.markLast(M.ringEnd, clock);
        // The passes timed (as a 'last' mark: the one value there is).
        k.markLast(M.ringPasses, t.i);
        k.finish(cpu);
        return AGAIN;
      }
      return 'write';
    },
    write(cpu, t) {
      return k.write(cpu, t, chOut[t.pid]!, TOKEN) ? 'read' : AGAIN;
    },
  });

  // The overhead: the same writes and reads by one process on its own pipe, warmed up and timed as the ring is; then the ring starts.
  const overhead = program(k, {
    write(cpu, t) {
      overheadWarmup.start(cpu.vcpu.clock);
      if (!k.write(cpu, t, chIn[t.pid]!, TOKEN)) return AGAIN;
      return 'read';
    },
    read(cpu, t) {
      if (!k.read(cpu, t, chIn[t.pid]!, TOKEN)) return AGAIN;
      k.userWork(cpu, t, userLoop);
      sum(cpu, t);
      if (overheadWarmup.warming) {
        if (overheadWarmup.done(cpu.vcpu.clock)) k.markFirst(M.overheadStart, cpu.vcpu.clock);
        return 'write';
      }
      if (!overheadWarmup.intervalOver(++t.i, n * passes, cpu.vcpu.clock)) return 'write';
      k.markLast(M.overheadEnd, cpu.vcpu.clock);
      k.markLast(M.overheadIterations, t.i);
      return 'startRing';
    },
    startRing(cpu) {
      // Start the ring (sync: the ring runs once this process has gone).
      k.wakeUpAll(cpu, startQueue, true);
      return 'exit';
    },
  });

  // Each task's array, mapped before the run (lat_ctx allocates and touches it before it starts timing).
  const giveArray = (t: Task, index: number): void => {
    if (arrayPages === 0) return;
    const base = USER.anon + index * arrayPages;
    arrayAt[t.pid] = base;
    for (let p = 0; p < arrayPages; p++) k.mapUser(t.mm!, base + p, k.allocPage(), true);
  };

  const o = k.createTask('lat_ctx/overhead', k.createMm(), 0, overhead, 'main');
  chIn[o.pid] = k.newPipe('overhead');
  giveArray(o, 0);
  k.start(o);

  const pipes = Array.from({ length: n }, (_, i) => k.newPipe(`ring${i}`));
  // Threads: one address space for the ring, each thread with a stack of its own.
  const shared = cfg.thread ? k.createMm() : null;
  for (let i = 0; i < n; i++) {
    const t = k.createTask(`lat_ctx/${i}`, shared ?? k.createMm(), placeCpu(i, k.cpus.length), ring, 'child', shared !== null ? i : -1);
    giveArray(t, shared !== null ? i : 0);
    chIn[t.pid] = pipes[i]!;
    chOut[t.pid] = pipes[(i + 1) % n]!;
    k.park(t, startQueue, false);
    leader ??= t;
  }
  // The token starts in the first process's pipe.
  pipes[0]!.pipeWrite(TOKEN);

  return {
    metric(m) {
      // Per switch: a pass is n switches; an overhead iteration is one process's write and read, n of them per pass.
      const ringPerPass = (m[M.ringEnd]! - m[M.ringStart]!) / m[M.ringPasses]!;
      const overheadPerPass = ((m[M.overheadEnd]! - m[M.overheadStart]!) / m[M.overheadIterations]!) * n;
      const us = ((ringPerPass - overheadPerPass) / n / k.c.clockHz) * 1e6;
      return { name: 'ctxswitch', unit: 'us/switch', value: us };
    },
  };
}
