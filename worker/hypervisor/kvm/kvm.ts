/**
 * KVM on VT-x as of early 2007, without EPT or VPID: the VMX exit layer. What exits
 * and what each exit costs outside the MMU is here: port I/O goes to devices emulated in
 * user space (QEMU: the PIC, the PIT and the disk in 2007), which adds a return to user
 * space per access; interrupts from those devices kick a running guest out and are
 * injected on the next entry; HLT exits. Everything about paging is the MMU strategy's
 * (platform.ts's MmuStrategy): shadow paging (shadow/), recording its exits through the
 * same VmExits.
 */
import type { Costs } from '../../../shared/costs.js';
import { EXIT_REASON } from '../../../shared/exits.js';
import { FROM_LAPIC_TIMER, FROM_TIMER, type Vcpu } from '../../machine/vcpu.js';
import type { MmuStrategy, Platform } from '../platform.js';
import type { VmExits } from './vmexit.js';

const { EXCEPTION_NMI, EXTERNAL_INTERRUPT, HLT, IO_INSTRUCTION } = EXIT_REASON;

export class KvmPlatform implements Platform {
  readonly guestFactor = 1;

  constructor(
    private readonly c: Costs,
    private readonly exits: VmExits,
    /** The MMU strategy: everything about guest paging. */
    readonly mmu: MmuStrategy,
  ) {}

  // --- the rest of the exits -----------------------------------------------------------

  portIo(v: Vcpu, port: number, rw: number): void {
    this.exits.portExit(v, IO_INSTRUCTION, port, rw, this.c.ioInstructionHandler + this.c.userspaceExit);
  }

  /**
   * A device emulated by QEMU raises its line (the PIT's tick, the disk's completion). The
   * host side of kvm-12 (QEMU 0.8.2 + kvm.ko of 2.6.20): the PIT's edge is seen in the
   * host alarm's main-loop pass (hostAlarm), which has already taken a running guest out;
   * the disk's completion signal kicks a running guest out itself (an EXTERNAL_INTERRUPT
   * exit; KVM_RUN returns -EINTR to QEMU) or wakes QEMU's select() when the vCPU sits in
   * HLT, and costs its own main-loop pass. The device's callback (the PIT's edges,
   * pic_set_irq, cpu_interrupt: `qemuTimerEvent`, the same code as in the qemu mode), then
   * KVM_INTERRUPT and KVM_RUN inject the vector on entry. The paravirt patch changes none
   * of this.
   */
  irqArrival(v: Vcpu, wasHalted: boolean, from: number): void {
    const c = this.c;
    // The PIT's edge and QEMU's APIC timer are both QEMU timers, raised in the alarm's main-loop pass.
    const timer = from === FROM_TIMER || from === FROM_LAPIC_TIMER;
    if (timer) {
      // Raised in the alarm's main-loop pass (hostAlarm), which took the vCPU out already.
      v.clock += c.qemuTimerEvent;
      if (wasHalted) {
        // QEMU leaves select() for KVM_INTERRUPT and KVM_RUN: the entry flushes the TLB.
        v.clock += c.userspaceExit;
        v.tlb.flushAll();
      }
    } else if (!wasHalted) {
      this.exits.exit(v, EXTERNAL_INTERRUPT, c.userspaceExit + c.qemuAlarm + c.qemuTimerEvent);
      v.vmx.times.signalExits++;
    } else {
      v.clock += c.userspaceExit + c.qemuAlarm + c.qemuTimerEvent;
      v.tlb.flushAll();
    }
    v.clock += c.interruptInjection;
    // The entry that injects the vector ends an HLT exit (perf's HLT time runs to it).
    if (wasHalted) v.vmx.times.entry(v.clock);
  }

  /**
   * QEMU's host alarm: a running guest is kicked out (the rtc interrupt's EXTERNAL_INTERRUPT
   * exit, KVM_RUN returning -EINTR, QEMU's main loop, KVM_RUN again); with the vCPU in HLT
   * QEMU is in select() already and only the main-loop pass costs.
   */
  hostAlarm(v: Vcpu, wasHalted: boolean): void {
    const c = this.c;
    if (wasHalted) v.clock += c.qemuAlarm;
    else {
      this.exits.exit(v, EXTERNAL_INTERRUPT, c.userspaceExit + c.qemuAlarm);
      v.vmx.times.signalExits++;
    }
  }

  /** A reschedule IPI from another vCPU (hypothetical in 2007: KVM ran no SMP guests yet). */
  ipiArrival(v: Vcpu, wasHalted: boolean): void {
    if (!wasHalted) this.exits.exit(v, EXTERNAL_INTERRUPT, 0);
    else v.tlb.flushAll();
    v.clock += this.c.interruptInjection;
    if (wasHalted) v.vmx.times.entry(v.clock);
  }

  /**
   * The idle loop's safe_halt (sti; hlt) exits to handle_halt, which skips the instruction
   * and resumes the guest at once if an interrupt is already pending (irq_summary), else
   * returns KVM_EXIT_HLT to QEMU, which waits for one.
   */
  halt(v: Vcpu): void {
    const from = v.clock;
    if (v.events.next() <= v.clock) {
      this.exits.exit(v, HLT, this.c.hltHandler);
      return;
    }
    this.exits.exit(v, HLT, this.c.hltHandler + this.c.userspaceExit);
    v.vmx.times.hltFrom = from;
    v.halted = true;
  }

  /**
   * A write to the local APIC: QEMU emulates it (no in-kernel APIC until 2.6.24), so the
   * store is a #PF exit on the I/O pte, its emulation and a return to QEMU (apic_mem_writel).
   */
  apicEoi(v: Vcpu): void {
    this.exits.exit(v, EXCEPTION_NMI, this.c.mmioEmulate + this.c.userspaceExit);
  }

  /** ICR high, then ICR low (QEMU's apic_deliver on the low word): two such exits. */
  sendIpi(v: Vcpu): void {
    this.apicEoi(v);
    this.apicEoi(v);
  }

  armTimer(): void {
    throw new Error('no x86-64 guest under the 2007 KVM modes');
  }

  readonly pvm = null;
}
