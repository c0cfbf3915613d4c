/**
 * hackbench (Rusty Russell's, as of 2007): G groups of 20 receivers and 20 senders.
 * Every sender writes `loops` x 20 messages of 100 bytes, one to each receiver of its
 * group in turn; every receiver reads 20 x `loops` messages from its own socket (or
 * pipe). The parent forks the receivers then the senders of each group, every child
 * polls a shared "go" pipe; the parent writes it and reaps the children. The figure is
 * the time from the "go" to the last child reaped.
 *
 * Process mode: every child its own address space (fork). Thread mode: threads of the
 * parent's address space, each with its own stack.
 */
import type { Kernel } from '../guest/kernel.js';
import { WaitQueue } from '../guest/channel.js';
import type { Task, Mm } from '../guest/task.js';
import type { Vcpu } from '../vcpu.js';
import type { SimConfig } from '../../shared/config.js';
import { placeCpu, type WorkloadRun } from './workload.js';

export const HACKBENCH_FDS = 20;
export const HACKBENCH_DATASIZE = 100;

export function buildHackbench(k: Kernel, cfg: SimConfig): WorkloadRun {
  const loops = cfg.loops;
  const perReceiver = HACKBENCH_FDS * loops;
  const userMessage = k.c.userMessage;
  const nChildren = cfg.groups * 2 * HACKBENCH_FDS;

  const go = k.newPipe('hackbench/go');

  const parentProgram = (kk: Kernel, v: Vcpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        kk.markFirst(0, v.clock);
        if (!kk.write(v, t, go, 1)) return;
        t.pc = 1;
        return;
      case 1:
        if (!kk.wait(v, t)) return;
        if (++t.i === nChildren) {
          kk.markLast(1, v.clock);
          t.pc = 2;
        }
        return;
      default:
        kk.exit(v, t);
    }
  };

  const receiver = (kk: Kernel, v: Vcpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        if (!kk.poll(v, t, go)) return;
        t.pc = 1;
        return;
      case 1:
        if (!kk.read(v, t, t.chIn!, HACKBENCH_DATASIZE)) return;
        kk.userWork(v, t, userMessage);
        if (++t.i === perReceiver) t.pc = 2;
        return;
      default:
        kk.exit(v, t);
    }
  };

  const sender = (kk: Kernel, v: Vcpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        if (!kk.poll(v, t, go)) return;
        t.pc = 1;
        return;
      case 1:
        if (!kk.write(v, t, t.outs[t.j]!, HACKBENCH_DATASIZE)) return;
        kk.userWork(v, t, userMessage);
        if (++t.j === HACKBENCH_FDS) {
          t.j = 0;
          if (++t.i === loops) t.pc = 2;
        }
        return;
      default:
        kk.exit(v, t);
    }
  };

  const parentMm = k.createMm();
  const parent = k.createTask('hackbench', parentMm, 0, parentProgram);
  parent.childWait = new WaitQueue();
  const vcpus = k.vcpus.length;
  let forked = 0;
  const fork = (name: string, program: typeof sender): Task => {
    const mm: Mm = cfg.thread ? parentMm : k.createMm();
    const t = k.createTask(name, mm, placeCpu(++forked, vcpus), program, cfg.thread ? forked : -1);
    t.parent = parent;
    k.splitTimeslice(parent, t);
    k.park(t, go.readWaitAt(t.cpu), true);
    return t;
  };

  for (let g = 0; g < cfg.groups; g++) {
    const chans = Array.from({ length: HACKBENCH_FDS }, (_, r) =>
      cfg.pipe ? k.newPipe(`g${g}/r${r}`) : k.newUnixStream(`g${g}/r${r}`),
    );
    for (let r = 0; r < HACKBENCH_FDS; r++) fork(`g${g}/receiver${r}`, receiver).chIn = chans[r]!;
    for (let s = 0; s < HACKBENCH_FDS; s++) fork(`g${g}/sender${s}`, sender).outs = chans;
  }
  k.start(parent);

  return {
    metric(m) {
      return { name: 'hackbench', unit: 's', value: (m[1]! - m[0]!) / k.c.clockHz };
    },
  };
}
