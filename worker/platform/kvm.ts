/**
 * KVM on VT-x without EPT or VPID, as of early 2007: `kvm-upstream`, `kvm-trunk` and
 * `kvm-paravirt`.
 *
 * Every exit costs the hardware round trip (VM exit + VM entry), KVM's common exit path
 * and its handler, and flushes the whole TLB, global entries included (no VPID). Port
 * I/O goes to devices emulated in user space (QEMU: the PIC and the PIT in 2007), which
 * adds a return to user space per access. The shadow MMU (one per VM) resolves TLB
 * misses that the shadow tables cannot.
 *
 *  - kvm-upstream: the shadow MMU discards every shadow page on a cr3 load; there is no
 *    write protection, guest invlpg drops the shadow entry (a virtual TLB).
 *  - kvm-trunk: shadow pages are cached; guest page tables are write-protected.
 *  - kvm-paravirt: kvm-trunk plus the cr3 cache: the host fills `para_state` on a
 *    missed cr3 load and keeps the CR3-target list equal to the cached host roots.
 */
import type { Costs } from '../../shared/costs.js';
import type { PinnedRootFix } from '../../shared/modes.js';
import { countStaleTranslations } from '../mmu/checker.js';
import { EXIT_REASON } from '../../shared/exits.js';
import type { GuestMemory } from '../memory.js';
import { PAGE_SHIFT, PTE_D, PTE_G, PTE_RW } from '../memory.js';
import { LEVEL_PD, LEVEL_PT, SPTE_GLOBAL, SPTE_WRITABLE, ShadowMmu } from '../mmu/shadow.js';
import type { Vcpu } from '../vcpu.js';
import type { Platform } from './platform.js';
import { guestPageFault } from './fault.js';

const { EXCEPTION_NMI, EXTERNAL_INTERRUPT, HLT, INVLPG, CR_ACCESS, IO_INSTRUCTION, VMCALL } = EXIT_REASON;

export interface KvmOptions {
  readonly shadow: 'discard' | 'cached';
  readonly paravirt: boolean;
  readonly pinnedRootFix: PinnedRootFix;
  /** VM exit/entry flushes the whole TLB (no VPID). */
  readonly exitFlush: boolean;
}

export class KvmPlatform implements Platform {
  readonly guestFactor = 1;
  readonly tlbEntries: number;
  readonly tlbWays: number;
  private readonly discard: boolean;
  private readonly paravirt: boolean;
  private readonly fix: PinnedRootFix;
  private readonly exitFlush: boolean;
  /** Cycles of one exit before its handler: hardware round trip + KVM's exit path. */
  private readonly exitBase: number;
  /** The VM's vCPUs, whose cr3 caches a host-side unpin must reach. */
  private vcpus: readonly Vcpu[] = [];

  constructor(
    private readonly mem: GuestMemory,
    private readonly c: Costs,
    readonly mmu: ShadowMmu,
    opts: KvmOptions,
  ) {
    this.tlbEntries = c.tlbEntries;
    this.tlbWays = c.tlbWays;
    this.discard = opts.shadow === 'discard';
    this.paravirt = opts.paravirt;
    this.fix = opts.pinnedRootFix;
    this.exitFlush = opts.exitFlush;
    this.exitBase = c.vmexitRoundTrip + c.kvmExitPath;
  }

  attachVcpus(vcpus: readonly Vcpu[]): void {
    this.vcpus = vcpus;
  }

  /**
   * A VM exit and the entry after it: counted, charged, and (without VPID) the whole TLB
   * gone. With the hypothetical tagged TLB (`exitFlush` false) the entry keeps the TLB,
   * and `flush` says what the handler must still drop: 'all' when it changed shadow
   * entries (KVM's TLB flush request), 'user' when it loaded a new cr3.
   */
  private exit(v: Vcpu, reason: number, handler: number, flush: 'none' | 'user' | 'all' = 'none'): void {
    const cycles = this.exitBase + handler;
    v.clock += cycles;
    v.vmx.record(reason, cycles);
    if (this.exitFlush || flush === 'all') v.tlb.flushAll();
    else if (flush === 'user') v.tlb.flushNonGlobal();
  }

  /** kvm_mmu_free_some_pages before work that may allocate shadow pages; returns the handler cycles it cost. */
  private makeRoom(): number {
    return this.mmu.freeSomePages() * this.c.shadowPageZap;
  }

  tlbMiss(v: Vcpu, vpn: number, write: boolean): void {
    let spte = this.mmu.translate(v.shadowRoot, vpn);
    if (spte < 0 || (write && (spte & SPTE_WRITABLE) === 0)) {
      this.shadowPageFault(v, vpn, write);
      spte = this.mmu.translate(v.shadowRoot, vpn);
    }
    // The hardware walk of the shadow tables, then the TLB fill.
    v.clock += this.c.tlbWalk;
    v.tlb.insert(vpn, (spte & SPTE_GLOBAL) !== 0);
  }

  /** EXCEPTION_NMI exit with #PF: paging32_page_fault builds the missing shadow entries. */
  private shadowPageFault(v: Vcpu, vpn: number, write: boolean): void {
    const mmu = this.mmu;
    mmu.shadowFaults++;
    v.lastPtWriteCount = 0; // the fork detector is reset by a page fault
    const zapCycles = this.makeRoom();
    let handler = this.c.shadowFaultHandler + zapCycles;
    const pte = this.mem.walk(v.cr3, vpn, write);
    if (pte === 0) guestPageFault(v, vpn);
    const pdi = vpn >>> 10;
    const ptFrame = this.mem.readEntry(v.cr3, pdi) >>> PAGE_SHIFT;
    const pt = mmu.getPage(ptFrame, LEVEL_PT);
    if (mmu.lastCreated) handler += this.c.shadowPageAlloc;
    mmu.link(v.shadowRoot, pdi, pt);
    // A clean page is mapped read-only so that the first write traps and sets the guest dirty bit.
    const writable = (pte & PTE_RW) !== 0 && (write || (pte & PTE_D) !== 0);
    mmu.setPte(pt, vpn & 1023, ((pte >>> PAGE_SHIFT) << 2) | (writable ? SPTE_WRITABLE : 0) | (pte & PTE_G ? SPTE_GLOBAL : 0));
    this.exit(v, EXCEPTION_NMI, handler, zapCycles > 0 ? 'all' : 'none');
  }

  /** CR_ACCESS exit of a mov to cr3 that is not a CR3-target value: kvm_set_cr3 -> new_cr3. */
  loadCr3(v: Vcpu, pdFrame: number): void {
    const mmu = this.mmu;
    let handler = this.c.crAccessHandler;
    if (v.shadowRoot >= 0) mmu.unpin(v.shadowRoot); // mmu_free_roots
    const zapBefore = mmu.pagesZapped;
    if (this.discard) handler += mmu.zapAll() * this.c.shadowPageZap;
    handler += this.makeRoom();
    const zapped = mmu.pagesZapped > zapBefore;
    const root = mmu.getPage(pdFrame, LEVEL_PD); // mmu_alloc_roots
    if (mmu.lastCreated) handler += this.c.shadowPageAlloc;
    mmu.pin(root);
    v.shadowRoot = root;
    v.cr3 = pdFrame;
    const para = v.para;
    if (para !== null) {
      // The patch's host side: fill para_state at cr3_cache_idx, pin the root, unpin the evicted one.
      const evicted = para.fill(pdFrame, root);
      mmu.pin(root);
      mmu.cachePins[root]!++;
      if (evicted >= 0) {
        mmu.unpin(evicted);
        mmu.cachePins[evicted]!--;
      }
      v.vmx.cr3Target.set(para.hostCr3);
      handler += this.c.pvCacheFill;
    }
    this.exit(v, CR_ACCESS, handler, zapped ? 'all' : 'user');
  }

  /**
   * A guest mov to cr3 of a cached host_cr3: a CR3-target value, so no exit. The CPU
   * drops non-global TLB entries only. KVM learns of the switch from GUEST_CR3 at the
   * next exit; the root pin moves with it here.
   */
  loadCachedCr3(v: Vcpu, idx: number, pdFrame: number): void {
    const root = v.para!.hostCr3[idx]!;
    if (!v.vmx.isCr3Target(root)) throw new Error(`host_cr3 ${root} of cache entry ${idx} is not a CR3-target value`);
    v.clock += this.c.movCr3Target;
    v.tlb.flushNonGlobal();
    if (v.shadowRoot >= 0) this.mmu.unpin(v.shadowRoot);
    this.mmu.pin(root);
    v.shadowRoot = root;
    v.cr3 = pdFrame;
  }

  /** mov from cr3 exits too (CPU_BASED_CR3_STORE_EXITING). */
  readCr3(v: Vcpu): void {
    this.exit(v, CR_ACCESS, this.c.crAccessHandler);
  }

  ptWrite(v: Vcpu, frame: number, index: number): void {
    if (!this.discard && this.mmu.isShadowed(frame)) {
      let handler = this.c.ptWriteEmulate;
      if (this.paravirt && this.fix === 'unpin-on-write') {
        // The fix: a write to a root pinned by the cr3 cache first drops it from every cache.
        const root = this.mmu.lookup(frame, LEVEL_PD);
        if (root >= 0 && this.mmu.cachePins[root]! > 0) handler += this.dropFromCaches(root);
      }
      const zapped = this.mmu.pteWrite(v, frame, index, this.paravirt && this.fix === 'none');
      this.exit(v, EXCEPTION_NMI, handler + zapped * this.c.shadowPageZap, 'all');
    } else {
      v.clock += this.c.ptWrite;
    }
  }

  isWriteProtected(frame: number): boolean {
    return !this.discard && this.mmu.isShadowed(frame);
  }

  /** The other fix: pgd_free makes a hypercall, and the host forgets the directory's cache entries. */
  pgdFree(v: Vcpu, pdFrame: number): void {
    if (!this.paravirt || this.fix !== 'hypercall') return;
    const root = this.mmu.lookup(pdFrame, LEVEL_PD);
    const handler = this.c.pvHypercall + (root >= 0 ? this.dropFromCaches(root) : 0);
    this.exit(v, VMCALL, handler);
  }

  /** Drop every cr3-cache entry holding `root`, on every vCPU, unpinning it; returns the cycles. */
  private dropFromCaches(root: number): number {
    let dropped = 0;
    for (const w of this.vcpus) {
      const para = w.para;
      if (para === null) continue;
      const n = para.invalidateHost(root);
      if (n === 0) continue;
      for (let i = 0; i < n; i++) {
        this.mmu.unpin(root);
        this.mmu.cachePins[root]!--;
      }
      w.vmx.cr3Target.set(para.hostCr3);
      dropped += n;
    }
    return dropped * this.c.pvCacheFill;
  }

  staleTranslations(): number {
    return countStaleTranslations(this.mmu, this.mem);
  }

  invlpg(v: Vcpu, vpn: number): void {
    if (this.discard && v.shadowRoot >= 0) {
      const pt = this.mmu.spte[v.shadowRoot * 1024 + (vpn >>> 10)]!;
      if (pt >= 0) this.mmu.clearEntry(pt, vpn & 1023);
    }
    this.exit(v, INVLPG, this.c.invlpgHandler);
    if (!this.exitFlush) v.tlb.invalidate(vpn);
  }

  portIo(v: Vcpu): void {
    this.exit(v, IO_INSTRUCTION, this.c.ioInstructionHandler + this.c.userspaceExit);
  }

  /**
   * A device emulated by QEMU raises its line (the PIT's timer, the disk's completion) in
   * user space: a running guest is kicked out (the host interrupt is an EXTERNAL_INTERRUPT
   * exit) and QEMU sets the IRQ on its PIC; a halted one is already out. Either way the
   * interrupt is injected on the next entry.
   */
  irqArrival(v: Vcpu, wasHalted: boolean): void {
    if (!wasHalted) this.exit(v, EXTERNAL_INTERRUPT, this.c.userspaceExit);
    else {
      v.clock += this.c.userspaceExit;
      v.tlb.flushAll();
    }
    v.clock += this.c.interruptInjection;
  }

  /** A reschedule IPI from another vCPU (hypothetical in 2007: KVM ran no SMP guests yet). */
  ipiArrival(v: Vcpu, wasHalted: boolean): void {
    if (!wasHalted) this.exit(v, EXTERNAL_INTERRUPT, 0);
    else v.tlb.flushAll();
    v.clock += this.c.interruptInjection;
  }

  halt(v: Vcpu): void {
    this.exit(v, HLT, this.c.hltHandler + this.c.userspaceExit);
    v.halted = true;
  }
}

