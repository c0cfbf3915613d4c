/**
 * Two-dimensional paging (Intel EPT, AMD NPT) as KVM uses it since 2008 (arch/x86/kvm/mmu/
 * tdp_mmu.c today): the guest owns its page tables and its cr3.
 *  - no exit on a guest mov to cr3, invlpg or page-table store (vmx.c vmx_exec_control
 *    clears CR3-load/store and INVLPG exiting with EPT); the CPU applies the guest's own
 *    TLB rules to its cr3 loads (PCID, the no-flush bit);
 *  - a TLB miss walks the guest's tables and, for every guest-physical address on the
 *    way, the host's (machine/walker.ts counts the references and applies the caches);
 *  - the first touch of a guest frame the host has not mapped yet is an EPT violation
 *    (exit reason 48): handle_ept_violation -> kvm_tdp_mmu_map, with the host's page
 *    faulted in (`hostPageAlloc`). The host maps 4 KiB pages (no transparent huge pages
 *    behind the guest: docs/modern.md).
 */
import type { Costs } from '../../../../shared/costs.js';
import { EXIT_REASON } from '../../../../shared/exits.js';
import type { GuestMemory } from '../../../machine/memory.js';
import { PAGE_SHIFT, PTE_G, pdIndex, walk, walk4, x64Index } from '../../../machine/paging.js';
import type { Vcpu } from '../../../machine/vcpu.js';
import { guestPageFault, type MmuStrategy } from '../../platform.js';
import { UnvirtualisedMmu, movToCr3 } from '../../unvirtualised-mmu.js';
import { FLUSH_ALL, type VmExits } from '../vmexit.js';

const { CR_ACCESS, EPT_VIOLATION } = EXIT_REASON;

export class TdpMmu extends UnvirtualisedMmu implements MmuStrategy {
  /** Guest frames the EPT maps (the host has faulted them in). */
  private readonly mapped: Uint8Array;
  /** The guest table frames of the walk under way, by level (1: the PT). */
  private readonly tables = new Int32Array(5);
  private readonly levels: number;

  constructor(
    private readonly mem: GuestMemory,
    private readonly c: Costs,
    private readonly exits: VmExits,
    arch: 'i386' | 'x86-64',
    frames: number,
  ) {
    super();
    this.levels = arch === 'x86-64' ? 4 : 2;
    this.mapped = new Uint8Array(frames);
  }

  tlbMiss(v: Vcpu, vpn: number, write: boolean): void {
    // The x86-64 walk notes the tables it reads on the way; after a fault (the guest's handler maps the page) or on i386 they are read again.
    const pte = this.levels === 4 ? walk4(this.mem, v.cr3, vpn, write, this.tables) : walk(this.mem, v.cr3, vpn, write);
    if (pte === 0) guestPageFault(v, vpn);
    if (pte === 0 || this.levels === 2) this.tableFrames(v.cr3, vpn);
    const frame = pte >>> PAGE_SHIFT;
    // Each guest-physical page the walk reaches for the first time: an EPT violation.
    for (let l = this.levels; l >= 1; l--) this.touchGfn(v, this.tables[l]!);
    this.touchGfn(v, frame);
    const refs = v.walker!.refs(vpn, v.tlb.pcid, this.tables, frame);
    v.clock += this.c.tlbWalk + (refs - 1) * this.c.walkRef;
    v.tlb.insert(vpn, (pte & PTE_G) !== 0);
  }

  /** The frames of the guest's tables on the way to `vpn` (after a successful walk, all present). */
  private tableFrames(root: number, vpn: number): void {
    const t = this.tables;
    t[this.levels] = root;
    for (let l = this.levels; l > 1; l--) {
      const i = this.levels === 4 ? x64Index(vpn, l) : pdIndex(vpn);
      t[l - 1] = this.mem.readEntry(t[l]!, i) >>> PAGE_SHIFT;
    }
  }

  /** An EPT violation if the host has not mapped `gfn` yet. */
  private touchGfn(v: Vcpu, gfn: number): void {
    if (this.mapped[gfn] === 1) return;
    this.mapped[gfn] = 1;
    this.exits.exit(v, EPT_VIOLATION, this.c.eptViolationHandler + this.c.hostPageAlloc);
  }

  /** The CPU loads the guest's cr3 itself. */
  loadCr3(v: Vcpu, pdFrame: number, pcid: number, noflush: boolean): void {
    movToCr3(v, this.c, pdFrame, pcid, noflush);
  }

  /** CR4.PGE is not guest-owned: its change exits, and KVM flushes the guest's TLB (KVM_REQ_TLB_FLUSH_GUEST). */
  writeCr4(v: Vcpu): void {
    this.exits.exit(v, CR_ACCESS, this.c.crAccessHandler + this.c.vpidFlush, FLUSH_ALL);
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

  /** Is `gfn` mapped in the EPT (tests)? */
  isMapped(gfn: number): boolean {
    return this.mapped[gfn] === 1;
  }
}
