/**
 * KVM of today on VT-x (or SVM): the exit layer around the MMU strategy. What changed
 * since 2007 outside the MMU (arch/x86/kvm/ of Linux 5.x/6.x with QEMU's default
 * machine):
 *  - the local APIC, the PIC and the PIT are emulated in the kernel (KVM_CREATE_IRQCHIP,
 *    KVM_CREATE_PIT2): their ports exit to KVM and return without QEMU; other ports
 *    (the disk, the PM timer, port 0x80) still go to QEMU;
 *  - the guest's timer is KVM's: the local APIC timer in TSC-deadline mode, fired by the
 *    VMX preemption timer (a PREEMPTION_TIMER exit and the injection on the way back in),
 *    re-armed by a WRMSR that exits to its fast path (handle_fastpath_set_tscdeadline);
 *    its EOI is virtualised (APICv); there is no QEMU alarm kicking the vCPU;
 *  - HLT exits to KVM, which blocks the vCPU thread (kvm_vcpu_halt) without QEMU;
 *  - with VPID (AMD: ASID) exits and entries keep the TLB.
 */
import type { Costs } from '../../../shared/costs.js';
import { EXIT_REASON } from '../../../shared/exits.js';
import { PicPair } from '../../machine/devices/i8259.js';
import { PIT_CH0, PIT_MODE } from '../../machine/devices/pit.js';
import { FROM_LAPIC_TIMER, FROM_TIMER, type Vcpu } from '../../machine/vcpu.js';
import type { MmuStrategy, Platform, PvmOps } from '../platform.js';
import type { VmExits } from './vmexit.js';

const { EXTERNAL_INTERRUPT, HLT, IO_INSTRUCTION, MSR_WRITE, PREEMPTION_TIMER } = EXIT_REASON;

/** Ports KVM's in-kernel PIC pair and PIT answer (arch/x86/kvm/i8259.c, i8254.c). */
function inKernelPort(port: number): boolean {
  return PicPair.handlesPort(port) || (port >= PIT_CH0 && port <= PIT_MODE);
}

export class ModernKvmPlatform implements Platform {
  readonly guestFactor = 1;

  constructor(
    private readonly c: Costs,
    private readonly exits: VmExits,
    readonly mmu: MmuStrategy,
    readonly pvm: PvmOps | null,
  ) {}

  portIo(v: Vcpu, port: number, rw: number): void {
    this.exits.portExit(v, IO_INSTRUCTION, port, rw, this.c.ioInstructionHandler + (inKernelPort(port) ? 0 : this.c.userspaceExit));
  }

  /**
   * A timer's interrupt (the local APIC's, or the in-kernel PIT's) fires the VMX
   * preemption timer of a running guest, or wakes a halted vCPU's thread; a device of
   * QEMU's kicks a running vCPU out with an IPI to its thread. Either way the vector is
   * injected (posted) on the entry.
   */
  irqArrival(v: Vcpu, wasHalted: boolean, from: number): void {
    const c = this.c;
    if (!wasHalted) {
      this.exits.exit(v, from === FROM_TIMER || from === FROM_LAPIC_TIMER ? PREEMPTION_TIMER : EXTERNAL_INTERRUPT, c.interruptInjection);
      return;
    }
    // kvm_vcpu_block returns; the entry that injects the vector ends the HLT exit.
    v.clock += c.interruptInjection;
    this.exits.entryFlush(v);
    v.vmx.times.entry(v.clock);
  }

  /** No QEMU alarm in KVM of today (hostAlarmHz 0). */
  hostAlarm(): void {}

  /** A posted interrupt: no exit on a running receiver; a halted one is woken. */
  ipiArrival(v: Vcpu, wasHalted: boolean): void {
    if (!wasHalted) return;
    v.clock += this.c.interruptInjection;
    this.exits.entryFlush(v);
    v.vmx.times.entry(v.clock);
  }

  halt(v: Vcpu): void {
    const from = v.clock;
    this.exits.exit(v, HLT, this.c.hltHandler);
    // kvm_vcpu_halt returns at once with an interrupt pending.
    if (v.events.next() <= v.clock) return;
    v.vmx.times.hltFrom = from;
    v.halted = true;
  }

  /** APICv's EOI virtualisation: the WRMSR stays in the guest. */
  apicEoi(v: Vcpu): void {
    v.clock += this.c.wrmsr;
  }

  /** An x2APIC ICR write: a WRMSR that exits to its fast path (handle_fastpath_set_x2apic_icr_irqoff). */
  sendIpi(v: Vcpu): void {
    this.exits.exit(v, MSR_WRITE, this.c.msrWriteHandler);
  }

  /** The TSC-deadline WRMSR exits to its fast path. */
  armTimer(v: Vcpu): void {
    this.exits.exit(v, MSR_WRITE, this.c.msrWriteHandler);
  }
}
