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
import type { Vcpu } from '../vcpu.js';
import type { SimConfig } from '../../shared/config.js';
import { placeCpu, type WorkloadRun } from './workload.js';

const TOKEN = 4;

export function buildIoMix(k: Kernel, cfg: SimConfig): WorkloadRun {
  const passes = cfg.loops;
  const io = cfg.io;

  const ring = (kk: Kernel, v: Vcpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        kk.markFirst(0, v.clock);
        if (!kk.read(v, t, t.chIn!, TOKEN)) return;
        kk.userWork(v, t, kk.c.userLoop);
        t.j = 0;
        t.pc = io > 0 ? 1 : 2;
        return;
      case 1:
        if (!kk.diskRead(v, t)) return;
        if (++t.j === io) t.pc = 2;
        return;
      case 2:
        if (!kk.write(v, t, t.outs[0]!, TOKEN)) return;
        if (++t.i < passes) t.pc = 0;
        else {
          kk.markLast(1, v.clock);
          t.pc = 3;
        }
        return;
      default:
        kk.exit(v, t);
    }
  };

  const pipes = [k.newPipe('iomix0'), k.newPipe('iomix1')];
  for (let i = 0; i < 2; i++) {
    const t = k.createTask(`iomix/${i}`, k.createMm(), placeCpu(i, k.vcpus.length), ring);
    t.chIn = pipes[i]!;
    t.outs = [pipes[1 - i]!];
    k.start(t);
  }
  pipes[0]!.pipeWrite(TOKEN);

  return {
    metric(m) {
      return { name: 'iomix', unit: 'us/pass', value: ((m[1]! - m[0]!) / (2 * passes) / k.c.clockHz) * 1e6 };
    },
  };
}
