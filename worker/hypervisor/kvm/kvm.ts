/**
 * KVM on VT-x as of early 2007, without EPT or VPID: the VMX exit layer. What exits
 * and what each exit costs outside the MMU is here: port I/O goes to devices emulated in
 * user space (QEMU: the PIC, the PIT and the disk in 2007), which adds a return to user
 * space per access; interrupts from those devices kick a running guest out and are
 * injected on the next entry; HLT exits. Everything about paging is the MMU strategy's
 * (mmu.ts): shadow paging today (shadow/), recording its exits through the same VmExits.
 */
import type { Costs } from '../../../shared/costs.js';
import { EXIT_REASON } from '../../../shared/exits.js';
import type { Vcpu } from '../../machine/vcpu.js';
import type { RecordBus } from '../../smp/bus.js';
import type { ParaState } from '../kvm-para.js';
import type { Platform } from '../platform.js';
import type { MmuStrategy } from './mmu.js';
import type { VmExits } from './vmexit.js';

const { EXTERNAL_INTERRUPT, HLT, IO_INSTRUCTION } = EXIT_REASON;

export class KvmPlatform implements Platform {
  readonly guestFactor = 1;

  constructor(
    private readonly c: Costs,
    private readonly exits: VmExits,
    private readonly mmu: MmuStrategy,
  ) {}

  // --- paging: the MMU strategy's ----------------------------------------------------

  tlbMiss(v: Vcpu, vpn: number, write: boolean): void {
    this.mmu.tlbMiss(v, vpn, write);
  }

  loadCr3(v: Vcpu, pdFrame: number): void {
    this.mmu.loadCr3(v, pdFrame);
  }

  loadCachedCr3(v: Vcpu, idx: number, pdFrame: number): void {
    this.mmu.loadCachedCr3(v, idx, pdFrame);
  }

  readCr3(v: Vcpu): void {
    this.mmu.readCr3(v);
  }

  ptWrite(v: Vcpu, frame: number, index: number): void {
    this.mmu.ptWrite(v, frame, index);
  }

  isWriteProtected(v: Vcpu, frame: number): boolean {
    return this.mmu.isWriteProtected(v, frame);
  }

  invlpg(v: Vcpu, vpn: number): void {
    this.mmu.invlpg(v, vpn);
  }

  pgdFree(v: Vcpu, pdFrame: number): void {
    this.mmu.pgdFree(v, pdFrame);
  }

  staleTranslations(v: Vcpu): number {
    return this.mmu.staleTranslations(v);
  }

  registerParaState(v: Vcpu, para: ParaState): void {
    this.mmu.registerParaState(v, para);
  }

  attachSmp(bus: RecordBus): void {
    this.mmu.attachSmp(bus);
  }

  // --- the rest of the exits -----------------------------------------------------------

  portIo(v: Vcpu): void {
    this.exits.exit(v, IO_INSTRUCTION, this.c.ioInstructionHandler + this.c.userspaceExit);
  }

  /**
   * A device emulated by QEMU raises its line (the PIT's timer, the disk's completion) in
   * user space: a running guest is kicked out (the host interrupt is an EXTERNAL_INTERRUPT
   * exit) and QEMU sets the IRQ on its PIC; a halted one is already out. Either way the
   * interrupt is injected on the next entry.
   */
  irqArrival(v: Vcpu, wasHalted: boolean): void {
    if (!wasHalted) this.exits.exit(v, EXTERNAL_INTERRUPT, this.c.userspaceExit);
    else {
      v.clock += this.c.userspaceExit;
      v.tlb.flushAll();
    }
    v.clock += this.c.interruptInjection;
  }

  /** A reschedule IPI from another vCPU (hypothetical in 2007: KVM ran no SMP guests yet). */
  ipiArrival(v: Vcpu, wasHalted: boolean): void {
    if (!wasHalted) this.exits.exit(v, EXTERNAL_INTERRUPT, 0);
    else v.tlb.flushAll();
    v.clock += this.c.interruptInjection;
  }

  halt(v: Vcpu): void {
    this.exits.exit(v, HLT, this.c.hltHandler + this.c.userspaceExit);
    v.halted = true;
  }
}
