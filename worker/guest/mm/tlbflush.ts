/**
 * cr3 writes and local TLB flushes (include/asm-i386/processor.h write_cr3 and
 * tlbflush.h __flush_tlb). With the paravirt patch, write_cr3 is kvm_write_cr3: it looks
 * its target up in para_state first; a hit loads the cached host_cr3 (no exit), a miss
 * loads the guest cr3 (an exit, after which the host fills the cache).
 */
import type { Costs } from '../../../shared/costs.js';
import type { GuestCpu } from '../cpu.js';

export class CrOps {
  constructor(
    private readonly c: Costs,
    /** The paravirt patch's guest side. */
    private readonly paravirt: boolean,
  ) {}

  /** write_cr3 (kvm_write_cr3 with the patch). */
  writeCr3(cpu: GuestCpu, pdFrame: number): void {
    const para = cpu.para;
    const v = cpu.vcpu;
    if (this.paravirt && para !== null) {
      cpu.work(this.c.pvCr3Lookup);
      const idx = para.lookup(pdFrame);
      if (idx >= 0) {
        cpu.platform.loadCachedCr3(v, idx, pdFrame);
        return;
      }
    }
    cpu.platform.loadCr3(v, pdFrame);
  }

  /**
   * __flush_tlb_global(), the native sequence of include/asm-i386/tlbflush.h: read cr4,
   * write it with PGE off (the whole TLB goes, global entries included), reload cr3 with a
   * raw mov (read, write: not write_cr3, so no cr3-cache lookup), write cr4 with PGE on
   * (another full flush). The paravirt patch does not change it.
   */
  flushTlbGlobal(cpu: GuestCpu): void {
    const v = cpu.vcpu;
    const p = cpu.platform;
    p.writeCr4(v);
    p.readCr3(v);
    p.loadCr3(v, v.cr3);
    p.writeCr4(v);
  }

  /** __flush_tlb(): reload cr3. Unpatched it reads cr3 first; the patch uses the value it knows. */
  flushTlbLocal(cpu: GuestCpu): void {
    if (!this.paravirt) cpu.platform.readCr3(cpu.vcpu);
    this.writeCr3(cpu, cpu.vcpu.cr3);
  }
}
