/**
 * The review's pinned-root hazard, as a workload: a parent forks a child, the child
 * runs (its page directory is loaded, and in kvm-paravirt cached and pinned in the cr3
 * cache) and exits; its page directory is freed after the switch back (pgd_free), and
 * the parent's next page allocation gets that same frame (the page allocator hands out
 * the last freed page first) and clears it as an ordinary page. Repeated `loops` times.
 *
 * With the patch as posted, the stores that clear the frame cannot zap the root that
 * the cr3 cache pins, so the shadow root keeps translating through a frame that is no
 * longer a page directory: the translation checker (always on here) counts them. The
 * two fixes (unpin on write, pgd-free hypercall) let the zap happen. The figure is the
 * time of one fork-run-exit-reuse round, to show what the fixes cost.
 */
import type { Kernel } from '../guest/kernel.js';
import type { Task } from '../guest/task.js';
import type { Vcpu } from '../vcpu.js';
import type { SimConfig } from '../../shared/config.js';
import { WaitQueue } from '../guest/channel.js';
import { USER } from '../guest/layout.js';
import type { WorkloadRun } from './workload.js';

/** Where the parent's heap grows, one page per round (brk area above the data). */
const HEAP_VPN = USER.data + 16;

export function buildPgdReuse(k: Kernel, cfg: SimConfig): WorkloadRun {
  const rounds = cfg.loops;

  const child = (kk: Kernel, v: Vcpu, t: Task): void => {
    if (t.pc === 0) {
      kk.userWork(v, t, kk.c.userLoop);
      t.pc = 1;
    } else kk.exit(v, t);
  };

  const parentProgram = (kk: Kernel, v: Vcpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        kk.markFirst(0, v.clock);
        kk.fork(v, t, `child${t.i}`, child);
        t.pc = 1;
        return;
      case 1:
        if (!kk.wait(v, t)) return;
        t.pc = 2;
        return;
      case 2: {
        // A page fault on the growing heap: a fresh page, cleared, mapped, touched.
        const vpn = HEAP_VPN + t.i;
        kk.mapUser(t.mm!, vpn, kk.allocPage(v), true, v);
        kk.touch(v, vpn);
        kk.checkpoint(v);
        if (++t.i < rounds) t.pc = 0;
        else {
          kk.markLast(1, v.clock);
          t.pc = 3;
        }
        return;
      }
      default:
        kk.exit(v, t);
    }
  };

  const parent = k.createTask('pgdreuse', k.createMm(), 0, parentProgram);
  parent.childWait = new WaitQueue();
  k.start(parent);
  return {
    metric(m) {
      return { name: 'pgdreuse', unit: 'us/round', value: ((m[1]! - m[0]!) / rounds / k.c.clockHz) * 1e6 };
    },
  };
}
