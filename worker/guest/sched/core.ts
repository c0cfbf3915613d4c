/**
 * The core of Linux 2.6.20's scheduler (kernel/sched.c): sleeping on a wait queue,
 * wake-ups (try_to_wake_up, with the sleep credited and wakeup preemption when the woken
 * task's dynamic priority beats the running one's), schedule() with switch_mm, and the
 * tick's time-slice accounting. A wake-up of a task on another vCPU is a record (M_WAKE):
 * the waker pays for try_to_wake_up, the task's vCPU finishes it at the quantum's end and
 * takes a reschedule IPI if the task preempts.
 */
import type { Costs } from '../../../shared/costs.js';
import type { RecordBus } from '../../smp/bus.js';
import { emitWake, M_WAKE, readWake, type Wake } from '../../smp/records/wake.js';
import type { GuestCpu } from '../cpu.js';
import type { WaitQueue } from '../ipc/wait.js';
import { RESCHEDULE_VECTOR } from '../irq/vectors.js';
import { KTEXT } from '../layout.js';
import type { MemoryManager } from '../mm/mm.js';
import type { MmSwitch } from '../mm/mmu-context.js';
import { TASK_INTERRUPTIBLE, TASK_RUNNING, type Task } from '../task.js';
import { chargeRun, creditSleep, currentBonus, CHILD_PENALTY, effectivePrio, interactiveSleepNs, isInteractive, onRunqueueCredit, PARENT_PENALTY, penalisedSleepAvg, SLEEP_INTERACTIVE, SLEEP_NONINTERACTIVE, SLEEP_NORMAL, timesliceGranularity } from './prio.js';

export class Scheduler {
  /** With several vCPUs: the records that connect them (null with one). */
  bus: RecordBus | null = null;
  private readonly nsPerCycle: number;
  /** INTERACTIVE_SLEEP for this HZ. */
  readonly interactiveSleep: number;
  private readonly hz: number;
  private readonly wake: Wake = { pid: 0 };

  constructor(
    private readonly cpus: readonly GuestCpu[],
    /** Every task, by pid - 1 (the kernel's table). */
    private readonly tasks: readonly Task[],
    private readonly mm: MemoryManager,
    private readonly cr: MmSwitch,
    private readonly c: Costs,
    /** Ticks of a fresh time slice. */
    readonly timesliceTicks: number,
    hz: number,
    /** The ablation's artificial flush after every switch_to(): none, __flush_tlb_global(), or that and __flush_tlb(). */
    private readonly extraFlush: 'none' | 'global' | 'both' = 'none',
  ) {
    this.nsPerCycle = 1e9 / c.clockHz;
    this.interactiveSleep = interactiveSleepNs(hz);
    this.hz = hz;
  }

  /** Several vCPUs: wake-ups of their tasks arrive as records. */
  attachSmp(bus: RecordBus): void {
    this.bus = bus;
    bus.on(M_WAKE, (d, at) => {
      const t = this.tasks[readWake(d, at, this.wake).pid - 1]!;
      if (bus.isLocal(t.cpu)) this.tryToWakeUp(this.cpus[t.cpu]!, t, false, true);
    });
  }

  ns(cycles: number): number {
    return cycles * this.nsPerCycle;
  }

  /** Sleep on a wait queue; `nonInteractive` for TASK_NONINTERACTIVE sleeps (pipe_wait). */
  sleepOn(t: Task, wq: WaitQueue<Task>, nonInteractive = false): void {
    t.state = TASK_INTERRUPTIBLE;
    t.inSyscall = true;
    t.sleepNonInteractive = nonInteractive;
    wq.add(t);
  }

  /**
   * Park a new task on a wait queue, as if it had run up to a blocking call.
   * `inSyscall`: it sleeps inside the call its program issues first (so the retry
   * skips the entry), rather than before it; `nonInteractive` as sleepOn's.
   */
  park(t: Task, wq: WaitQueue<Task>, inSyscall: boolean, nonInteractive = false): void {
    this.sleepOn(t, wq, nonInteractive);
    t.inSyscall = inSyscall;
  }

  /** Make a task created at set-up runnable on its CPU: on its run queue, the CPU asked to reschedule. */
  start(t: Task): void {
    t.state = TASK_RUNNING;
    const cpu = this.cpus[t.cpu]!;
    cpu.rq.enqueue(t);
    cpu.needResched = true;
  }

  /**
   * sched_fork, for `child` copied from the running `parent` (dup_task_struct): the child
   * runs at the parent's priority on half its remaining slice (rounded up, its
   * first_time_slice), the parent keeps the other half; a parent left with nothing gets
   * one tick and task_running_tick at once, which expires it.
   */
  schedFork(cpu: GuestCpu, parent: Task, child: Task): void {
    child.prio = parent.prio;
    child.timeSlice = (parent.timeSlice + 1) >> 1;
    child.firstTimeSlice = true;
    parent.timeSlice >>= 1;
    child.timestamp = cpu.vcpu.clock;
    if (parent.timeSlice === 0) {
      parent.timeSlice = 1;
      this.runningTick(cpu, parent);
    }
  }

  /**
   * wake_up_new_task on the parent's CPU (no SD_BALANCE_FORK in 2.6.20's CPU domain): the
   * child's sleep_avg cut to CHILD_PENALTY of its bonus, the parent's rounded to its bonus
   * step (PARENT_PENALTY). A process (no CLONE_VM) runs first: it goes just before the
   * parent in the parent's list, at the parent's priority, and the parent is asked to
   * reschedule; a thread (CLONE_VM) is appended to its own list and runs later.
   */
  wakeUpNewTask(cpu: GuestCpu, parent: Task, child: Task, cloneVm: boolean): void {
    child.sleepAvg = penalisedSleepAvg(currentBonus(child), CHILD_PENALTY);
    child.prio = effectivePrio(child);
    child.state = TASK_RUNNING;
    if (!cloneVm) {
      if (parent.array < 0) cpu.rq.enqueue(child);
      else cpu.rq.enqueueBefore(child, parent);
      cpu.needResched = true;
    } else cpu.rq.enqueue(child);
    parent.sleepAvg = penalisedSleepAvg(currentBonus(parent), PARENT_PENALTY);
  }

  /**
   * wake_up on a wait queue: every sleeper, most recent first (they were added at the
   * head). `remote`: the wake-up comes from another vCPU (see tryToWakeUp).
   */
  wakeUpAll(cpu: GuestCpu, wq: WaitQueue<Task>, sync: boolean, remote = false): void {
    const n = wq.count;
    if (n === 0) return;
    for (let i = n - 1; i >= 0; i--) this.tryToWakeUp(cpu, wq.at(i), sync, remote);
    wq.clear();
  }

  /** activate_task's recalc_task_prio: credit the sleep, then the on-run-queue credit starts from now. */
  private activate(cpu: GuestCpu, t: Task): void {
    const now = cpu.vcpu.clock;
    if (t.sleepNonInteractive) t.sleepType = SLEEP_NONINTERACTIVE;
    t.prio = creditSleep(t, this.ns(now - t.timestamp), this.interactiveSleep);
    if (t.sleepType === SLEEP_NORMAL) t.sleepType = SLEEP_INTERACTIVE;
    t.timestamp = now;
    t.state = TASK_RUNNING;
  }

  /**
   * try_to_wake_up: credit the sleep, enqueue, and preempt the running task if the woken
   * one has a better dynamic priority (not for a sync wake-up on the same CPU). A task
   * on another vCPU gets there with a reschedule IPI.
   */
  tryToWakeUp(cpu: GuestCpu, t: Task, sync: boolean, remote = false): void {
    const bus = this.bus;
    const c = this.c;
    if (bus !== null && t.cpu !== cpu.id) {
      // The task's state belongs to its vCPU: the waker pays for try_to_wake_up here,
      // the task's vCPU finishes it (and takes the IPI) at the quantum's end.
      cpu.work(c.wakeup);
      cpu.touch(KTEXT.schedA);
      cpu.touch(KTEXT.schedB);
      cpu.touch(t.taskStructVpn);
      if (t.cpu >= 0) {
        cpu.touch(this.cpus[t.cpu]!.rqVpn); // (none while the balancer moves it)
        // The other vCPU's run-queue lock and the task's state: two lines it wrote last.
        cpu.vcpu.clock += 2 * c.cacheLineTransfer;
        // resched_task's smp_send_reschedule: the ICR writes. Whether the woken task will
        // preempt that vCPU's current one is known there only at the quantum's end, so the
        // waker pays for the IPI at every wake-up of a task on another vCPU (2.6.20 sends it
        // only when it preempts; an overcount for the wake-ups that do not).
        cpu.platform.sendIpi(cpu.vcpu);
      }
      emitWake(bus, cpu.vcpu, t.pid);
      return;
    }
    if (t.state !== TASK_INTERRUPTIBLE) return;
    const target = this.cpus[t.cpu]!;
    if (remote) {
      // A wake-up another vCPU made, delivered at the quantum's end: the enqueue (its
      // cost charged here, on the task's vCPU) and a reschedule IPI if it preempts.
      cpu.work(c.wakeup);
      cpu.touch(target.rqVpn);
      cpu.touch(t.taskStructVpn);
      this.activate(cpu, t);
      cpu.rq.enqueue(t);
      if (t.prio < cpu.current.prio) cpu.lapic.receiveIpi(RESCHEDULE_VECTOR, cpu.vcpu.clock);
      return;
    }
    cpu.work(c.wakeup);
    cpu.touch(KTEXT.schedA);
    cpu.touch(KTEXT.schedB);
    cpu.touch(t.taskStructVpn);
    cpu.touch(target.rqVpn);
    this.activate(cpu, t);
    target.rq.enqueue(t);
    if (target === cpu) {
      if (!sync && t.prio < cpu.current.prio) cpu.needResched = true;
    } else if (t.prio < target.current.prio) target.lapic.receiveIpi(RESCHEDULE_VECTOR, cpu.vcpu.clock);
  }

  /**
   * One step of a CPU, as the kernel runs it between interrupts: schedule() when a
   * reschedule is pending, then the idle loop, or one step of the current task's program
   * (`programs`, by its exe: one system call and the user work around it), after which
   * the task is switched away from if it blocked or was preempted (the return to user
   * mode checks TIF_NEED_RESCHED).
   */
  step(cpu: GuestCpu, programs: readonly ((cpu: GuestCpu, t: Task) => void)[]): void {
    if (cpu.needResched) this.schedule(cpu);
    const t = cpu.current;
    if (t === cpu.idle) {
      if (cpu.rq.nrRunning > 0) this.schedule(cpu);
      else this.idle(cpu);
      return;
    }
    programs[t.exe]!(cpu, t);
    if (t.state !== TASK_RUNNING || cpu.needResched) this.schedule(cpu);
    else if (this.returnToUser !== null) this.returnToUser(cpu);
  }

  /** The return to user mode a step ends with, where the model follows it (entry.ts); null where it switches nothing. */
  returnToUser: ((cpu: GuestCpu) => void) | null = null;

  /** schedule(): charge the outgoing task's run time, pick the next, switch mm and stack. */
  schedule(cpu: GuestCpu): void {
    const c = this.c;
    const prev = cpu.current;
    const now = cpu.vcpu.clock;
    cpu.work(c.schedule);
    cpu.touch(KTEXT.schedA);
    cpu.touch(KTEXT.schedB);
    cpu.touch(cpu.rqVpn);
    cpu.touch(prev.kstackVpn);
    cpu.needResched = false;
    if (prev !== cpu.idle) {
      chargeRun(prev, this.ns(now - prev.timestamp));
      if (prev.state !== TASK_RUNNING) cpu.rq.dequeue(prev);
      prev.timestamp = now;
    }
    const next = cpu.rq.pickNext() ?? cpu.idle;
    if (next.sleepType === SLEEP_INTERACTIVE) {
      // Credit part of the time the woken task waited on the run queue.
      const waited = onRunqueueCredit(this.ns(now - next.timestamp));
      const prio = creditSleep(next, waited, this.interactiveSleep);
      if (prio !== next.prio) cpu.rq.requeueAt(next, prio);
    }
    next.sleepType = SLEEP_NORMAL;
    if (next === prev) return;
    cpu.stat.contextSwitches++;
    cpu.touch(KTEXT.switchTo);
    cpu.touch(next.kstackVpn);
    cpu.touch(next.taskStructVpn);
    const mm = next.mm;
    if (mm !== null && mm !== cpu.activeMm) {
      // switch_mm: load the new page directory; the idle task (mm null) borrows the old one.
      const old = cpu.activeMm;
      this.cr.switchMm(cpu, mm);
      // mmdrop: with several vCPUs, only on the vCPU that tore the address space down.
      if (old !== null && old.users === 0 && (this.bus === null || old.exitCpu === cpu.id)) this.mm.mmdrop(cpu, old);
    }
    next.timestamp = cpu.vcpu.clock;
    cpu.current = next;
    if (this.extraFlush !== 'none') {
      this.cr.flushTlbGlobal(cpu);
      if (this.extraFlush === 'both') this.cr.flushTlbLocal(cpu);
    }
  }

  /** scheduler_tick: use up the running task's time slice. */
  tick(cpu: GuestCpu): void {
    const t = cpu.current;
    if (t === cpu.idle) return;
    cpu.touch(KTEXT.schedA);
    this.runningTick(cpu, t);
  }

  /**
   * task_running_tick: one tick of `t`'s slice; at zero it expires: a fresh slice (no
   * longer its first), the priority recomputed, to the expired array unless interactive.
   * An interactive task that has used a multiple of TIMESLICE_GRANULARITY of its slice,
   * and has at least that much left, goes to the back of its list (requeue_task).
   */
  private runningTick(cpu: GuestCpu, t: Task): void {
    if (--t.timeSlice <= 0) {
      t.timeSlice = this.timesliceTicks;
      t.firstTimeSlice = false;
      cpu.rq.expire(t);
      cpu.needResched = true;
      return;
    }
    if (!isInteractive(t)) return;
    const g = timesliceGranularity(t, this.hz, this.cpus.length);
    if ((this.timesliceTicks - t.timeSlice) % g === 0 && t.timeSlice >= g && cpu.rq.isActive(t)) {
      cpu.rq.requeue(t);
      cpu.needResched = true;
    }
  }

  /** The idle loop: nothing to run, so HLT until an interrupt. */
  idle(cpu: GuestCpu): void {
    cpu.touch(KTEXT.idle);
    cpu.platform.halt(cpu.vcpu);
  }
}
