/**
 * The guest's per-CPU state (Linux's per_cpu data and struct rq): the run queue, the
 * task running (current), the idle task, the address space loaded (active_mm, which the
 * idle task borrows), TIF_NEED_RESCHED, the para_state page of the paravirt patch, the
 * tasks sleeping on this CPU's timers; and the guest's counters for this CPU. A guest
 * CPU runs on one vCPU (`vcpu`): every guest operation charges its native cycles there
 * (times QEMU's slowdown under qemu) and touches the pages it uses through its TLB.
 */
import type { GuestStats, MmuStats } from '../../shared/stats.js';
import type { LocalApic } from '../machine/lapic.js';
import type { Tlb } from '../machine/tlb.js';
import type { Vcpu } from '../machine/vcpu.js';
import type { ParaState } from '../hypervisor/kvm-para.js';
import type { MmuStrategy, Platform } from '../hypervisor/platform.js';
import type { CpuPortIo } from './io.js';
import { WaitQueue } from './ipc/wait.js';
import { RunQueue } from './sched/runqueue.js';
import type { Mm, Task } from './task.js';

export class GuestCpu {
  readonly id: number;
  readonly rq = new RunQueue();
  current!: Task;
  idle!: Task;
  /** The mm whose page tables are loaded (active_mm; the idle task borrows it). */
  activeMm: Mm | null = null;
  /** TIF_NEED_RESCHED of the current task. */
  needResched = false;
  /** In user mode (followed only where crossing into the kernel switches something: entry.ts). */
  userMode = false;
  /** Kernel page of this CPU's run queue. */
  rqVpn = 0;
  /** Tasks sleeping on a kernel timer of this CPU, and the queue they sleep on. */
  readonly timers: Task[] = [];
  readonly timerWait = new WaitQueue<Task>();
  private readonly factor: number;
  /** The vCPU's TLB (touch's fast path). */
  private readonly tlb: Tlb;
  /** The MMU the guest's paging meets (the platform's). */
  readonly mmu: MmuStrategy;

  constructor(
    /** The vCPU this CPU is. */
    readonly vcpu: Vcpu,
    /** Its local APIC, for IPIs and its timer. */
    readonly lapic: LocalApic,
    readonly platform: Platform,
    readonly io: CpuPortIo,
    /** The paravirt patch's para_state page (null without it). */
    readonly para: ParaState | null,
    readonly stat: GuestStats,
    /** The translation checker's counts (checks, most stale translations found). */
    readonly audit: MmuStats,
  ) {
    this.id = vcpu.id;
    this.factor = platform.guestFactor;
    this.tlb = vcpu.tlb;
    this.mmu = platform.mmu;
  }

  /** Guest work of `cycles` native cycles. */
  work(cycles: number): void {
    this.vcpu.clock += cycles * this.factor;
  }

  /** A memory access to virtual page `vpn`. */
  touch(vpn: number): void {
    if (!this.tlb.lookup(vpn)) this.mmu.tlbMiss(this.vcpu, vpn, false);
  }
}
