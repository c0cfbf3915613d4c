import { describe, expect, it } from 'vitest';
import { currentBonus, effectivePrio, interactiveSleepNs, onRunqueueCredit, penalisedSleepAvg, timesliceGranularity } from '../../../../worker/guest/sched/prio.js';
import type { Task } from '../../../../worker/guest/task.js';

const task = (sleepAvg: number) => ({ sleepAvg, staticPrio: 120, prio: 120, mm: null }) as unknown as Task;

describe('the O(1) scheduler’s arithmetic (kernel/sched.c v2.6.20)', () => {
  it('INTERACTIVE_SLEEP for nice 0 is one jiffy short of 800 ms, so a task lifted to it has bonus 7', () => {
    expect(interactiveSleepNs(1000)).toBe(799e6);
    expect(interactiveSleepNs(250)).toBe(796e6);
    expect(currentBonus(task(interactiveSleepNs(1000)))).toBe(7);
    expect(effectivePrio(task(interactiveSleepNs(1000)))).toBe(118);
  });

  it('wake_up_new_task keeps CHILD_PENALTY of the bonus in whole steps', () => {
    expect([10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map((b) => penalisedSleepAvg(b, 95) / 1e8)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  it('the on-run-queue credit is delta x (30 x 128 / 100 = 38) / 128', () => {
    expect(onRunqueueCredit(1280)).toBe(380);
    expect(onRunqueueCredit(1000)).toBe(296);
  });

  it('TIMESLICE_GRANULARITY: 10 ms at bonus 9 and 10, doubling a step down, times the CPUs', () => {
    expect([10, 9, 8, 7].map((b) => timesliceGranularity(task(b * 1e8), 1000, 1))).toEqual([10, 10, 20, 40]);
    expect(timesliceGranularity(task(8e8), 250, 1)).toBe(4);
    expect(timesliceGranularity(task(9e8), 1000, 4)).toBe(40);
  });
});
