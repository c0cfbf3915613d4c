/**
 * Processes: creating them (kernel/fork.c: copy_process, sched_fork's time-slice split,
 * a new address space for a new process or a thread's stack in its parent's), their
 * exit (kernel/exit.c do_exit: mmput, the zombie, __wake_up_parent) and wait4. With
 * several vCPUs, mm_users is shared by the threads on every vCPU: a drop is a record
 * (M_MMPUT) and the vCPU whose drop is the last tears the address space down; a child's
 * exit reaches a parent on another vCPU as a record (M_CHILD_EXIT).
 */
import type { Costs } from '../../../shared/costs.js';
import type { RecordBus } from '../../smp/bus.js';
import { emitChildExit, M_CHILD_EXIT, readChildExit, type ChildExit } from '../../smp/records/child-exit.js';
import { emitMmput, M_MMPUT, readMmput, type Mmput } from '../../smp/records/mmput.js';
import type { GuestCpu } from '../cpu.js';
import type { SyscallEntry } from '../entry.js';
import { KTEXT, USER } from '../layout.js';
import type { MemoryManager } from '../mm/mm.js';
import { TASK_DEAD, Task, type Mm } from '../task.js';
import type { Scheduler } from './core.js';
import { creditSleep } from './prio.js';

export class Processes {
  /** Tasks not yet exited (idle tasks excluded); with several vCPUs, as this replica knows it. */
  liveTasks = 0;
  /** Tasks that exited on this replica's vCPUs (several vCPUs only). */
  exitedHere = 0;
  private bus: RecordBus | null = null;
  private nextPid = 1;
  private readonly ce: ChildExit = { parent: 0 };
  private readonly mp: Mmput = { mm: 0 };

  constructor(
    /** Every task, by pid - 1. */
    readonly tasks: Task[],
    private readonly cpus: readonly GuestCpu[],
    private readonly mm: MemoryManager,
    private readonly sched: Scheduler,
    private readonly entry: SyscallEntry,
    private readonly c: Costs,
    /**
     * sleep_avg a new task starts with (ns): what fork gives a child of a shell-started
     * parent (CURRENT_BONUS * CHILD_PENALTY / 100, in whole bonus steps).
     */
    private readonly initialSleepAvgNs: number,
  ) {}

  /** Several vCPUs: child exits and mm_users drops arrive as records. */
  attachSmp(bus: RecordBus): void {
    this.bus = bus;
    bus.on(M_CHILD_EXIT, (d, at) => {
      const parent = this.tasks[readChildExit(d, at, this.ce).parent - 1]!;
      if (bus.isLocal(parent.cpu)) this.childExited(this.cpus[parent.cpu]!, parent, false, true);
    });
    bus.on(M_MMPUT, (d, at, src) => {
      const mm = this.mm.mms[readMmput(d, at, this.mp).mm]!;
      if (--mm.users === 0) {
        mm.exitCpu = src;
        if (bus.isLocal(src)) this.mm.lastMmput(this.cpus[src]!, mm);
      }
    });
  }

  /**
   * A new task (fork/clone done before the measured part, or at run time on `cpu`): its
   * kernel stack and task_struct, and in its mm a private stack page and, for a new
   * process, a data page. `threadIndex` >= 0 makes it a thread of `mm` with its own stack.
   */
  createTask(name: string, mm: Mm, cpuId: number, exe: number, threadIndex = -1, cpu: GuestCpu | null = null): Task {
    const m = this.mm;
    const t = new Task(this.nextPid++, name, cpuId, mm, exe);
    t.kstackVpn = m.kernelPage(cpu);
    t.taskStructVpn = m.kernelPage(cpu);
    if (threadIndex < 0) {
      t.stackVpn = USER.stack;
      t.dataVpn = USER.data;
      if (mm.users === 0) {
        m.mapUser(mm, USER.stack, m.allocPage(cpu), true, cpu);
        m.mapUser(mm, USER.data, m.allocPage(cpu), true, cpu);
      }
    } else {
      t.stackVpn = USER.threadStackBase + threadIndex * 8;
      t.dataVpn = USER.data;
      if (mm.userVpns.indexOf(USER.data) < 0) m.mapUser(mm, USER.data, m.allocPage(cpu), true, cpu);
      m.mapUser(mm, t.stackVpn, m.allocPage(cpu), true, cpu);
    }
    mm.users++;
    t.sleepAvg = this.initialSleepAvgNs;
    t.prio = creditSleep(t, 0);
    t.timeSlice = this.sched.timesliceTicks;
    this.tasks.push(t);
    this.liveTasks++;
    return t;
  }

  /**
   * sched_fork's time-slice split: the child gets half of the parent's remaining slice
   * (rounded up) and the parent keeps the other half (at least one tick), so the total of
   * pending slices does not grow with fork.
   */
  splitTimeslice(parent: Task, child: Task): void {
    child.timeSlice = (parent.timeSlice + 1) >> 1;
    parent.timeSlice >>= 1;
    if (parent.timeSlice === 0) parent.timeSlice = 1;
  }

  /** fork() of a new process by `parent` at run time: its page tables are written by the running guest. */
  fork(cpu: GuestCpu, parent: Task, name: string, exe: number): Task {
    this.entry.enter(cpu, parent);
    cpu.work(this.c.fork);
    const t = this.createTask(name, this.mm.createMm(cpu), parent.cpu, exe, -1, cpu);
    t.parent = parent;
    t.migratable = false;
    this.splitTimeslice(parent, t);
    this.sched.start(t);
    return t;
  }

  /** do_exit: tear down the address space if last user, become a zombie, notify the parent. */
  exit(cpu: GuestCpu, t: Task): void {
    this.entry.enter(cpu, t);
    cpu.work(this.c.taskExit);
    cpu.touch(KTEXT.exitA);
    const mm = t.mm!;
    const bus = this.bus;
    if (bus === null) {
      if (--mm.users === 0) this.mm.exitMmap(cpu, mm);
    } else {
      // mmput: mm_users is shared by the threads on every vCPU. The drop is merged at the
      // quantum's end; the vCPU whose drop is the last tears the address space down then.
      emitMmput(bus, cpu.vcpu, mm.id);
    }
    t.state = TASK_DEAD;
    this.liveTasks--;
    if (bus !== null) this.exitedHere++;
    const parent = t.parent;
    if (parent === null) return;
    if (bus !== null && parent.cpu !== cpu.id) {
      // The parent's vCPU learns of the zombie, and wakes the parent, at the quantum's end.
      emitChildExit(bus, cpu.vcpu, parent.pid);
      return;
    }
    this.childExited(cpu, parent, true);
  }

  /** A child of `parent` is a zombie: count it and wake the parent (__wake_up_parent: wake_up_interruptible_sync). */
  private childExited(cpu: GuestCpu, parent: Task, sync: boolean, remote = false): void {
    parent.zombies++;
    this.sched.wakeUpAll(cpu, parent.childWait!, sync, remote);
  }

  /** wait4 for any child: reap a zombie, or sleep on wait_chldexit. */
  wait(cpu: GuestCpu, t: Task): boolean {
    this.entry.enter(cpu, t);
    cpu.touch(KTEXT.exitA);
    if (t.zombies > 0) {
      t.zombies--;
      cpu.work(this.c.waitReap);
      return true;
    }
    this.sched.sleepOn(t, t.childWait!);
    return false;
  }
}
