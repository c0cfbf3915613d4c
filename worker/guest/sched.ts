/**
 * The Linux 2.6.20 O(1) scheduler, per vCPU: two priority arrays (active, expired)
 * with a bitmap of non-empty priorities, dynamic priority from sleep_avg (the
 * interactivity bonus), time slices counted in ticks, and wakeup preemption when the
 * woken task's dynamic priority is better than the running one's (TASK_PREEMPTS_CURR).
 *
 * As in 2.6.20 the running task stays on its queue; it leaves it only when it sleeps
 * or exits. Sleep credit follows 2.6.20's recalc_task_prio, sleep_type and the
 * on-run-queue credit. Not modelled: nice levels other than 0, TIMESLICE_GRANULARITY
 * round-robin, EXPIRED_STARVING, batch tasks.
 */
import type { Task } from './task.js';

export const MAX_PRIO = 140;
export const MAX_BONUS = 10;
/** DEF_TIMESLICE: 100 ms for nice 0. */
export const DEF_TIMESLICE_NS = 100e6;
/** MAX_SLEEP_AVG = DEF_TIMESLICE * MAX_BONUS. */
export const NS_MAX_SLEEP_AVG = DEF_TIMESLICE_NS * MAX_BONUS;
/** INTERACTIVE_SLEEP(p) for nice 0: MAX_SLEEP_AVG * (MAX_BONUS/2 + DELTA + 1) / MAX_BONUS, DELTA = 2 (less one jiffy, ignored). */
export const NS_INTERACTIVE_SLEEP = (NS_MAX_SLEEP_AVG * (MAX_BONUS / 2 + 2 + 1)) / MAX_BONUS;
/** TASK_INTERACTIVE for nice 0: prio <= static_prio - DELTA(p), DELTA = 2. */
const INTERACTIVE_DELTA = 2;

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
 * recalc_task_prio() of 2.6.20 after sleeping `sleptNs`: the sleep is added to sleep_avg,
 * except that one long sleep only lifts a user task to INTERACTIVE_SLEEP, and a
 * non-interactive sleep never lifts it above that ceiling. Returns the new dynamic prio.
 */
export function creditSleep(t: Task, sleptNs: number): number {
  if (sleptNs > 0) {
    const ceiling = NS_INTERACTIVE_SLEEP;
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

/** struct prio_array: a FIFO list per priority and a bitmap of the non-empty ones. */
class PrioArray {
  nrActive = 0;
  readonly bitmap = new Uint32Array(5);
  readonly head: (Task | null)[] = new Array<Task | null>(MAX_PRIO).fill(null);
  readonly tail: (Task | null)[] = new Array<Task | null>(MAX_PRIO).fill(null);

  enqueue(t: Task, id: number): void {
    const p = (t.rqPrio = t.prio);
    t.rqNext = null;
    t.rqPrev = this.tail[p]!;
    if (t.rqPrev) t.rqPrev.rqNext = t;
    else this.head[p] = t;
    this.tail[p] = t;
    this.bitmap[p >>> 5]! |= 1 << (p & 31);
    t.array = id;
    this.nrActive++;
  }

  dequeue(t: Task): void {
    const p = t.rqPrio;
    if (t.rqPrev) t.rqPrev.rqNext = t.rqNext;
    else this.head[p] = t.rqNext;
    if (t.rqNext) t.rqNext.rqPrev = t.rqPrev;
    else this.tail[p] = t.rqPrev;
    if (this.head[p] === null) this.bitmap[p >>> 5]! &= ~(1 << (p & 31));
    t.rqNext = t.rqPrev = null;
    t.array = -1;
    this.nrActive--;
  }

  /** sched_find_first_bit + list head. */
  first(): Task | null {
    for (let w = 0; w < 5; w++) {
      const bits = this.bitmap[w]!;
      if (bits !== 0) return this.head[w * 32 + (31 - Math.clz32(bits & -bits))]!;
    }
    return null;
  }
}

export class RunQueue {
  private arrays = [new PrioArray(), new PrioArray()];
  private activeId = 0;
  /** nr_running: tasks on either array (the running one included). */
  nrRunning = 0;

  /** activate_task: onto the active array at the tail of its priority. */
  enqueue(t: Task): void {
    this.arrays[this.activeId]!.enqueue(t, this.activeId);
    this.nrRunning++;
  }

  /** deactivate_task. */
  dequeue(t: Task): void {
    if (t.array < 0) return;
    this.arrays[t.array]!.dequeue(t);
    this.nrRunning--;
  }

  /**
   * Time slice used up: the priority is recomputed, and the task goes to the tail of
   * its list on the active array if interactive, else to the expired array.
   */
  expire(t: Task): void {
    this.arrays[t.array]!.dequeue(t);
    t.prio = effectivePrio(t);
    const id = isInteractive(t) ? this.activeId : 1 - this.activeId;
    this.arrays[id]!.enqueue(t, id);
  }

  /** The task changed priority while queued (on-run-queue credit): move it to its new list in the same array. */
  requeueAt(t: Task, prio: number): void {
    const id = t.array;
    this.arrays[id]!.dequeue(t);
    t.prio = prio;
    this.arrays[id]!.enqueue(t, id);
  }

  /**
   * move_tasks' choice of tasks to pull: the expired array first, then the active one;
   * within an array the best priority first, from the tail of each list. Tasks for which
   * `ok` is false are skipped. Fills `out` with up to `max` tasks (not dequeued).
   */
  migrationCandidates(max: number, ok: (t: Task) => boolean, out: Task[]): void {
    out.length = 0;
    for (const id of [1 - this.activeId, this.activeId]) {
      const a = this.arrays[id]!;
      for (let p = 0; p < MAX_PRIO && out.length < max; p++) {
        for (let t: Task | null = a.tail[p]!; t !== null && out.length < max; t = t.rqPrev) if (ok(t)) out.push(t);
      }
    }
  }

  /** The task schedule() picks: the head of the best priority, swapping arrays when the active one is empty. */
  pickNext(): Task | null {
    if (this.nrRunning === 0) return null;
    if (this.arrays[this.activeId]!.nrActive === 0) this.activeId = 1 - this.activeId;
    return this.arrays[this.activeId]!.first();
  }
}
