/**
 * The system-call path (arch/i386/kernel/entry.S: sysenter, the syscall table, the way
 * back) and the user code between calls: what every system call and every piece of a
 * workload's own work costs and touches.
 */
import type { Costs } from '../../shared/costs.js';
import type { GuestCpu } from './cpu.js';
import { KTEXT, USER } from './layout.js';
import type { Task } from './task.js';

export class SyscallEntry {
  constructor(private readonly c: Costs) {}

  /** System call entry and exit; skipped when a task resumes a call it slept in. */
  enter(cpu: GuestCpu, t: Task): void {
    if (t.inSyscall) {
      t.inSyscall = false;
      return;
    }
    cpu.stat.syscalls++;
    cpu.work(this.c.syscallEntryExit);
    cpu.touch(KTEXT.entry);
    cpu.touch(KTEXT.readWrite);
    cpu.touch(t.kstackVpn);
    cpu.touch(t.taskStructVpn);
  }

  /** User code between system calls: the loop, the libc wrapper, the stack, the buffer. */
  userWork(cpu: GuestCpu, t: Task, cycles: number): void {
    cpu.work(cycles);
    cpu.touch(USER.text);
    cpu.touch(USER.libc);
    cpu.touch(t.stackVpn);
    cpu.touch(t.dataVpn);
  }
}
