/**
 * Processes: creating them (kernel/fork.c do_fork: copy_process with dup_task_struct and
 * sched_fork, then wake_up_new_task), their exit (kernel/exit.c do_exit: mmput, the
 * zombie, __wake_up_parent) and wait4 (release_task, with sched_exit giving the parent
 * back the child's unused first slice and blending its sleep_avg).
 *
 * Tasks made at set-up (before the measured run) start as a benchmark's processes do when
 * the command is typed at an interactive shell (recalc_task_prio, kernel/sched.c v2.6.20):
 * after a pause at the prompt longer than INTERACTIVE_SLEEP (799 ms) the shell's sleep_avg
 * is lifted to that ceiling (CURRENT_BONUS 7), and every keystroke after it is a short
 * plain-interruptible sleep in the tty read that is credited in full, so two keystrokes
 * reach NS_MAX_SLEEP_AVG (1 s, bonus 10, prio 115). The benchmark it forks keeps
 * CHILD_PENALTY of that (bonus 9) at the shell's priority (child-runs-first) on half a
 * slice; the benchmark's own children 95% of its bonus. A benchmark that forks at run time
 * (hackbench) goes through fork() itself, which lowers the main process one bonus step a
 * fork (PARENT_PENALTY rounds it to its step, its run time is charged when the child runs
 * first).
 *
 * With several vCPUs, mm_users is shared by the threads on every vCPU: a drop is a record
 * (M_MMPUT) and the vCPU whose drop is the last tears the address space down; a child's
 * exit reaches a parent on another vCPU as a record (M_CHILD_EXIT). A task forked on a
 * vCPU is made there at once; the other replicas make their copy of it, with its address
 * space's new page tables, when the fork's record (M_FORK) is merged at the quantum's end.
 * Pids and address-space ids are given in fork order, which every replica sees alike as
 * long as one vCPU forks at a time (hackbench's main process forks them all).
 */
import type { Costs } from '../../../shared/costs.js';
import type { RecordBus } from '../../smp/bus.js';
import { emitChildExit, M_CHILD_EXIT, readChildExit, type ChildExit } from '../../smp/records/child-exit.js';
import { emitFork, FORK_FIXED, M_FORK, readFork, type Fork } from '../../smp/records/fork.js';
import { PAGE_SHIFT, pdIndex, ptIndex } from '../../machine/paging.js';
import { emitMmput, M_MMPUT, readMmput, type Mmput } from '../../smp/records/mmput.js';
import type { GuestCpu } from '../cpu.js';
import type { SyscallEntry } from '../entry.js';
import { KERNEL_VPN_BASE, KTEXT, USER } from '../layout.js';
import type { MemoryManager } from '../mm/mm.js';
import { TASK_DEAD, Task, ZOMBIE_WORDS, type Mm } from '../task.js';
import type { Scheduler } from './core.js';
import { popZombie, pushZombie } from './zombies.js';
import { CHILD_PENALTY, effectivePrio, EXIT_WEIGHT, MAX_BONUS, penalisedSleepAvg } from './prio.js';

/** CURRENT_BONUS of an interactive shell that has just read a typed command line: NS_MAX_SLEEP_AVG (see above). */
export const SHELL_BONUS = 10;
/** The benchmark's main process: forked by the shell. */
const MAIN_BONUS = Math.floor((SHELL_BONUS * CHILD_PENALTY) / 100);
/** The benchmark's children: forked by its main process. */
const CHILD_BONUS = Math.floor((MAIN_BONUS * CHILD_PENALTY) / 100);

/** How a task made at set-up starts. */
export type SetupRole = 'main' | 'child';

export class Processes {
  /** Tasks not yet exited (idle tasks excluded); with several vCPUs, as this replica knows it. */
  liveTasks = 0;
  /** Tasks that exited on this replica's vCPUs since every replica stopped running every vCPU. */
  exitedHere = 0;
  private bus: RecordBus | null = null;
  private nextPid = 1;
  private readonly ce: ChildExit = { parent: 0, child: 0, firstTimeSlice: 0, timeSlice: 0, sleepAvg: 0, cpu: 0 };
  private readonly mp: Mmput = { mm: 0 };
  /** The zombie reap() takes (zombies.ts). */
  private readonly reaped: number[] = new Array<number>(ZOMBIE_WORDS).fill(0);
  private readonly fk: Fork = { pid: 0, parent: 0, cpu: 0, exe: 0, arg: 0, mm: 0, newMm: 0, pdFrame: 0, kstackVpn: 0, taskStructVpn: 0, stackVpn: 0, dataVpn: 0, nPts: 0, nVpns: 0, nPrivate: 0, lists: 0 };

  constructor(
    /** Every task, by pid - 1. */
    readonly tasks: Task[],
    private readonly cpus: readonly GuestCpu[],
    private readonly mm: MemoryManager,
    private readonly sched: Scheduler,
    private readonly entry: SyscallEntry,
    private readonly c: Costs,
  ) {}

  /**
   * release_task frees the reaped child's kernel stack and task_struct (free_task). The
   * 2007 model never did (its figures keep the allocator as they had it, and pgdreuse
   * relies on the last page freed being the child's page directory); an x86-64 guest,
   * whose fork workload reaps thousands of children, does.
   */
  freesTaskPages = false;

  /** Several vCPUs: child exits and mm_users drops arrive as records. */
  attachSmp(bus: RecordBus): void {
    this.bus = bus;
    bus.on(M_CHILD_EXIT, (d, at) => {
      const r = readChildExit(d, at, this.ce);
      const parent = this.tasks[r.parent - 1]!;
      if (bus.isLocal(parent.cpu)) this.childExited(this.cpus[parent.cpu]!, parent, r.child, r.firstTimeSlice, r.timeSlice, r.sleepAvg, r.cpu, false, true);
    });
    bus.on(M_MMPUT, (d, at, src) => {
      const mm = this.mm.mms[readMmput(d, at, this.mp).mm]!;
      if (--mm.users === 0) {
        mm.exitCpu = src;
        if (bus.isLocal(src)) this.mm.lastMmput(this.cpus[src]!, mm);
        else this.mm.forgetRemote(mm);
      }
    });
    // After the page-table writes the fork made (they come first in the quantum's order).
    bus.on(M_FORK, (d, at, src) => {
      if (!bus.isLocal(src)) this.adoptFork(readFork(d, at, this.fk), d);
    });
  }

  /** A fork on this replica's vCPU: the others learn of the task, and of what its address space gained (its lists from `pts`, `vpns`, `priv` on). */
  private announce(cpu: GuestCpu, t: Task, newMm: boolean, pts: number, vpns: number, priv: number): void {
    const bus = this.bus;
    if (bus === null) return;
    const mm = t.mm!;
    const nPts = mm.userPtFrames.length - pts;
    const nVpns = mm.userVpns.length - vpns;
    const nPriv = mm.privateFrames.length - priv;
    const at = emitFork(bus, cpu.vcpu, nPts, nVpns, nPriv);
    const d = bus.d;
    d[at] = t.pid;
    d[at + 1] = t.parent!.pid;
    d[at + 2] = t.cpu;
    d[at + 3] = t.exe;
    d[at + 4] = t.arg;
    d[at + 5] = mm.id;
    d[at + 6] = newMm ? 1 : 0;
    d[at + 7] = mm.pdFrame;
    d[at + 8] = t.kstackVpn;
    d[at + 9] = t.taskStructVpn;
    d[at + 10] = t.stackVpn;
    d[at + 11] = t.dataVpn;
    d[at + 12] = nPts;
    d[at + 13] = nVpns;
    d[at + 14] = nPriv;
    let o = at + FORK_FIXED;
    const mem = this.mm.mem;
    for (let i = pts; i < mm.userPtFrames.length; i++) {
      d[o++] = mm.userPtFrames[i]!;
      d[o++] = mm.userPtPdis[i]!;
      d[o++] = mem.readEntry(mm.pdFrame, mm.userPtPdis[i]!);
    }
    for (let i = vpns; i < mm.userVpns.length; i++) {
      const vpn = mm.userVpns[i]!;
      d[o++] = vpn;
      d[o++] = mem.readEntry(mem.readEntry(mm.pdFrame, pdIndex(vpn)) >>> PAGE_SHIFT, ptIndex(vpn));
    }
    for (let i = priv; i < mm.privateFrames.length; i++) d[o++] = mm.privateFrames[i]!;
  }

  /** The copy of a task forked on another replica's vCPU, with its address space's new page tables, as the fork left them. */
  private adoptFork(r: Fork, d: Float64Array): void {
    if (r.pid !== this.nextPid) throw new Error(`pid ${r.pid} forked where pid ${this.nextPid} was next: forks on two vCPUs within one quantum`);
    const m = this.mm;
    const parent = this.tasks[r.parent - 1]!;
    const mm = r.newMm === 1 ? m.adoptMm(r.mm, r.pdFrame) : m.mms[r.mm]!;
    let o = r.lists;
    for (let i = 0; i < r.nPts; i++, o += 3) m.adoptPageTable(mm, d[o]! | 0, d[o + 1]! | 0, d[o + 2]!);
    for (let i = 0; i < r.nVpns; i++, o += 2) m.adoptMapping(mm, d[o]! | 0, d[o + 1]!);
    for (let i = 0; i < r.nPrivate; i++, o++) {
      m.adoptCleared(d[o]! | 0);
      mm.privateFrames.push(d[o]! | 0);
    }
    // Names are not statistics: a copy is named after its parent.
    const t = new Task(this.nextPid++, `${parent.name}/${r.pid}`, r.cpu, mm, r.exe);
    t.kstackVpn = r.kstackVpn;
    t.taskStructVpn = r.taskStructVpn;
    m.adoptCleared(r.kstackVpn - KERNEL_VPN_BASE);
    m.adoptCleared(r.taskStructVpn - KERNEL_VPN_BASE);
    t.stackVpn = r.stackVpn;
    t.dataVpn = r.dataVpn;
    t.arg = r.arg;
    t.parent = parent;
    mm.users++;
    mm.trim();
    this.tasks.push(t);
    this.liveTasks++;
  }

  /**
   * A new task's memory: its kernel stack and task_struct, and in its mm a private stack
   * page and, for a new process, a data page; `threadIndex` >= 0 makes it a thread of `mm`
   * with its own stack. At run time (`cpu` given) the pages are cleared and the page-table
   * stores go through the platform.
   */
  private newTask(name: string, mm: Mm, cpuId: number, exe: number, threadIndex: number, cpu: GuestCpu | null): Task {
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
    mm.trim();
    this.tasks.push(t);
    this.liveTasks++;
    return t;
  }

  /**
   * A task made before the measured run, as a shell and a benchmark would have made it
   * (see the module's comment): `main`, the benchmark's own process, or a `child` it forked.
   */
  createTask(name: string, mm: Mm, cpuId: number, exe: number, role: SetupRole, threadIndex = -1): Task {
    const t = this.newTask(name, mm, cpuId, exe, threadIndex, null);
    const bonus = role === 'main' ? MAIN_BONUS : CHILD_BONUS;
    t.sleepAvg = penalisedSleepAvg(bonus, 100);
    const full = this.sched.timesliceTicks;
    if (role === 'main') {
      // The shell's priority (child-runs-first) on half its slice.
      t.prio = t.staticPrio - (SHELL_BONUS - MAX_BONUS / 2);
      t.timeSlice = (full + 1) >> 1;
      t.firstTimeSlice = true;
    } else {
      t.prio = effectivePrio(t);
      t.timeSlice = full;
    }
    return t;
  }

  /** fork() by `parent` at run time: copy_process (a new address space, the parent's scheduling state), sched_fork, wake_up_new_task. */
  fork(cpu: GuestCpu, parent: Task, name: string, exe: number, arg = -1): Task {
    this.entry.enter(cpu, parent);
    cpu.work(this.c.fork);
    const t = this.newTask(name, this.mm.createMm(cpu), parent.cpu, exe, -1, cpu);
    this.copySched(parent, t);
    t.parent = parent;
    t.arg = arg;
    this.announce(cpu, t, true, 0, 0, 0);
    this.sched.schedFork(cpu, parent, t);
    this.sched.wakeUpNewTask(cpu, parent, t, false);
    return t;
  }

  /**
   * pthread_create at run time: clone with CLONE_VM (glibc's create_thread), a thread of
   * the parent's address space with its own stack; no child-runs-first.
   */
  spawnThread(cpu: GuestCpu, parent: Task, name: string, exe: number, threadIndex: number, arg = -1): Task {
    this.entry.enter(cpu, parent);
    cpu.work(this.c.fork);
    const mm = parent.mm!;
    const pts = mm.userPtFrames.length;
    const vpns = mm.userVpns.length;
    const priv = mm.privateFrames.length;
    const t = this.newTask(name, mm, parent.cpu, exe, threadIndex, cpu);
    this.copySched(parent, t);
    t.parent = parent;
    t.arg = arg;
    this.announce(cpu, t, false, pts, vpns, priv);
    this.sched.schedFork(cpu, parent, t);
    this.sched.wakeUpNewTask(cpu, parent, t, true);
    return t;
  }

  /** dup_task_struct: the child starts with the parent's scheduling state. */
  private copySched(parent: Task, t: Task): void {
    t.staticPrio = parent.staticPrio;
    t.prio = parent.prio;
    t.sleepAvg = parent.sleepAvg;
    t.sleepType = parent.sleepType;
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
    const first = t.firstTimeSlice ? 1 : 0;
    if (bus !== null && parent.cpu !== cpu.id) {
      // The parent's vCPU learns of the zombie, and wakes the parent, at the quantum's end.
      emitChildExit(bus, cpu.vcpu, parent.pid, t.pid, first, t.timeSlice, t.sleepAvg, cpu.id);
      return;
    }
    this.childExited(cpu, parent, t.pid, first, t.timeSlice, t.sleepAvg, cpu.id, true);
  }

  /** A child of `parent` is a zombie: queue it and wake the parent (__wake_up_parent: wake_up_interruptible_sync). */
  private childExited(cpu: GuestCpu, parent: Task, pid: number, first: number, timeSlice: number, sleepAvg: number, childCpu: number, sync: boolean, remote = false): void {
    pushZombie(parent.zombies, pid, first, timeSlice, sleepAvg, childCpu);
    this.sched.wakeUpAll(cpu, parent.childWait!, sync, remote);
  }

  /** wait4 for any child: reap a zombie, or sleep on wait_chldexit. */
  wait(cpu: GuestCpu, t: Task): boolean {
    this.entry.enter(cpu, t);
    cpu.touch(KTEXT.exitA);
    if (t.zombies.length > 0) {
      const pid = this.reap(t);
      if (this.freesTaskPages) {
        const child = this.tasks[pid - 1]!;
        this.mm.freeKernelPage(child.kstackVpn, cpu.id);
        this.mm.freeKernelPage(child.taskStructVpn, cpu.id);
      }
      cpu.work(this.c.waitReap);
      return true;
    }
    this.sched.sleepOn(t, t.childWait!);
    return false;
  }

  /**
   * release_task of the first zombie in the children list (do_wait walks it in fork order),
   * with sched_exit: the child's unused first slice goes back to a parent on the same CPU
   * (at most a full slice), and a child that slept less pulls the parent's sleep_avg down
   * (EXIT_WEIGHT).
   */
  private reap(parent: Task): number {
    const r = this.reaped;
    popZombie(parent.zombies, r);
    const pid = r[0]!;
    const first = r[1]!;
    const timeSlice = r[2]!;
    const sleepAvg = r[3]!;
    const childCpu = r[4]!;
    if (first === 1 && childCpu === parent.cpu) {
      parent.timeSlice += timeSlice;
      if (parent.timeSlice > this.sched.timesliceTicks) parent.timeSlice = this.sched.timesliceTicks;
    }
    if (sleepAvg < parent.sleepAvg) {
      parent.sleepAvg = Math.floor(parent.sleepAvg / (EXIT_WEIGHT + 1)) * EXIT_WEIGHT + Math.floor(sleepAvg / (EXIT_WEIGHT + 1));
    }
    return pid;
  }
}
