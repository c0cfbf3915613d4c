/**
 * Context switches mixed with disk I/O: two processes pass a token through a pair of
 * pipes (as lat_ctx with 2 tasks), and before passing it on each reads `io` blocks from
 * an emulated IDE disk (DMA reads that miss the page cache). Each read costs port I/O
 * exits to program the controller, a completion interrupt through the slave i8259A, and
 * the device's service time, during which the guest idles. As `io` grows, the share of a
 * round that the cr3 cache can save shrinks. The figure is the time of one token pass.
 */
import type { Kernel } from '../guest/kernel.js';
import type { Task } from '../guest/task.js';
import type { GuestCpu } from '../guest/cpu.js';
import type { Pipe } from '../guest/ipc/pipe.js';
import type { SimConfig } from '../../shared/config.js';
import { placeCpu, type WorkloadRun } from './workload.js';

const TOKEN = 4;

export function buildIoMix(k: Kernel, cfg: SimConfig): WorkloadRun {
  const passes = cfg.loops;
  const io = cfg.io;

  /** Each task's pipes, by pid. */
  const chIn: Pipe[] = [];
  const chOut: Pipe[] = [];
  const ring = (cpu: GuestCpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        k.markFirst(0, cpu.vcpu.clock);
        if (!k.read(cpu, t, chIn[t.pid]!, TOKEN)) return;
        k.userWork(cpu, t, k.c.userLoop);
        t.j = 0;
        t.pc = io > 0 ? 1 : 2;
        return;
      case 1:
        if (!k.diskRead(cpu, t)) return;
        if (++t.j === io) t.pc = 2;
        return;
      case 2:
        if (!k.write(cpu, t, chOut[t.pid]!, TOKEN)) return;
        if (++t.i < passes) t.pc = 0;
        else {
          k.markLast(1, cpu.vcpu.clock);
          t.pc = 3;
        }
        return;
      default:
        k.exit(cpu, t);
    }
  };

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
      return { name: 'iomix', unit: 'us/pass', value: ((m[1]! - m[0]!) / (2 * passes) / k.c.clockHz) * 1e6 };
    },
  };
}
