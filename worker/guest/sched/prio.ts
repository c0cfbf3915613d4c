/**
 * Dynamic priority in Linux 2.6.20's O(1) scheduler (kernel/sched.c): the interactivity
 * bonus from sleep_avg, recalc_task_prio's crediting of a sleep (sleep_type, the
 * INTERACTIVE_SLEEP ceiling for long and non-interactive sleeps), the on-run-queue
 * credit, and the charge for running. Not modelled: nice levels other than 0, batch tasks.
 */
import type { Task } from '../task.js';

export const MAX_PRIO = 140;
export const MAX_BONUS = 10;
/** DEF_TIMESLICE: 100 ms for nice 0. */
export const DEF_TIMESLICE_NS = 100e6;
/** MAX_SLEEP_AVG = DEF_TIMESLICE * MAX_BONUS (1 s at every HZ). */
export const NS_MAX_SLEEP_AVG = DEF_TIMESLICE_NS * MAX_BONUS;
/** TASK_INTERACTIVE for nice 0: prio <= static_prio - DELTA(p), DELTA = 2. */
const INTERACTIVE_DELTA = 2;
/** CHILD_PENALTY, PARENT_PENALTY (percent of the bonus kept at fork) and EXIT_WEIGHT (kernel/sched.c). */
export const CHILD_PENALTY = 95;
export const PARENT_PENALTY = 100;
export const EXIT_WEIGHT = 3;

/**
 * INTERACTIVE_SLEEP(p) for nice 0: JIFFIES_TO_NS(MAX_SLEEP_AVG * (MAX_BONUS/2 + DELTA + 1)
 * / MAX_BONUS - 1), DELTA = 2: one jiffy short of 800 ms (799 ms at HZ=1000, 796 ms at
 * 250), so that a task lifted to it has CURRENT_BONUS 7, not 8.
 */
export function interactiveSleepNs(hz: number): number {
  const maxSleepAvgJiffies = Math.floor((100 * hz) / 1000) * MAX_BONUS;
  const jiffies = Math.floor((maxSleepAvgJiffies * (MAX_BONUS / 2 + INTERACTIVE_DELTA + 1)) / MAX_BONUS) - 1;
  return jiffies * Math.floor(1e9 / hz);
}

/**
 * The sleep_avg wake_up_new_task leaves a task whose CURRENT_BONUS was `bonus`, after
 * `penalty` percent: JIFFIES_TO_NS(bonus * penalty / 100 * MAX_SLEEP_AVG / MAX_BONUS), in
 * whole bonus steps at every HZ.
 */
export function penalisedSleepAvg(bonus: number, penalty: number): number {
  return (Math.floor((bonus * penalty) / 100) * NS_MAX_SLEEP_AVG) / MAX_BONUS;
}

/** CURRENT_BONUS(p). */
export function currentBonus(t: Task): number {
  return Math.floor((t.sleepAvg * MAX_BONUS) / NS_MAX_SLEEP_AVG);
}

/** effective_prio(p): static_prio - (CURRENT_BONUS - MAX_BONUS/2), within the user range. */
export function effectivePrio(t: Task): number {
  const p = t.staticPrio - (currentBonus(t) - MAX_BONUS / 2);
  return p < 100 ? 100 : p > MAX_PRIO - 1 ? MAX_PRIO - 1 : p;
}

export function isInteractive(t: Task): boolean {
  return t.prio <= t.staticPrio - INTERACTIVE_DELTA;
}

/** p->sleep_type (2.6.20). */
export const SLEEP_NORMAL = 0;
/** A sleep marked TASK_NONINTERACTIVE (pipe_wait) or uninterruptible: limited credit. */
export const SLEEP_NONINTERACTIVE = 1;
/** Woken from process context: the time it then waits on the run queue is credited at ON_RUNQUEUE_WEIGHT. */
export const SLEEP_INTERACTIVE = 2;
/** ON_RUNQUEUE_WEIGHT: percent of run-queue wait credited as sleep. */
export const ON_RUNQUEUE_WEIGHT = 30;

/**
 * The credit schedule() gives a SLEEP_INTERACTIVE task for `waitedNs` on the run queue:
 * delta * (ON_RUNQUEUE_WEIGHT * 128 / 100) / 128, in the kernel's integer steps (38/128).
 */
export function onRunqueueCredit(waitedNs: number): number {
  return Math.floor((waitedNs * Math.floor((ON_RUNQUEUE_WEIGHT * 128) / 100)) / 128);
}

/**
 * TIMESLICE_GRANULARITY(p) in ticks: GRANULARITY (10 ms, at least a tick) times
 * 2^(((MAX_BONUS - CURRENT_BONUS) ?: 1) - 1), times num_online_cpus() on SMP: how often an
 * interactive task is sent to the back of its list within its slice.
 */
export function timesliceGranularity(t: Task, hz: number, onlineCpus: number): number {
  const granularity = Math.max(Math.floor((10 * hz) / 1000), 1);
  const steps = MAX_BONUS - currentBonus(t) || 1;
  return granularity * (1 << (steps - 1)) * onlineCpus;
}

/**
 * recalc_task_prio() of 2.6.20 after sleeping `sleptNs`: the sleep is added to sleep_avg,
 * except that one long sleep only lifts a user task to INTERACTIVE_SLEEP (`ceiling`), and a
 * non-interactive sleep never lifts it above that ceiling. Returns the new dynamic prio.
 */
export function creditSleep(t: Task, sleptNs: number, ceiling: number): number {
  if (sleptNs > 0) {
    if (t.mm !== null && sleptNs > ceiling && t.sleepAvg < ceiling) {
      t.sleepAvg = ceiling;
      t.sleepType = SLEEP_NONINTERACTIVE;
    } else {
      if (t.sleepType === SLEEP_NONINTERACTIVE && t.mm !== null) {
        if (t.sleepAvg >= ceiling) sleptNs = 0;
        else if (t.sleepAvg + sleptNs >= ceiling) {
          t.sleepAvg = ceiling;
          sleptNs = 0;
        }
      }
      t.sleepAvg += sleptNs;
    }
    if (t.sleepAvg > NS_MAX_SLEEP_AVG) t.sleepAvg = NS_MAX_SLEEP_AVG;
  }
  return effectivePrio(t);
}

/** schedule(): the switched-out task pays for its run time, scaled down by its bonus. */
export function chargeRun(t: Task, ranNs: number): void {
  if (ranNs > NS_MAX_SLEEP_AVG) ranNs = NS_MAX_SLEEP_AVG;
  const b = currentBonus(t) || 1;
  t.sleepAvg -= ranNs / b;
  if (t.sleepAvg < 0) t.sleepAvg = 0;
}
