/**
 * hackbench (Rusty Russell's, as of 2007): G groups of 20 receivers and 20 senders. The
 * main process makes a ready and a wake channel, and for each group 20 channels (one per
 * receiver), then forks each group's 20 receivers and then its 20 senders. Every child
 * writes one byte to the ready channel and polls the wake channel; once the main process
 * has read every child's byte it takes the start time and writes the one "go" byte (never
 * read: it releases every poller at once), then reaps the children. Every sender writes
 * `loops` x 20 messages of 100 bytes, one to each receiver of its group in turn; every
 * receiver reads 20 x `loops` of them from its channel. The figure is the time from the
 * "go" to the last child reaped. Channels are unix stream socketpairs (fdpair), or pipes
 * with `pipe`; the ready and wake channels are of the same kind.
 *
 * The fork phase runs through the kernel's own fork path, so it sets who preempts whom:
 * each child starts at the main process's priority and CHILD_PENALTY of its bonus, runs
 * first, and halves the main process's slice. Thread mode (the 2008 version's
 * pthread_create) makes threads of the main process's address space, which run last.
 */
import type { SimConfig } from '../../shared/config.js';
import type { GuestCpu } from '../guest/cpu.js';
import type { Channel } from '../guest/ipc/ipc.js';
import { WaitQueue } from '../guest/ipc/wait.js';
import type { Kernel, Program } from '../guest/kernel.js';
import type { Task } from '../guest/task.js';
import type { WorkloadRun } from './workload.js';

export const HACKBENCH_FDS = 20;
export const HACKBENCH_DATASIZE = 100;

export function buildHackbench(k: Kernel, cfg: SimConfig): WorkloadRun {
  const loops = cfg.loops;
  const perReceiver = HACKBENCH_FDS * loops;
  const userMessage = k.c.userMessage;
  const perGroup = 2 * HACKBENCH_FDS;
  const nChildren = cfg.groups * perGroup;
  const fdpair = (name: string): Channel => (cfg.pipe ? k.newPipe(name) : k.newUnixStream(name));

  const ready = fdpair('hackbench/ready');
  const wake = fdpair('hackbench/wake');
  /** Each group's receiver channels (fdpair in group(), before each receiver's fork). */
  const groups = Array.from({ length: cfg.groups }, (_, g) => Array.from({ length: HACKBENCH_FDS }, (_, r) => fdpair(`g${g}/r${r}`)));
  /** A child's index in the fork loop (its Task.arg) names its channels: a receiver's own, a sender's group of them. */
  const chIn = (t: Task): Channel => groups[Math.floor(t.arg / perGroup)]![t.arg % perGroup]!;
  const outs = (t: Task): Channel[] => groups[Math.floor(t.arg / perGroup)]!;

  /** ready(): tell the main process we are ready (pc 0), then wait for the go (pc 1); one system call a step. */
  const readyThenPoll = (cpu: GuestCpu, t: Task): void => {
    if (t.pc === 0) {
      if (k.write(cpu, t, ready, 1)) t.pc = 1;
      return;
    }
    if (k.poll(cpu, t, wake)) t.pc = 2;
  };

  const receiver: Program = (cpu, t) => {
    if (t.pc < 2) {
      readyThenPoll(cpu, t);
      return;
    }
    if (t.pc === 2) {
      if (!k.read(cpu, t, chIn(t), HACKBENCH_DATASIZE)) return;
      k.userWork(cpu, t, userMessage);
      if (++t.i === perReceiver) t.pc = 3;
      return;
    }
    k.exit(cpu, t);
  };

  const sender: Program = (cpu, t) => {
    if (t.pc < 2) {
      readyThenPoll(cpu, t);
      return;
    }
    if (t.pc === 2) {
      if (!k.write(cpu, t, outs(t)[t.j]!, HACKBENCH_DATASIZE)) return;
      k.userWork(cpu, t, userMessage);
      if (++t.j === HACKBENCH_FDS) {
        t.j = 0;
        if (++t.i === loops) t.pc = 3;
      }
      return;
    }
    k.exit(cpu, t);
  };

  const main: Program = (cpu, t) => {
    switch (t.pc) {
      case 0: {
        // group(): the receivers of each group, then its senders.
        const g = Math.floor(t.i / perGroup);
        const j = t.i % perGroup;
        const isReceiver = j < HACKBENCH_FDS;
        const name = isReceiver ? `g${g}/receiver${j}` : `g${g}/sender${j - HACKBENCH_FDS}`;
        const program = isReceiver ? receiver : sender;
        if (cfg.thread) k.spawnThread(cpu, t, name, program, t.i + 1, t.i);
        else k.fork(cpu, t, name, program, t.i);
        if (++t.i === nChildren) {
          t.i = 0;
          t.pc = 1;
        }
        return;
      }
      case 1:
        // Wait for everyone to be ready.
        if (!k.read(cpu, t, ready, 1)) return;
        if (++t.i === nChildren) {
          t.i = 0;
          t.pc = 2;
        }
        return;
      case 2:
        // gettimeofday(&start): the measured part begins.
        k.markFirst(0, cpu.vcpu.clock);
        k.beginMeasurement(cpu);
        t.pc = 3;
        return;
      case 3:
        // Kick them off.
        if (!k.write(cpu, t, wake, 1)) return;
        t.pc = 4;
        return;
      case 4:
        if (!k.wait(cpu, t)) return;
        if (++t.i === nChildren) {
          k.markLast(1, cpu.vcpu.clock);
          t.pc = 5;
        }
        return;
      default:
        k.exit(cpu, t);
    }
  };

  k.programsFirst(receiver, sender);
  const parent = k.createTask('hackbench', k.createMm(), 0, main, 'main');
  parent.childWait = new WaitQueue<Task>();
  k.start(parent);

  return {
    metric(m) {
      return { name: 'hackbench', unit: 's', value: (m[1]! - m[0]!) / k.c.clockHz };
    },
  };
}
