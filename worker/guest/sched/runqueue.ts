/**
 * The Linux 2.6.20 O(1) run queue, per vCPU (kernel/sched.c): two priority arrays
 * (active, expired) with a bitmap of non-empty priorities; a task whose time slice runs
 * out goes to the expired array unless it is interactive. As in 2.6.20 the running task
 * stays on its queue; it leaves it only when it sleeps or exits. Not modelled:
 * EXPIRED_STARVING (with every task at nice 0 it needs STARVATION_LIMIT x nr_running,
 * over a second, of expired waiting).
 */
import type { Task } from '../task.js';
import { effectivePrio, isInteractive, MAX_PRIO } from './prio.js';

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

  /** Insert `t` just before `ref` in ref's priority list (wake_up_new_task's list_add_tail(&p->run_list, &current->run_list)). */
  insertBefore(t: Task, ref: Task, id: number): void {
    const p = (t.rqPrio = ref.rqPrio);
    t.rqNext = ref;
    t.rqPrev = ref.rqPrev;
    if (t.rqPrev) t.rqPrev.rqNext = t;
    else this.head[p] = t;
    ref.rqPrev = t;
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

  /**
   * wake_up_new_task's child-runs-first: the child goes just before the running parent in
   * the parent's list, in the parent's array, at the parent's priority.
   */
  enqueueBefore(t: Task, parent: Task): void {
    t.prio = parent.prio;
    this.arrays[parent.array]!.insertBefore(t, parent, parent.array);
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

  /** Is `t` on the active array? */
  isActive(t: Task): boolean {
    return t.array === this.activeId;
  }

  /** requeue_task: to the tail of its list in its array. */
  requeue(t: Task): void {
    const id = t.array;
    this.arrays[id]!.dequeue(t);
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
