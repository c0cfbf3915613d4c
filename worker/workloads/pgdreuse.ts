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
import type { SimConfig } from '../../shared/config.js';
import { WaitQueue } from '../guest/ipc/wait.js';
import type { Kernel } from '../guest/kernel.js';
import { USER } from '../guest/layout.js';
import type { Task } from '../guest/task.js';
import { AGAIN, marks, program } from './steps.js';
import type { WorkloadRun } from './workload.js';

/** Where the parent's heap grows, one page per round (brk area above the data). */
const HEAP_VPN = USER.data + 16;

export function buildPgdReuse(k: Kernel, cfg: SimConfig): WorkloadRun {
  const rounds = cfg.loops;

  const M = marks('start', 'end');
  const child = program(k, {
    run(cpu, t) {
      k.userWork(cpu, t, k.c.userLoop);
      return 'exit';
    },
  });

  const parentProgram = program(k, {
    fork(cpu, t) {
      k.markFirst(M.start, cpu.vcpu.clock);
      k.fork(cpu, t, `child${t.i}`, child);
      return 'wait';
    },
    wait(cpu, t) {
      return k.wait(cpu, t) ? 'growHeap' : AGAIN;
    },
    growHeap(cpu, t) {
      // A page fault on the growing heap: a fresh page, cleared, mapped, touched.
      const vpn = HEAP_VPN + t.i;
      k.mapUser(t.mm!, vpn, k.allocPage(cpu), true, cpu);
      cpu.touch(vpn);
      k.checkpoint(cpu);
      if (++t.i < rounds) return 'fork';
      k.markLast(M.end, cpu.vcpu.clock);
      return 'exit';
    },
  });

  const parent = k.createTask('pgdreuse', k.createMm(), 0, parentProgram, 'main');
  parent.childWait = new WaitQueue<Task>();
  k.start(parent);
  return {
    metric(m) {
      return { name: 'pgdreuse', unit: 'us/round', value: ((m[M.end]! - m[M.start]!) / rounds / k.c.clockHz) * 1e6 };
    },
  };
}
