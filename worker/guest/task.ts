/**
 * Guest tasks and address spaces (Linux's task_struct and mm_struct, reduced to what
 * the model needs). A task runs one of the kernel's programs (guest/kernel.ts: a
 * workload's user code, a small state machine issuing one system call at a time), named
 * by its index `exe`; `pc`, `i` and `j` are its registers.
 */
import { asDoubles } from '../../shared/double-fields.js';
import type { WaitQueue } from './ipc/wait.js';

export const TASK_RUNNING = 0; // runnable or running (on a run queue)
export const TASK_INTERRUPTIBLE = 1; // blocked on a wait queue
export const TASK_DEAD = 2; // exited, a zombie until reaped

/** Numbers per zombie in Task.zombies. */
export const ZOMBIE_WORDS = 5;

/** mm_struct: one page directory (the cr3 value) shared by the threads of a process. */
export class Mm {
  /** Page directory frame (an x86-64 guest's PML4; with PTI the kernel one): cr3 = pdFrame << 12. */
  pdFrame: number;
  /** With page-table isolation: the user PML4 (kernel_to_user_pgdp), else -1. */
  userPgd = -1;
  /** context.ctx_id (arch/x86/mm/tlb.c): what a CPU's ASID slots remember the mm by. */
  ctxId = 0;
  /** context.tlb_gen: bumped by every flush of the mm's TLB entries. */
  tlbGen = 1;
  /** Index in the kernel's table of address spaces (what records name it by). */
  id = -1;
  /** Tasks using this address space (mm_users). */
  users = 0;
  /** With several vCPUs: the vCPU whose task dropped the last user, which tore it down and frees its page directory. */
  exitCpu = -1;
  /** Page-table frames of the user half, and the directory index of each (x86-64: in its PD, `userPtParents`). */
  userPtFrames: number[] = [];
  userPtPdis: number[] = [];
  userPtParents: number[] = [];
  /** x86-64: the user half's PDPTs and PDs, as (frame, parent table, index in it), in the order made. */
  upperTables: number[] = [];
  /** Mapped user virtual page numbers. */
  userVpns: number[] = [];
  /** Frames of the private (writable) user pages, freed with the mm. */
  privateFrames: number[] = [];
  constructor(pdFrame: number) {
    this.pdFrame = pdFrame;
  }

  /**
   * The model's own memory: the lists held at their length once a fork or exec has built
   * them (a push grows an array's room by half plus 16 entries, and a process maps four
   * pages), so ten thousand address spaces do not carry room for seventy thousand.
   */
  trim(): void {
    this.userPtFrames = this.userPtFrames.slice();
    this.userPtPdis = this.userPtPdis.slice();
    this.userPtParents = this.userPtParents.slice();
    this.upperTables = this.upperTables.slice();
    this.userVpns = this.userVpns.slice();
    this.privateFrames = this.privateFrames.slice();
  }
}

export class Task {
  readonly pid: number;
  readonly name: string;
  /** The vCPU whose run queue holds the task (-1 while the load balancer moves it). */
  cpu: number;
  /** The load balancer may move it (false for a task pinned to its CPU, as a replayed trace's are: cpus_allowed of one CPU). */
  migratable = true;
  readonly mm: Mm | null;
  state = TASK_RUNNING;
  /** Set when the task sleeps inside a system call; the retry skips the syscall entry. */
  inSyscall = false;

  // --- O(1) scheduler state (2.6.20 sched.c) ------------------------------------
  staticPrio = 120;
  prio = 120;
  /** sleep_avg in ns: grows while sleeping, shrinks while running; gives the interactivity bonus. */
  sleepAvg = 0;
  /** p->sleep_type: how the last sleep is credited (sched/prio.ts). */
  sleepType = 0;
  /** The sleep in progress is TASK_NONINTERACTIVE (pipe_wait). */
  sleepNonInteractive = false;
  /** time_slice left, in ticks. */
  timeSlice = 0;
  /** first_time_slice: still on the slice fork gave it (given back to the parent at reap, sched_exit). */
  firstTimeSlice = false;
  /** Which prio array holds the task (0/1), -1 if none. */
  array = -1;
  /** The priority list the task sits on (its prio when enqueued). */
  rqPrio = 120;
  rqNext: Task | null = null;
  rqPrev: Task | null = null;
  /** Cycle stamp of the last switch in or out (p->timestamp). */
  timestamp = 0;

  // --- kernel memory ---------------------------------------------------------------
  /** Page of the task_struct and of the active kernel stack (8 KiB stack, thread_info at its bottom). */
  taskStructVpn = 0;
  kstackVpn = 0;

  // --- user memory -------------------------------------------------------------
  stackVpn = 0;
  dataVpn = 0;

  // --- program -----------------------------------------------------------------
  /** The program it runs (an index into the kernel's programs; -1 for an idle task). */
  readonly exe: number;
  pc = 0;
  i = 0;
  j = 0;
  /** What its parent gave it at fork, as a program's argument (hackbench: the child's index in its group() loop); -1 if none. */
  arg = -1;
  /** The disk request the task sleeps on has completed. */
  ioDone = false;
  /** A timed sleep's expiry (cycles), -1 if none. */
  wakeAt = -1;
  /** Parent to notify at exit, and its wait queue (wait_chldexit). */
  parent: Task | null = null;
  childWait: WaitQueue<Task> | null = null;
  /**
   * Children that exited and wait to be reaped, as ZOMBIE_WORDS numbers each: pid, and
   * what sched_exit reads of it at reap: first_time_slice, time_slice, sleep_avg, its CPU.
   */
  readonly zombies: number[] = [];

  constructor(pid: number, name: string, cpu: number, mm: Mm | null, exe: number) {
    this.pid = pid;
    this.name = name;
    this.cpu = cpu;
    this.mm = mm;
    this.exe = exe;
    asDoubles(this, 'sleepAvg', 'timeSlice', 'timestamp');
  }
}
