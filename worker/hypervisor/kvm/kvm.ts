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
import type { Platform } from '../platform.js';
import type { MmuStrategy } from './mmu.js';
import type { VmExits } from './vmexit.js';

const { EXTERNAL_INTERRUPT, HLT, IO_INSTRUCTION } = EXIT_REASON;

export class KvmPlatform implements Platform {
  readonly guestFactor = 1;

  // --- paging: the MMU strategy's methods, bound (no forwarding call on the hot path) ---

  readonly tlbMiss: Platform['tlbMiss'];
  readonly loadCr3: Platform['loadCr3'];
  readonly loadCachedCr3: Platform['loadCachedCr3'];
  readonly readCr3: Platform['readCr3'];
  readonly ptWrite: Platform['ptWrite'];
  readonly isWriteProtected: Platform['isWriteProtected'];
  readonly invlpg: Platform['invlpg'];
  readonly pgdFree: Platform['pgdFree'];
  readonly staleTranslations: Platform['staleTranslations'];
  readonly registerParaState: Platform['registerParaState'];
  readonly attachSmp: Platform['attachSmp'];

  constructor(
    private readonly c: Costs,
    private readonly exits: VmExits,
    mmu: MmuStrategy,
  ) {
    this.tlbMiss = mmu.tlbMiss.bind(mmu);
    this.loadCr3 = mmu.loadCr3.bind(mmu);
    this.loadCachedCr3 = mmu.loadCachedCr3.bind(mmu);
    this.readCr3 = mmu.readCr3.bind(mmu);
    this.ptWrite = mmu.ptWrite.bind(mmu);
    this.isWriteProtected = mmu.isWriteProtected.bind(mmu);
    this.invlpg = mmu.invlpg.bind(mmu);
    this.pgdFree = mmu.pgdFree.bind(mmu);
    this.staleTranslations = mmu.staleTranslations.bind(mmu);
    this.registerParaState = mmu.registerParaState.bind(mmu);
    this.attachSmp = mmu.attachSmp.bind(mmu);
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
