import type { Costs } from '../../shared/costs.js';
import type { Vcpu } from '../machine/vcpu.js';

/**
 * What the MMUs of `native`, `qemu` and EPT share: they walk the guest's own page tables
 * (the hardware's walk, QEMU's softmmu, or the hardware's two-dimensional walk), so there
 * are no shadow tables to protect, audit or keep coherent, no cr3 cache and no para_state.
 */
export abstract class UnvirtualisedMmu {
  loadCachedCr3(): void {
    throw new Error('no cr3 cache without the paravirt patch');
  }

  /** A mov from cr3 costs a few cycles natively (and QEMU translates it inline): not charged. */
  readCr3(): void {}

  /** No shadow paging: nothing is write-protected, nothing can be stale. */
  isWriteProtected(): boolean {
    return false;
  }

  pgdFree(): void {}

  staleTranslations(): number {
    return 0;
  }

  registerParaState(): void {
    throw new Error('no para_state without the paravirt patch');
  }

  attachSmp(): void {}

  /** The CPU raises #PF in the guest: nothing outside the guest's own handler. */
  guestFault(): void {}
}

/**
 * A mov to cr3 that the CPU does itself (natively, or a guest's under EPT, which does not
 * exit): with PCID, the PCID becomes current and, unless bit 63 says not to, its TLB entries
 * and paging-structure entries go (SDM vol. 3, 4.10.4.1).
 */
export function movToCr3(v: Vcpu, c: Costs, pdFrame: number, pcid: number, noflush: boolean): void {
  v.clock += noflush ? c.movCr3NoFlush : c.movCr3;
  v.tlb.pcid = pcid;
  if (!noflush) {
    v.tlb.flushPcid(pcid);
    v.walker!.flushPcid(pcid);
  }
  v.cr3 = pdFrame;
}
