/**
 * One virtual CPU: its clock, TLB, VMX state, paravirt para_state page, the cr3 and
 * shadow root it runs on, its run queue and its counters. A vCPU is a discrete-event
 * simulation of its own: `clock` advances by the cost of every guest operation, TLB
 * miss, exit and halt.
 */
import { Tlb } from './tlb.js';
import { Vmx } from './vmx.js';
import { ParaState } from './mmu/cr3cache.js';
import { RunQueue } from './guest/sched.js';
import type { Task, Mm } from './guest/task.js';
import type { PtWriteDetector, ShadowMmu } from './mmu/shadow.js';

export class Vcpu implements PtWriteDetector {
  readonly id: number;
  /** Simulated time in cycles. */
  clock = 0;
  /** Cycles spent halted (HLT, the host CPU idle). */
  haltedCycles = 0;
  /** In HLT, waiting for an interrupt. */
  halted = false;
  /** A cross-vCPU wake-up (IPI) arriving at this cycle, or Infinity. */
  ipiAt = Infinity;
  /** A device interrupt (disk completion) due at this cycle, or Infinity (vCPU 0 only: the PIC's CPU). */
  deviceIrqAt = Infinity;
  /** Next timer interrupt (PIT on vCPU 0, local APIC timer on the others). */
  nextTick = 0;

  readonly tlb: Tlb;
  readonly vmx: Vmx;
  /** The para_state page (kvm-paravirt only). */
  readonly para: ParaState | null;
  /** Guest cr3 loaded: the page directory frame, -1 before the first load. */
  cr3 = -1;
  /** This vCPU's shard of the VM's shadow MMU (shadow paging modes), null otherwise. */
  mmu: ShadowMmu | null = null;
  /** Shadow root the hardware walks (shadow paging modes), -1 if none. */
  shadowRoot = -1;
  /** KVM's fork detector (vcpu->last_pt_write_gfn / _count). */
  lastPtWriteGfn = -1;
  lastPtWriteCount = 0;

  // --- guest scheduler -----------------------------------------------------------
  readonly rq = new RunQueue();
  current!: Task;
  idleTask!: Task;
  /** The mm whose page tables are loaded (active_mm; the idle task borrows it). */
  activeMm: Mm | null = null;
  /** TIF_NEED_RESCHED of the current task. */
  needResched = false;

  // --- counters ------------------------------------------------------------------
  contextSwitches = 0;
  addressSpaceSwitches = 0;
  syscalls = 0;
  messages = 0;
  ioDelayWrites = 0;
  timerTicks = 0;
  /** Tasks the load balancer moved here. */
  migrations = 0;

  /** Start the measured run: boot's cycles and counts are dropped; TLB and cache contents stay warm. */
  resetCounters(): void {
    this.clock = 0;
    this.haltedCycles = 0;
    this.vmx.exitCount.fill(0);
    this.vmx.exitCycles.fill(0);
    this.tlb.misses = this.tlb.flushesFull = this.tlb.flushesNonGlobal = 0;
    const p = this.para;
    if (p) p.lookups = p.hits = p.misses = p.fills = p.evictions = 0;
    this.contextSwitches = this.addressSpaceSwitches = this.syscalls = this.messages = 0;
    this.ioDelayWrites = this.timerTicks = this.migrations = 0;
  }

  constructor(id: number, tlbEntries: number, tlbWays: number, cr3CacheSize: number | null) {
    this.id = id;
    this.tlb = new Tlb(tlbEntries, tlbWays);
    this.para = cr3CacheSize === null ? null : new ParaState(cr3CacheSize);
    this.vmx = new Vmx(cr3CacheSize ?? 0);
  }
}
