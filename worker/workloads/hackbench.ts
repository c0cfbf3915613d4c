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
import type { SimConfig } from '../../shared/config.js';
import type { GuestCpu } from '../guest/cpu.js';
import type { Channel } from '../guest/ipc/ipc.js';
import { WaitQueue } from '../guest/ipc/wait.js';
import type { Kernel, Program } from '../guest/kernel.js';
import type { Mm, Task } from '../guest/task.js';
import { placeCpu, type WorkloadRun } from './workload.js';

export const HACKBENCH_FDS = 20;
export const HACKBENCH_DATASIZE = 100;

export function buildHackbench(k: Kernel, cfg: SimConfig): WorkloadRun {
  const loops = cfg.loops;
  const perReceiver = HACKBENCH_FDS * loops;
  const userMessage = k.c.userMessage;
  const nChildren = cfg.groups * 2 * HACKBENCH_FDS;

  const go = k.newPipe('hackbench/go');
  /** Each receiver's socket (or pipe), and each sender's group of them, by pid. */
  const chIn: Channel[] = [];
  const outs: Channel[][] = [];

  const parentProgram = (cpu: GuestCpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        k.markFirst(0, cpu.vcpu.clock);
        if (!k.write(cpu, t, go, 1)) return;
        t.pc = 1;
        return;
      case 1:
        if (!k.wait(cpu, t)) return;
        if (++t.i === nChildren) {
          k.markLast(1, cpu.vcpu.clock);
          t.pc = 2;
        }
        return;
      default:
        k.exit(cpu, t);
    }
  };

  const receiver = (cpu: GuestCpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        if (!k.poll(cpu, t, go)) return;
        t.pc = 1;
        return;
      case 1:
        if (!k.read(cpu, t, chIn[t.pid]!, HACKBENCH_DATASIZE)) return;
        k.userWork(cpu, t, userMessage);
        if (++t.i === perReceiver) t.pc = 2;
        return;
      default:
        k.exit(cpu, t);
    }
  };

  const sender = (cpu: GuestCpu, t: Task): void => {
    switch (t.pc) {
      case 0:
        if (!k.poll(cpu, t, go)) return;
        t.pc = 1;
        return;
      case 1:
        if (!k.write(cpu, t, outs[t.pid]![t.j]!, HACKBENCH_DATASIZE)) return;
        k.userWork(cpu, t, userMessage);
        if (++t.j === HACKBENCH_FDS) {
          t.j = 0;
          if (++t.i === loops) t.pc = 2;
        }
        return;
      default:
        k.exit(cpu, t);
    }
  };

  const parentMm = k.createMm();
  const parent = k.createTask('hackbench', parentMm, 0, parentProgram);
  parent.childWait = new WaitQueue<Task>();
  const vcpus = k.cpus.length;
  let forked = 0;
  const fork = (name: string, program: Program): Task => {
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
    for (let r = 0; r < HACKBENCH_FDS; r++) chIn[fork(`g${g}/receiver${r}`, receiver).pid] = chans[r]!;
    for (let s = 0; s < HACKBENCH_FDS; s++) outs[fork(`g${g}/sender${s}`, sender).pid] = chans;
  }
  k.start(parent);

  return {
    metric(m) {
      return { name: 'hackbench', unit: 's', value: (m[1]! - m[0]!) / k.c.clockHz };
    },
  };
}
