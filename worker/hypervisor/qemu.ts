/**
 * `qemu`: full-system emulation by QEMU's dynamic translator (0.8/0.9, no kqemu).
 * Guest code runs `qemuSlowdown` times slower; memory accesses go through the softmmu
 * TLB (CPU_TLB_SIZE entries, direct mapped: the vCPU's TLB geometry in this mode), which
 * a cr3 write flushes entirely (tlb_flush); devices are emulated in-process, so port I/O
 * is a helper call, not an exit.
 */
import type { Costs } from '../../shared/costs.js';
import type { GuestMemory } from '../machine/memory.js';
import { walk } from '../machine/paging.js';
import { FROM_LAPIC_TIMER, FROM_TIMER, type Vcpu } from '../machine/vcpu.js';
import { guestPageFault, type MmuStrategy, type Platform } from './platform.js';
import { UnvirtualisedMmu } from './unvirtualised-mmu.js';

/** QEMU's softmmu: the translated code's TLB, filled by walking the guest's tables in C. */
export class SoftMmu extends UnvirtualisedMmu implements MmuStrategy {
  constructor(
    private readonly mem: GuestMemory,
    private readonly c: Costs,
    private readonly guestFactor: number,
  ) {
    super();
  }

  tlbMiss(v: Vcpu, vpn: number, write: boolean): void {
    const pte = walk(this.mem, v.cr3, vpn, write);
    if (pte === 0) guestPageFault(v, vpn);
    v.clock += this.c.qemuSoftTlbFill;
    // tlb_flush() ignores the global bit: every entry is filled as non-global.
    v.tlb.insert(vpn, false);
  }

  loadCr3(v: Vcpu, pdFrame: number): void {
    v.clock += this.c.movCr3 * this.guestFactor + this.c.qemuSoftTlbFlush;
    v.tlb.flushAll();
    v.cr3 = pdFrame;
  }

  /** cpu_x86_update_cr4: a change of PGE flushes the softmmu TLB (tlb_flush). */
  writeCr4(v: Vcpu): void {
    v.clock += this.c.movCr4 * this.guestFactor + this.c.qemuSoftTlbFlush;
    v.tlb.flushAll();
  }

  ptWrite(v: Vcpu): void {
    v.clock += this.c.ptWrite * this.guestFactor;
  }

  ptWriteCycles(): number {
    return this.c.ptWrite * this.guestFactor;
  }

  invlpg(v: Vcpu, vpn: number): void {
    v.clock += this.c.invlpg * this.guestFactor;
    v.tlb.invalidate(vpn);
  }
}

export class QemuPlatform implements Platform {
  readonly guestFactor: number;
  readonly mmu: SoftMmu;

  constructor(
    mem: GuestMemory,
    private readonly c: Costs,
  ) {
    this.guestFactor = c.qemuSlowdown;
    this.mmu = new SoftMmu(mem, c, this.guestFactor);
  }

  portIo(v: Vcpu): void {
    v.clock += this.c.qemuPortIo;
  }

  /**
   * A device's callback in QEMU's main loop (the PIT's two edges and pic_set_irq, or the
   * disk's completion), then cpu_interrupt: the translated code takes the vector at the
   * next block. The disk's completion wakes the main loop itself.
   */
  irqArrival(v: Vcpu, _wasHalted: boolean, from: number): void {
    v.clock += this.c.qemuTimerEvent + (from === FROM_TIMER || from === FROM_LAPIC_TIMER ? 0 : this.c.qemuAlarm);
  }

  /** host_alarm_handler's cpu_interrupt(CPU_INTERRUPT_EXIT) ends the translated block; main_loop_wait runs. */
  hostAlarm(v: Vcpu): void {
    v.clock += this.c.qemuAlarm;
  }

  ipiArrival(v: Vcpu): void {
    v.clock += this.c.qemuTimerEvent;
  }

  halt(v: Vcpu): void {
    v.halted = true;
  }

  /** The APIC is in QEMU's process: an access is a helper call from the translated code (apic_mem_writel). */
  apicEoi(v: Vcpu): void {
    v.clock += this.c.qemuPortIo;
  }

  /** ICR high and ICR low: two helper calls (apic_mem_writel; the low word delivers). */
  sendIpi(v: Vcpu): void {
    v.clock += 2 * this.c.qemuPortIo;
  }

  armTimer(): void {
    throw new Error('no x86-64 guest under the qemu mode');
  }

  readonly pvm = null;
}
