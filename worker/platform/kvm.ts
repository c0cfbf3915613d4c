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
 *
 * With several vCPUs the VM's shadow MMU is kept as one shard per vCPU (`v.mmu`): a
 * vCPU builds, finds and evicts shadow pages in its own shard only, so vCPUs can run
 * apart within a quantum. What makes the shards one MMU is carried by messages at the
 * quantum's end: which guest frames each shard shadows (a frame shadowed by any vCPU is
 * write-protected for all), every emulated page-table write (the other shards drop or
 * zap their shadow of it, as kvm_mmu_pte_write does for the one hash), and the
 * cr3-cache drops of the pinned-root fixes. A frame two vCPUs use is shadowed twice,
 * and each shard has the pool of `mmuPages` pages.
 */
import type { Costs } from '../../shared/costs.js';
import type { PinnedRootFix } from '../../shared/modes.js';
import { countStaleTranslations } from '../mmu/checker.js';
import { EXIT_REASON } from '../../shared/exits.js';
import type { GuestMemory } from '../memory.js';
import { PAGE_SHIFT, PTE_D, PTE_G, PTE_RW } from '../memory.js';
import { LEVEL_PD, LEVEL_PT, SPTE_GLOBAL, SPTE_WRITABLE } from '../mmu/shadow.js';
import { M_DROP_ROOT, M_PT_WRITE, M_SHADOWED } from '../smp/bus.js';
import type { GuestSmp } from '../guest/smp.js';
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
  /** The VM's vCPUs. */
  private vcpus: readonly Vcpu[] = [];
  /** Multi-vCPU: the message bus, how many shards shadowed each frame at the last quantum's end, and what each vCPU's shard published. */
  private smp: GuestSmp | null = null;
  private shadowedBy = new Uint16Array(0);
  private published: Uint8Array[] = [];

  constructor(
    private readonly mem: GuestMemory,
    private readonly c: Costs,
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

  /** Start exchanging shard state with the other vCPUs (after boot and set-up, the same in every replica). */
  attachSmp(smp: GuestSmp): void {
    this.smp = smp;
    this.shadowedBy = new Uint16Array(this.mem.numFrames);
    this.published = this.vcpus.map(() => new Uint8Array(this.mem.numFrames));
    if (this.discard) return; // nothing is write-protected
    for (const v of this.vcpus) {
      const mmu = v.mmu!;
      mmu.trackShadowed(this.mem.numFrames);
      const pub = this.published[v.id]!;
      for (let sp = 0; sp < mmu.capacity; sp++) {
        const f = mmu.gfn[sp]!;
        if (f < 0 || pub[f] === 1) continue;
        pub[f] = 1;
        this.shadowedBy[f]!++;
      }
    }
  }

  /** Does a shard other than v's shadow `frame` (as of the last quantum's end)? */
  private othersShadow(v: Vcpu, frame: number): boolean {
    return this.smp !== null && this.shadowedBy[frame]! - this.published[v.id]![frame]! > 0;
  }

  /** At a quantum's end: tell the others which frames v's shard began or stopped shadowing. */
  publish(v: Vcpu): void {
    const smp = this.smp;
    if (smp === null || this.discard) return;
    const mmu = v.mmu!;
    const pub = this.published[v.id]!;
    const list = mmu.changedGfns;
    for (let i = 0; i < mmu.nChanged; i++) {
      const f = list[i]!;
      const now = mmu.isShadowed(f) ? 1 : 0;
      if (now === pub[f]) continue;
      const at = smp.emit(v, M_SHADOWED, 2);
      smp.d[at] = f;
      smp.d[at + 1] = now - pub[f]!;
      pub[f] = now;
    }
    mmu.clearChanged();
  }

  /** A message from another vCPU's shard, merged at the quantum's end on the vCPUs this replica runs. */
  applyRemote(type: number, d: Float64Array, at: number, src: number, local: readonly Vcpu[]): void {
    if (type === M_SHADOWED) {
      this.shadowedBy[d[at]!]! += d[at + 1]!;
      return;
    }
    const frame = d[at]!;
    if (type === M_PT_WRITE) {
      if (this.mem.hasContents(frame)) this.mem.writeEntry(frame, d[at + 1]!, d[at + 2]!);
      const skip = this.paravirt && this.fix === 'none';
      for (const w of local) {
        if (w.id === src) continue;
        if (w.mmu!.remotePteWrite(frame, d[at + 1]!, d[at + 3]! !== 0, skip)) w.tlb.flushAll(); // KVM_REQ_TLB_FLUSH
      }
      return;
    }
    if (type === M_DROP_ROOT) {
      for (const w of local) {
        if (w.id === src) continue;
        const root = w.mmu!.lookup(frame, LEVEL_PD);
        if (root >= 0 && w.mmu!.cachePins[root]! > 0) this.dropFromCache(w, root);
      }
    }
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
  private makeRoom(v: Vcpu): number {
    return v.mmu!.freeSomePages() * this.c.shadowPageZap;
  }

  tlbMiss(v: Vcpu, vpn: number, write: boolean): void {
    const mmu = v.mmu!;
    let spte = mmu.translate(v.shadowRoot, vpn);
    if (spte < 0 || (write && (spte & SPTE_WRITABLE) === 0)) {
      this.shadowPageFault(v, vpn, write);
      spte = mmu.translate(v.shadowRoot, vpn);
    }
    // The hardware walk of the shadow tables, then the TLB fill.
    v.clock += this.c.tlbWalk;
    v.tlb.insert(vpn, (spte & SPTE_GLOBAL) !== 0);
  }

  /** EXCEPTION_NMI exit with #PF: paging32_page_fault builds the missing shadow entries. */
  private shadowPageFault(v: Vcpu, vpn: number, write: boolean): void {
    const mmu = v.mmu!;
    mmu.shadowFaults++;
    v.lastPtWriteCount = 0; // the fork detector is reset by a page fault
    const zapCycles = this.makeRoom(v);
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
    const mmu = v.mmu!;
    let handler = this.c.crAccessHandler;
    if (v.shadowRoot >= 0) mmu.unpin(v.shadowRoot); // mmu_free_roots
    const zapBefore = mmu.pagesZapped;
    if (this.discard) handler += mmu.zapAll() * this.c.shadowPageZap;
    handler += this.makeRoom(v);
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
    if (v.shadowRoot >= 0) v.mmu!.unpin(v.shadowRoot);
    v.mmu!.pin(root);
    v.shadowRoot = root;
    v.cr3 = pdFrame;
  }

  /** mov from cr3 exits too (CPU_BASED_CR3_STORE_EXITING). */
  readCr3(v: Vcpu): void {
    this.exit(v, CR_ACCESS, this.c.crAccessHandler);
  }

  ptWrite(v: Vcpu, frame: number, index: number): void {
    const mmu = v.mmu;
    if (this.discard || mmu === null) {
      v.clock += this.c.ptWrite;
      return;
    }
    const others = this.othersShadow(v, frame);
    if (!mmu.isShadowed(frame) && !others) {
      v.clock += this.c.ptWrite;
      return;
    }
    let handler = this.c.ptWriteEmulate;
    const smp = this.smp;
    if (this.paravirt && this.fix === 'unpin-on-write') {
      // The fix: a write to a root pinned by the cr3 cache first drops it from every cache.
      const root = mmu.lookup(frame, LEVEL_PD);
      if (root >= 0 && mmu.cachePins[root]! > 0) handler += this.dropFromCache(v, root);
      if (others) {
        const at = smp!.emit(v, M_DROP_ROOT, 1);
        smp!.d[at] = frame;
      }
    }
    const zapped = mmu.pteWrite(v, frame, index, this.paravirt && this.fix === 'none');
    if (others) {
      const at = smp!.emit(v, M_PT_WRITE, 4);
      const d = smp!.d;
      d[at] = frame;
      d[at + 1] = index;
      d[at + 2] = this.mem.readEntry(frame, index);
      d[at + 3] = mmu.lastFlooded ? 1 : 0;
    }
    this.exit(v, EXCEPTION_NMI, handler + zapped * this.c.shadowPageZap, 'all');
  }

  isWriteProtected(v: Vcpu, frame: number): boolean {
    return !this.discard && (v.mmu!.isShadowed(frame) || this.othersShadow(v, frame));
  }

  /** The other fix: pgd_free makes a hypercall, and the host forgets the directory's cache entries. */
  pgdFree(v: Vcpu, pdFrame: number): void {
    if (!this.paravirt || this.fix !== 'hypercall') return;
    const root = v.mmu!.lookup(pdFrame, LEVEL_PD);
    const handler = this.c.pvHypercall + (root >= 0 ? this.dropFromCache(v, root) : 0);
    const smp = this.smp;
    if (smp !== null) {
      const at = smp.emit(v, M_DROP_ROOT, 1);
      smp.d[at] = pdFrame;
    }
    this.exit(v, VMCALL, handler);
  }

  /** Drop every entry of w's cr3 cache holding `root` (of w's shard), unpinning it; returns the cycles. */
  private dropFromCache(w: Vcpu, root: number): number {
    const para = w.para;
    if (para === null) return 0;
    const n = para.invalidateHost(root);
    if (n === 0) return 0;
    const mmu = w.mmu!;
    for (let i = 0; i < n; i++) {
      mmu.unpin(root);
      mmu.cachePins[root]!--;
    }
    w.vmx.cr3Target.set(para.hostCr3);
    return n * this.c.pvCacheFill;
  }

  staleTranslations(v: Vcpu): number {
    return countStaleTranslations(v.mmu!, this.mem);
  }

  invlpg(v: Vcpu, vpn: number): void {
    if (this.discard && v.shadowRoot >= 0) {
      const pt = v.mmu!.spte[v.shadowRoot * 1024 + (vpn >>> 10)]!;
      if (pt >= 0) v.mmu!.clearEntry(pt, vpn & 1023);
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

