import { describe, expect, it } from 'vitest';
import { resolveConfig, type SimConfig } from '../../../../shared/config.js';
import { Vm } from '../../../../worker/vm.js';

interface Forked { child: { sleepAvg: number; prio: number; timeSlice: number; first: boolean }; parent: { sleepAvg: number; prio: number; timeSlice: number; first: boolean } }

/** Run hackbench, recording each fork's child and parent scheduling state as fork() returns. */
function forks(o: Partial<SimConfig>): { forked: Forked[]; vm: Vm } {
  const vm = new Vm(resolveConfig({ mode: 'native', workload: 'hackbench', groups: 1, loops: 2, ...o }));
  const procs = vm.kernel.procs;
  const fork = procs.fork.bind(procs);
  const forked: Forked[] = [];
  const state = (t: { sleepAvg: number; prio: number; timeSlice: number; firstTimeSlice: boolean }) => ({ sleepAvg: t.sleepAvg, prio: t.prio, timeSlice: t.timeSlice, first: t.firstTimeSlice });
  procs.fork = (cpu, parent, name, exe, arg) => {
    const c = fork(cpu, parent, name, exe, arg);
    forked.push({ child: state(c), parent: state(parent) });
    return c;
  };
  const spawn = procs.spawnThread.bind(procs);
  procs.spawnThread = (cpu, parent, name, exe, i, arg) => {
    const c = spawn(cpu, parent, name, exe, i, arg);
    forked.push({ child: state(c), parent: state(parent) });
    return c;
  };
  vm.run();
  return { forked, vm };
}

describe('fork: sched_fork and wake_up_new_task (kernel/sched.c v2.6.20)', () => {
  const { forked } = forks({});

  it('a child keeps CHILD_PENALTY (95%) of the bonus it copied, in whole steps; the parent is rounded to its step and loses one a fork', () => {
    // hackbench's main process starts at bonus 9 (95% of the shell's 10). Each fork rounds
    // it to its bonus step; the child then runs first, so its run time is charged and it
    // is one step lower at the next fork: children 8, 7, ... 1, then 0.
    expect(forked.slice(0, 10).map((f) => f.child.sleepAvg / 1e8)).toEqual([8, 7, 6, 5, 4, 3, 2, 1, 0, 0]);
    expect(forked.slice(0, 9).map((f) => f.parent.sleepAvg / 1e8)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('a child starts at the parent’s current priority, not its own penalised one', () => {
    // The shell's prio (bonus 10: 115) until the main process's slice expires at the sixth
    // fork and its prio is recomputed from bonus 4 (121).
    expect(forked.slice(0, 6).map((f) => f.child.prio)).toEqual([115, 115, 115, 115, 115, 121]);
  });

  it('splits the parent’s slice: the child gets half rounded up; at zero the parent gets a tick and expires at once', () => {
    // The main process starts on half of a 100-tick slice (child-runs-first from the shell).
    expect(forked.slice(0, 8).map((f) => f.child.timeSlice)).toEqual([25, 13, 6, 3, 2, 1, 50, 25]);
    expect(forked.slice(0, 8).map((f) => f.parent.timeSlice)).toEqual([25, 12, 6, 3, 1, 100, 50, 25]);
    expect(forked.every((f) => f.child.first)).toBe(true);
    expect(forked[5]!.parent.first).toBe(false);
  });
});

describe('pthread_create (CLONE_VM): the thread runs last', () => {
  const { forked } = forks({ thread: true });

  it('the parent is not switched out, so it is not charged and keeps its bonus until its slice expires', () => {
    // Every thread of the first slice copies bonus 9 (95%: 8). The sixth clone expires the
    // parent (slice 1 -> 0); it is interactive (bonus 9, prio 116), so it stays on the active
    // array and runs on, but schedule() charges its run time: one step down (8: threads 7).
    expect(forked.slice(0, 14).map((f) => f.child.sleepAvg / 1e8)).toEqual([8, 8, 8, 8, 8, 8, 7, 7, 7, 7, 7, 7, 7, 6]);
    expect(forked.slice(0, 6).map((f) => f.child.timeSlice)).toEqual([25, 13, 6, 3, 2, 1]);
  });

  it('a thread starts at its own penalised priority (bonus 8: 117), not the parent’s', () => {
    expect(forked[0]!.child.prio).toBe(117);
  });
});
