/**
 * Context switches mixed with disk I/O: two processes pass a token through a pair of
 * pipes (as lat_ctx with 2 tasks), and before passing it on each reads `io` blocks from
 * an emulated IDE disk (DMA reads that miss the page cache). Each read costs port I/O
 * exits to program the controller, a completion interrupt through the slave i8259A, and
 * the device's service time, during which the guest idles. As `io` grows, the share of a
 * round that the cr3 cache can save shrinks. The figure is the time of one token pass.
 */
import type { SimConfig } from '../../shared/config.js';
import type { Pipe } from '../guest/ipc/pipe.js';
import type { Kernel } from '../guest/kernel.js';
import { AGAIN, marks, program } from './steps.js';
import { placeCpu, type WorkloadRun } from './workload.js';

const TOKEN = 4;

export function buildIoMix(k: Kernel, cfg: SimConfig): WorkloadRun {
  const passes = cfg.loops;
  const io = cfg.io;

  /** Each task's pipes, by pid. */
  const chIn: Pipe[] = [];
  const chOut: Pipe[] = [];
  const M = marks('start', 'end');
  // Read the token, read `io` blocks from the disk, pass the token on.
  const ring = program(k, {
    read(cpu, t) {
      k.markFirst(M.start, cpu.vcpu.clock);
      if (!k.read(cpu, t, chIn[t.pid]!, TOKEN)) return AGAIN;
      k.userWork(cpu, t, k.c.userLoop);
      t.j = 0;
      return io > 0 ? 'diskRead' : 'write';
    },
    diskRead(cpu, t) {
      if (!k.diskRead(cpu, t)) return AGAIN;
      return ++t.j === io ? 'write' : 'diskRead';
    },
    write(cpu, t) {
      if (!k.write(cpu, t, chOut[t.pid]!, TOKEN)) return AGAIN;
      if (++t.i < passes) return 'read';
      k.markLast(M.end, cpu.vcpu.clock);
      return 'exit';
    },
  });

  const pipes = [k.newPipe('iomix0'), k.newPipe('iomix1')];
  for (let i = 0; i < 2; i++) {
    const t = k.createTask(`iomix/${i}`, k.createMm(), placeCpu(i, k.cpus.length), ring);
    chIn[t.pid] = pipes[i]!;
    chOut[t.pid] = pipes[1 - i]!;
    k.start(t);
  }
  pipes[0]!.pipeWrite(TOKEN);

  return {
    metric(m) {
      return { name: 'iomix', unit: 'us/pass', value: ((m[M.end]! - m[M.start]!) / (2 * passes) / k.c.clockHz) * 1e6 };
    },
  };
}
