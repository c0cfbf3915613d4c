/**
 * The guest's side of an address-space switch and of its local TLB flushes: switch_mm and
 * write_cr3 (include/asm-i386/mmu_context.h, processor.h) and __flush_tlb /
 * __flush_tlb_global (tlbflush.h). With the paravirt patch write_cr3 is kvm_write_cr3: it
 * looks its target up in para_state first; a hit loads the cached host_cr3 (no exit), a
 * miss loads the guest cr3 (an exit, after which the host fills the cache). Which of the
 * two a guest runs is decided once, when its kernel is built.
 */
import type { Costs } from '../../../shared/costs.js';
import type { GuestCpu } from '../cpu.js';
import type { Mm } from '../task.js';

/** What the scheduler and the memory manager ask of the architecture's TLB code: the 2.6.20 i386 one here, an x86-64 guest's in tlb-state.ts. */
export interface MmSwitch {
  /** switch_mm: the next task's address space is loaded. */
  switchMm(cpu: GuestCpu, next: Mm): void;
  /** The local flush of the loaded address space's translations (exit_mmap's). */
  flushTlbLocal(cpu: GuestCpu): void;
  /** The global flush, kernel entries included. */
  flushTlbGlobal(cpu: GuestCpu): void;
}

export class MmuContext implements MmSwitch {
  constructor(
    private readonly c: Costs,
    /** The paravirt patch's guest side. */
    private readonly paravirt: boolean,
  ) {}

  /**
   * write_cr3 as this guest has it: the plain mov, or the patch's kvm_write_cr3 (a method
   * with a branch, not a closure made per VM: a closure of the VM before, inlined where
   * this is called, would be the wrong one for the next VM of the thread).
   */
  writeCr3(cpu: GuestCpu, pdFrame: number): void {
    if (this.paravirt) this.kvmWriteCr3(cpu, pdFrame);
    else cpu.mmu.loadCr3(cpu.vcpu, pdFrame, 0, false);
  }

  /** kvm_write_cr3 (the patch): a cached guest cr3 loads its host_cr3, a CR3-target value that does not exit. */
  private kvmWriteCr3(cpu: GuestCpu, pdFrame: number): void {
    cpu.work(this.c.pvCr3Lookup);
    const idx = cpu.para!.lookup(pdFrame);
    if (idx >= 0) cpu.mmu.loadCachedCr3(cpu.vcpu, idx, pdFrame);
    else cpu.mmu.loadCr3(cpu.vcpu, pdFrame, 0, false);
  }

  /** switch_mm: the next task's address space is loaded (its page directory's cr3). */
  switchMm(cpu: GuestCpu, next: Mm): void {
    cpu.work(this.c.switchMm);
    cpu.stat.addressSpaceSwitches++;
    this.writeCr3(cpu, next.pdFrame);
    cpu.activeMm = next;
  }

  /**
   * __flush_tlb_global(), the native sequence of include/asm-i386/tlbflush.h: read cr4,
   * write it with PGE off (the whole TLB goes, global entries included), reload cr3 with a
   * raw mov (read, write: not write_cr3, so no cr3-cache lookup), write cr4 with PGE on
   * (another full flush). The paravirt patch does not change it.
   */
  flushTlbGlobal(cpu: GuestCpu): void {
    const v = cpu.vcpu;
    const mmu = cpu.mmu;
    mmu.writeCr4(v);
    mmu.readCr3(v);
    mmu.loadCr3(v, v.cr3, 0, false);
    mmu.writeCr4(v);
  }

  /** __flush_tlb(): reload cr3. Unpatched it reads cr3 first; the patch uses the value it knows. */
  flushTlbLocal(cpu: GuestCpu): void {
    if (!this.paravirt) cpu.mmu.readCr3(cpu.vcpu);
    this.writeCr3(cpu, cpu.vcpu.cr3);
  }
}
