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
import type { Kernel } from '../guest/kernel.js';
import type { Task } from '../guest/task.js';
import { AGAIN, marks, program } from './steps.js';
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

  const readyCh = fdpair('hackbench/ready');
  const wake = fdpair('hackbench/wake');
  /** Each group's receiver channels (fdpair in group(), before each receiver's fork). */
  const groups = Array.from({ length: cfg.groups }, (_, g) => Array.from({ length: HACKBENCH_FDS }, (_, r) => fdpair(`g${g}/r${r}`)));
  /** A child's index in the fork loop (its Task.arg) names its channels: a receiver's own, a sender's group of them. */
  const chIn = (t: Task): Channel => groups[Math.floor(t.arg / perGroup)]![t.arg % perGroup]!;
  const outs = (t: Task): Channel[] => groups[Math.floor(t.arg / perGroup)]!;

  const M = marks('go', 'lastReaped');

  // ready(): tell the main process we are ready, then wait for the go; one system call a step.
  const ready = (cpu: GuestCpu, t: Task) => (k.write(cpu, t, readyCh, 1) ? 'poll' : AGAIN);
  const poll = (cpu: GuestCpu, t: Task) => (k.poll(cpu, t, wake) ? 'work' : AGAIN);

  // A receiver reads 20 x loops messages from its own channel.
  const receiver = program(k, {
    ready,
    poll,
    work(cpu, t) {
      if (!k.read(cpu, t, chIn(t), HACKBENCH_DATASIZE)) return AGAIN;
      k.userWork(cpu, t, userMessage);
      return ++t.i === perReceiver ? 'exit' : 'work';
    },
  });

  // A sender writes `loops` rounds of one message to each receiver of its group.
  const sender = program(k, {
    ready,
    poll,
    work(cpu, t) {
      if (!k.write(cpu, t, outs(t)[t.j]!, HACKBENCH_DATASIZE)) return AGAIN;
      k.userWork(cpu, t, userMessage);
      if (++t.j === HACKBENCH_FDS) {
        t.j = 0;
        if (++t.i === loops) return 'exit';
      }
      return 'work';
    },
  });

  const main = program(k, {
    fork(cpu, t) {
      // group(): the receivers of each group, then its senders.
      const g = Math.floor(t.i / perGroup);
      const j = t.i % perGroup;
      const isReceiver = j < HACKBENCH_FDS;
      const name = isReceiver ? `g${g}/receiver${j}` : `g${g}/sender${j - HACKBENCH_FDS}`;
      const child = isReceiver ? receiver : sender;
      if (cfg.thread) k.spawnThread(cpu, t, name, child, t.i + 1, t.i);
      else k.fork(cpu, t, name, child, t.i);
      if (++t.i < nChildren) return 'fork';
      t.i = 0;
      return 'waitReady';
    },
    waitReady(cpu, t) {
      // Wait for everyone to be ready.
      if (!k.read(cpu, t, readyCh, 1)) return AGAIN;
      if (++t.i < nChildren) return 'waitReady';
      t.i = 0;
      return 'start';
    },
    start(cpu) {
      // gettimeofday(&start): the measured part begins.
      k.markFirst(M.go, cpu.vcpu.clock);
      k.beginMeasurement(cpu);
      return 'go';
    },
    go(cpu, t) {
      // Kick them off.
      return k.write(cpu, t, wake, 1) ? 'reap' : AGAIN;
    },
    reap(cpu, t) {
      if (!k.wait(cpu, t)) return AGAIN;
      if (++t.i < nChildren) return 'reap';
      k.markLast(M.lastReaped, cpu.vcpu.clock);
      return 'exit';
    },
  });

  k.programsFirst(receiver, sender);
  const parent = k.createTask('hackbench', k.createMm(), 0, main, 'main');
  parent.childWait = new WaitQueue<Task>();
  k.start(parent);

  return {
    metric(m) {
      return { name: 'hackbench', unit: 's', value: (m[M.lastReaped]! - m[M.go]!) / k.c.clockHz };
    },
  };
}
