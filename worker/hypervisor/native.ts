/**
 * `native`: the guest kernel on bare hardware. A TLB miss is a hardware walk of the
 * guest's own tables; mov to cr3 drops non-global entries; port I/O goes to the real
 * ISA devices; HLT idles the CPU.
 */
import type { Costs } from '../../shared/costs.js';
import type { GuestMemory } from '../machine/memory.js';
import { PTE_G, walk } from '../machine/paging.js';
import type { Vcpu } from '../machine/vcpu.js';
import { guestPageFault, type Platform } from './platform.js';

export class NativePlatform implements Platform {
  readonly guestFactor = 1;

  constructor(
    private readonly mem: GuestMemory,
    private readonly c: Costs,
  ) {}

  tlbMiss(v: Vcpu, vpn: number, write: boolean): void {
    const pte = walk(this.mem, v.cr3, vpn, write);
    if (pte === 0) guestPageFault(v, vpn);
    v.clock += this.c.tlbWalk;
    v.tlb.insert(vpn, (pte & PTE_G) !== 0);
  }

  loadCr3(v: Vcpu, pdFrame: number): void {
    v.clock += this.c.movCr3;
    v.tlb.flushNonGlobal();
    v.cr3 = pdFrame;
  }

  loadCachedCr3(): void {
    throw new Error('no cr3 cache without the paravirt patch');
  }

  /** A mov from cr3 costs a few cycles natively: not charged. */
  readCr3(): void {}

  ptWrite(v: Vcpu): void {
    v.clock += this.c.ptWrite;
  }

  invlpg(v: Vcpu, vpn: number): void {
    v.clock += this.c.invlpg;
    v.tlb.invalidate(vpn);
  }

  portIo(v: Vcpu): void {
    v.clock += this.c.portIoNative;
  }

  /** The interrupt itself costs the guest's entry path only (charged by the kernel). */
  irqArrival(): void {}

  ipiArrival(): void {}

  halt(v: Vcpu): void {
    v.halted = true;
  }

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
}
