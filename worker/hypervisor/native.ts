/**
 * `native`: the guest kernel on bare hardware. A TLB miss is a hardware walk of the
 * guest's own tables; mov to cr3 drops non-global entries; port I/O goes to the real
 * ISA devices; HLT idles the CPU.
 */
import type { Costs } from '../../shared/costs.js';
import type { GuestMemory } from '../machine/memory.js';
import { PTE_G, walk, walk4 } from '../machine/paging.js';
import type { Vcpu } from '../machine/vcpu.js';
import { guestPageFault, type MmuStrategy, type Platform } from './platform.js';
import { UnvirtualisedMmu, movToCr3 } from './unvirtualised-mmu.js';

/** The hardware MMU walking the guest's own tables. */
export class NativeMmu extends UnvirtualisedMmu implements MmuStrategy {
  constructor(
    private readonly mem: GuestMemory,
    private readonly c: Costs,
  ) {
    super();
  }

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

  writeCr4(v: Vcpu): void {
    v.clock += this.c.movCr4;
    v.tlb.flushAll();
  }

  ptWrite(v: Vcpu): void {
    v.clock += this.c.ptWrite;
  }

  ptWriteCycles(): number {
    return this.c.ptWrite;
  }

  invlpg(v: Vcpu, vpn: number): void {
    v.clock += this.c.invlpg;
    v.tlb.invalidate(vpn);
  }
}

/**
 * The MMU of a CPU of today walking an x86-64 guest's four levels: PCID-tagged TLB
 * entries (a mov to cr3 flushes the loaded PCID's non-global entries unless bit 63 is
 * set) and a walker whose paging-structure caches shorten the walk (machine/walker.ts).
 */
export class NativeMmu64 extends UnvirtualisedMmu implements MmuStrategy {
  private readonly none = new Int32Array(5);

  constructor(
    private readonly mem: GuestMemory,
    private readonly c: Costs,
  ) {
    super();
  }

  tlbMiss(v: Vcpu, vpn: number, write: boolean): void {
    const pte = walk4(this.mem, v.cr3, vpn, write);
    if (pte === 0) guestPageFault(v, vpn);
    const refs = v.walker!.refs(vpn, v.tlb.pcid, this.none, 0);
    v.clock += this.c.tlbWalk + (refs - 1) * this.c.walkRef;
    v.tlb.insert(vpn, (pte & PTE_G) !== 0);
  }

  loadCr3(v: Vcpu, pdFrame: number, pcid: number, noflush: boolean): void {
    movToCr3(v, this.c, pdFrame, pcid, noflush);
  }

  writeCr4(v: Vcpu): void {
    v.clock += this.c.movCr4;
    v.tlb.flushAll();
    v.walker!.flushGuest();
  }

  ptWrite(v: Vcpu): void {
    v.clock += this.c.ptWrite;
  }

  ptWriteCycles(): number {
    return this.c.ptWrite;
  }

  invlpg(v: Vcpu, vpn: number): void {
    v.clock += this.c.invlpg;
    v.tlb.invalidate(vpn);
    v.walker!.flushPcid(v.tlb.pcid);
  }
}

export class NativePlatform implements Platform {
  readonly guestFactor = 1;

  constructor(
    private readonly c: Costs,
    readonly mmu: MmuStrategy,
  ) {}

  portIo(v: Vcpu): void {
    v.clock += this.c.portIoNative;
  }

  /** The interrupt itself costs the guest's entry path only (charged by the kernel). */
  irqArrival(): void {}

  /** No QEMU. */
  hostAlarm(): void {}

  ipiArrival(): void {}

  halt(v: Vcpu): void {
    v.halted = true;
  }

  apicEoi(v: Vcpu): void {
    v.clock += this.c.wrmsr;
  }

  /** ICR high, then ICR low (send_IPI_mask_flat: apic_write_around of each). */
  sendIpi(v: Vcpu): void {
    v.clock += 2 * this.c.wrmsr;
  }

  armTimer(v: Vcpu): void {
    v.clock += this.c.wrmsr;
  }

  readonly pvm = null;
}
