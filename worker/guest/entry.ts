/**
 * The system-call path (arch/i386/kernel/entry.S: sysenter, the syscall table, the way
 * back; an x86-64 guest's entry_SYSCALL_64) and the user code between calls: what every
 * system call and every piece of a workload's own work costs and touches.
 *
 * With page-table isolation (or under PVM) the boundary between user and kernel mode
 * switches page tables (tlb-state.ts), so the model follows which mode each CPU is in
 * (GuestCpu.userMode): a system call, an interrupt or a fault taken in user mode enters
 * the kernel; the way back to user mode is taken when user code next runs (a task's
 * program step ends in user mode, or its user work or next call begins), so a task that
 * blocks returns only once it runs again.
 */
import type { Costs } from '../../shared/costs.js';
import type { GuestCpu } from './cpu.js';
import { KTEXT, USER } from './layout.js';
import type { Task } from './task.js';

/** What the user/kernel boundary switches (tlb-state.ts's TlbContext when it switches anything). */
export interface UserKernelBoundary {
  enterKernel(cpu: GuestCpu): void;
  exitToUser(cpu: GuestCpu): void;
}

export class SyscallEntry {
  constructor(
    private readonly c: Costs,
    /** The boundary's switches, or null when crossing it switches nothing the model sees. */
    private readonly boundary: UserKernelBoundary | null = null,
  ) {}

  /**
   * Back to user mode (the return from the last system call, interrupt or fault), if not
   * there. Not while a reschedule is pending: the way out calls schedule() first
   * (exit_to_user_mode_loop), and the task returns when it runs again. (The model runs a
   * step's user work after its call; the kernel page table maps user memory too, so that
   * work translates the same either side.)
   */
  toUser(cpu: GuestCpu): void {
    if (this.boundary === null || cpu.userMode || cpu.needResched) return;
    cpu.userMode = true;
    this.boundary.exitToUser(cpu);
  }

  /** An interrupt or a fault: from user mode, an entry into the kernel. */
  fromUser(cpu: GuestCpu): void {
    if (this.boundary === null || !cpu.userMode) return;
    cpu.userMode = false;
    this.boundary.enterKernel(cpu);
  }

  /** System call entry and exit; skipped when a task resumes a call it slept in. */
  enter(cpu: GuestCpu, t: Task): void {
    if (t.inSyscall) {
      t.inSyscall = false;
      return;
    }
    const b = this.boundary;
    if (b !== null) this.toUser(cpu);
    cpu.stat.syscalls++;
    cpu.work(this.c.syscallEntryExit);
    cpu.touch(KTEXT.entry);
    if (b !== null) {
      cpu.userMode = false;
      b.enterKernel(cpu);
    }
    cpu.touch(KTEXT.readWrite);
    cpu.touch(t.kstackVpn);
    cpu.touch(t.taskStructVpn);
  }

  /** User code between system calls: the loop, the libc wrapper, the stack, the buffer. */
  userWork(cpu: GuestCpu, t: Task, cycles: number): void {
    if (this.boundary !== null) this.toUser(cpu);
    cpu.work(cycles);
    cpu.touch(USER.text);
    cpu.touch(USER.libc);
    cpu.touch(t.stackVpn);
    cpu.touch(t.dataVpn);
  }
}
