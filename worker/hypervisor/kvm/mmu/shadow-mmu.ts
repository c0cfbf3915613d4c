/**
 * KVM's shadow MMU as it has been since 2018, for a 64-bit guest (arch/x86/kvm/mmu/mmu.c,
 * paging_tmpl.h, x86.c of v5.18 to v6.x), as an MMU strategy of the exit layer:
 *  - a guest mov to cr3 exits (CR_ACCESS): kvm_set_cr3 -> kvm_mmu_new_pgd, which switches
 *    to the current root or one of the `prevRoots` previous ones when one serves
 *    (roots.ts: a fast switch, no sync and no flush of its own); a miss frees the least
 *    recently used root and, before the next entry, kvm_mmu_load finds the root's shadow
 *    page in the hash (or builds it), syncs it and flushes the vCPU's tagged TLB
 *    (flush_tlb_current). Without the no-flush bit, kvm_invalidate_pcid then syncs the
 *    roots and flushes too (KVM_REQ_MMU_SYNC, KVM_REQ_TLB_FLUSH_CURRENT) and, with PCID,
 *    frees the previous roots of that PCID;
 *  - a TLB miss walks the shadow tables (four levels, the walker's caches); a missing
 *    entry is a shadow page fault (EXCEPTION_NMI, #PF) that walks the guest's tables and
 *    builds the shadow pages on the way (FNAME(page_fault), FNAME(fetch));
 *  - a store to a guest table shadowed at level 2 or above is emulated (kvm_mmu_pte_write,
 *    the write-flood detector zapping a page written three times unused); a store to a
 *    level-1 table faults once and lets its pages go unsync, to be synced at the next
 *    sync point;
 *  - invlpg exits and syncs that address in every root (kvm_mmu_invalidate_gva).
 * Shadow PTEs are never global: a flush of the vCPU's VPID takes the kernel's entries
 * too. KVM keeps no statistic of fast switches or root frees: `roots` counts them.
 */
import type { Costs } from '../../../../shared/costs.js';
import { EXIT_REASON } from '../../../../shared/exits.js';
import type { MmuStats, RootStats, StatsRegistry } from '../../../../shared/stats.js';
import type { GuestMemory } from '../../../machine/memory.js';
import { PAGE_SHIFT, PTE_D, PTE_P, PTE_RW, walk4, x64Index } from '../../../machine/paging.js';
import type { Vcpu } from '../../../machine/vcpu.js';
import { guestPageFault, type MmuStrategy } from '../../platform.js';
import type { VmExits } from '../vmexit.js';
import { makeSpte, ShadowPages64, SPTE_WRITABLE, spteFrame } from './pages.js';
import { HostPcids } from './host-pcid.js';
import { RootCache, rootKey } from './roots.js';
import { UnsyncPages } from './sync.js';

const { CR_ACCESS, EXCEPTION_NMI, INVLPG } = EXIT_REASON;

export interface PrevRootsOptions {
  /** KVM_MMU_NUM_PREV_ROOTS. */
  readonly prevRoots: number;
  /** n_max_mmu_pages. */
  readonly mmuPages: number;
  /** The guest is PVM's: cr3 loads come as hypercalls (pvm.ts), not as exits of their own. */
  readonly pvm: boolean;
}

/** What KVM keeps for one vCPU. */
export class RootsVcpu {
  readonly roots: RootCache;
  /** The exit under way loaded a root (kvm_mmu_load synced and flushed already). */
  loaded = false;
  /** The PCID of the guest's cr3 (0 without PCID). */
  pcid = 0;
  /** PVM: the host PCIDs bound to roots (pvm.ts), or null. */
  hostPcids: HostPcids | null = null;
  constructor(
    readonly v: Vcpu,
    n: number,
    readonly stat: RootStats,
    readonly mmu: MmuStats,
  ) {
    this.roots = new RootCache(n);
  }
}

export class PrevRootsMmu implements MmuStrategy {
  readonly pages: ShadowPages64;
  private readonly cpus: RootsVcpu[];
  private readonly none = new Int32Array(5);
  /** Unsync level-1 pages and their syncing (sync.ts). */
  private readonly unsync: UnsyncPages;

  constructor(
    private readonly mem: GuestMemory,
    private readonly c: Costs,
    readonly exits: VmExits,
    vcpus: readonly Vcpu[],
    stats: StatsRegistry,
    private readonly o: PrevRootsOptions,
  ) {
    this.pages = new ShadowPages64(o.mmuPages, stats.vcpu(0).mmu);
    this.unsync = new UnsyncPages(this.pages, mem);
    this.cpus = vcpus.map((v) => new RootsVcpu(v, o.prevRoots, stats.vcpu(v.id).roots, stats.vcpu(v.id).mmu));
    if (o.pvm) for (const s of this.cpus) s.hostPcids = new HostPcids();
  }

  /**
   * The hardware cr3 follows the current root: its PCID the guest's (vmx_load_mmu_pgd puts
   * it in), or under PVM the host PCID bound to the root (a new binding flushes its tag).
   */
  rootChanged(s: RootsVcpu): void {
    const v = s.v;
    if (s.hostPcids === null) {
      v.tlb.pcid = s.pcid;
      return;
    }
    let tag = s.hostPcids.bind(s.roots.sp);
    if (tag < 0) {
      tag = ~tag;
      v.tlb.flushPcid(tag);
      v.walker!.flushPcid(tag);
    }
    v.tlb.pcid = tag;
  }

  /** KVM's state of vCPU `v` (tests and PVM look at it). */
  state(v: Vcpu): RootsVcpu {
    return this.cpus[v.id]!;
  }

  // --- cr3 loads ------------------------------------------------------------------------

  /** A guest mov to cr3: the CR_ACCESS exit and kvm_set_cr3. */
  loadCr3(v: Vcpu, pdFrame: number, pcid: number, noflush: boolean): void {
    const s = this.cpus[v.id]!;
    let handler = this.c.crAccessHandler;
    const key = rootKey(pdFrame, pcid);
    s.loaded = false;
    // kvm_set_cr3: the same cr3 again skips the pgd switch.
    if (key !== s.roots.key || s.roots.sp < 0) handler += this.newPgd(s, pdFrame, pcid);
    if (!noflush) handler += this.invalidatePcid(s, pcid);
    this.exits.exit(v, CR_ACCESS, handler);
  }

  /**
   * kvm_mmu_new_pgd to (`frame`, `pcid`), and the load of a missed root before the next
   * entry (kvm_mmu_reload -> kvm_mmu_load). Returns the handler cycles.
   */
  newPgd(s: RootsVcpu, frame: number, pcid: number): number {
    const v = s.v;
    const pages = this.pages;
    v.cr3 = frame;
    s.pcid = pcid;
    const key = rootKey(frame, pcid);
    const hit = s.roots.switchTo(pages, key);
    this.freeRoots(s);
    if (hit) {
      s.stat.fastSwitches++;
      pages.flooding[s.roots.sp] = 0;
      this.rootChanged(s);
      return this.c.rootSwitch;
    }
    s.stat.misses++;
    return this.c.rootSwitch + this.loadRoot(s, frame, pcid);
  }

  /** kvm_mmu_load: find or build the root of (`frame`, `pcid`), sync it, flush the vCPU's TLB. */
  private loadRoot(s: RootsVcpu, frame: number, pcid: number): number {
    const pages = this.pages;
    let cycles = this.c.rootLoad + this.makeRoom();
    let sp = pages.lookup(frame, 4);
    if (sp < 0) {
      sp = pages.create(frame, 4);
      s.stat.built++;
      cycles += this.c.shadowPageAlloc;
    }
    pages.flooding[sp] = 0;
    pages.rootCount[sp]!++;
    s.roots.setCurrent(rootKey(frame, pcid), sp);
    this.rootChanged(s);
    cycles += this.syncRoot(s, sp);
    cycles += this.flushCurrent(s);
    s.loaded = true;
    return cycles;
  }

  /** The roots that left the cache (RootCache.freed): each one's root_count drops (the page stays hashed unless invalid). */
  private freeRoots(s: RootsVcpu): void {
    const r = s.roots;
    for (let i = 0; i < r.nFreed; i++) {
      s.stat.frees++;
      this.pages.unpin(r.freed[i]!);
    }
    r.nFreed = 0;
  }

  /**
   * kvm_invalidate_pcid after a cr3 write without the no-flush bit: KVM_REQ_MMU_SYNC and
   * KVM_REQ_TLB_FLUSH_CURRENT for the active PCID (after a missed root, kvm_mmu_load did
   * both already), and with PCID the previous roots of that PCID freed.
   */
  private invalidatePcid(s: RootsVcpu, pcid: number): number {
    let cycles = 0;
    if (s.roots.sp >= 0 && !s.loaded) cycles += this.syncRoot(s, s.roots.sp) + this.flushCurrent(s);
    if (pcid !== 0) {
      const current = s.roots.sp;
      s.roots.freePcid(pcid, current);
      this.freeRoots(s);
    }
    return cycles;
  }

  /**
   * flush_tlb_current: INVVPID of the vCPU's VPID (everything, every PCID; shadow PTEs have
   * no global bit). PVM's: the current root's host PCID let go of, its tag flushed.
   */
  flushCurrent(s: RootsVcpu): number {
    s.stat.tlbFlushes++;
    s.v.vmx.times.tlbFlush++;
    if (s.hostPcids !== null) {
      this.flushTag(s, s.v.tlb.pcid);
      return this.c.vpidFlush;
    }
    s.v.tlb.flushAll();
    s.v.walker!.flushGuest();
    return this.c.vpidFlush;
  }

  /** The TLB entries (and cached paging structures) of one tag go. */
  flushTag(s: RootsVcpu, tag: number): void {
    s.v.tlb.flushPcid(tag);
    s.v.walker!.flushPcid(tag);
  }

  /** kvm_mmu_sync_roots for root `root`: every unsync page it reaches is synced (sync.ts). */
  syncRoot(s: RootsVcpu, root: number): number {
    s.stat.syncs++;
    const n = this.unsync.syncReachable(root);
    s.stat.pagesSynced += n;
    return this.c.syncRoots + n * this.c.syncPage;
  }

  loadCachedCr3(): void {
    throw new Error('no cr3 cache of 2007 in KVM of today');
  }

  /** mov from cr3 does not exit with the shadow MMU of today (CR3-store exiting only in the legacy modes): free. */
  readCr3(): void {}

  /**
   * A mov to cr4 that toggles PGE exits; kvm_post_set_cr4 asks for KVM_REQ_TLB_FLUSH_GUEST:
   * the roots synced, the vCPU's TLB flushed.
   */
  writeCr4(v: Vcpu): void {
    const s = this.cpus[v.id]!;
    let handler = this.c.crAccessHandler;
    if (s.roots.sp >= 0) handler += this.syncRoot(s, s.roots.sp);
    handler += this.flushCurrent(s);
    this.exits.exit(v, CR_ACCESS, handler);
  }

  // --- TLB misses and shadow faults -------------------------------------------------------

  tlbMiss(v: Vcpu, vpn: number, write: boolean): void {
    const s = this.cpus[v.id]!;
    if (s.roots.sp < 0) this.exits.exit(v, CR_ACCESS, this.loadRoot(s, v.cr3, s.pcid));
    let spte = this.translate(s.roots.sp, vpn);
    if (spte < 0 || (write && (spte & SPTE_WRITABLE) === 0)) {
      this.shadowFault(s, vpn, write);
      spte = this.translate(s.roots.sp, vpn);
    }
    if (spte < 0) throw new Error(`shadow fault at vpn 0x${vpn.toString(16)} left no translation`);
    const refs = v.walker!.refs(vpn, v.tlb.pcid, this.none, 0);
    v.clock += this.c.tlbWalk + (refs - 1) * this.c.walkRef;
    v.tlb.insert(vpn, false);
  }

  private translate(root: number, vpn: number): number {
    return this.pages.translate(root, x64Index(vpn, 4), x64Index(vpn, 3), x64Index(vpn, 2), x64Index(vpn, 1));
  }

  /** EXCEPTION_NMI with #PF: FNAME(page_fault) walks the guest, FNAME(fetch) builds the shadow pages on the way. */
  private shadowFault(s: RootsVcpu, vpn: number, write: boolean): void {
    const v = s.v;
    const pages = this.pages;
    const mem = this.mem;
    s.mmu.shadowFaults++;
    let handler = this.c.shadowFaultHandler + this.makeRoom();
    const pte = walk4(mem, v.cr3, vpn, write);
    if (pte === 0) guestPageFault(v, vpn);
    let sp = s.roots.sp;
    let table = v.cr3;
    for (let level = 4; level > 1; level--) {
      const i = x64Index(vpn, level);
      const child = mem.readEntry(table, i) >>> PAGE_SHIFT;
      pages.flooding[sp] = 0;
      let csp = pages.entry(sp, i);
      if (csp < 0 || pages.gfn[csp] !== child || pages.invalid[csp]) {
        csp = pages.lookup(child, level - 1);
        if (csp < 0) {
          csp = pages.create(child, level - 1);
          handler += this.c.shadowPageAlloc;
          // A table shadowed at an upper level can no longer go unsync: its leaf pages are zapped (kvm_mmu_find_shadow_page).
          if (level - 1 > 1) handler += this.zapLeafOf(child);
        }
        pages.link(sp, i, csp);
      }
      sp = csp;
      table = child;
    }
    pages.flooding[sp] = 0;
    const frame = pte >>> PAGE_SHIFT;
    // A clean page is mapped read-only so that the first write marks it dirty; a page-table page stays write-protected.
    const writable = (pte & PTE_RW) !== 0 && (write || (pte & PTE_D) !== 0) && !pages.isTracked(frame);
    pages.setPte(sp, x64Index(vpn, 1), makeSpte(frame, writable));
    this.exits.exit(v, EXCEPTION_NMI, handler);
  }

  /** Level-1 pages of `gfn` zapped (the frame is now a table of another level). */
  private zapLeafOf(gfn: number): number {
    const sp = this.pages.leafOf(gfn);
    if (sp < 0) return 0;
    this.pages.zap(sp);
    this.unsync.prune();
    return this.c.shadowPageZap;
  }

  /** make_mmu_pages_available before work that may allocate. */
  private makeRoom(): number {
    const before = this.pages.stat.pagesZapped;
    const zapped = this.pages.makeAvailable();
    if (zapped > 0) this.unsync.prune();
    return (this.pages.stat.pagesZapped - before) * this.c.shadowPageZap;
  }

  /** The guest touched a page whose PTE is not present: the shadow fault finds it so and injects #PF (pf_guest). */
  guestFault(v: Vcpu): void {
    this.cpus[v.id]!.mmu.shadowFaults++;
    this.exits.exit(v, EXCEPTION_NMI, this.c.pfInject);
  }

  // --- guest page-table stores ------------------------------------------------------------

  ptWrite(v: Vcpu, frame: number, index: number): void {
    const pages = this.pages;
    if (pages.isTracked(frame)) {
      this.emulatePteWrite(this.cpus[v.id]!, frame, index);
      return;
    }
    const leaf = pages.leafOf(frame);
    if (leaf >= 0 && !pages.isUnsync(frame)) {
      // The write faults on the read-only mapping; mmu_try_to_unsync_pages lets the page go.
      const s = this.cpus[v.id]!;
      this.unsync.add(leaf);
      s.stat.unsyncs++;
      s.mmu.shadowFaults++;
      this.exits.exit(v, EXCEPTION_NMI, this.c.shadowFaultHandler);
    }
    v.clock += this.c.ptWrite;
  }

  /**
   * The store trapped and is emulated: kvm_mmu_pte_write drops the shadow entry it made
   * stale in every page of the frame, or zaps a page flooded with writes (three since it
   * was last used; level-1 pages are never counted).
   */
  private emulatePteWrite(s: RootsVcpu, frame: number, index: number): void {
    const pages = this.pages;
    pages.stat.ptWritesEmulated++;
    let handler = this.c.ptWriteEmulate;
    let zappedRoot = false;
    for (let level = 2; level <= 4; level++) {
      const sp = pages.lookup(frame, level);
      if (sp < 0) continue;
      if (++pages.flooding[sp]! >= 3) {
        if (pages.rootCount[sp]! > 0) zappedRoot = true;
        pages.zap(sp);
        handler += this.c.shadowPageZap;
      } else pages.clearEntry(sp, index);
    }
    if (zappedRoot) handler += this.freeObsoleteRoots(s);
    this.exits.exit(s.v, EXCEPTION_NMI, handler);
  }

  /** KVM_REQ_MMU_FREE_OBSOLETE_ROOTS: invalid roots leave every vCPU's cache; a current one is loaded again. */
  private freeObsoleteRoots(s: RootsVcpu): number {
    let cycles = 0;
    for (const w of this.cpus) {
      const lostCurrent = w.roots.freeInvalid(this.pages);
      this.freeRoots(w);
      if (lostCurrent && w === s) cycles += this.loadRoot(w, w.v.cr3, w.pcid);
    }
    return cycles;
  }

  ptWriteCycles(): number {
    return this.c.ptWrite;
  }

  isWriteProtected(_v: Vcpu, frame: number): boolean {
    const pages = this.pages;
    return pages.isTracked(frame) || (pages.leafOf(frame) >= 0 && !pages.isUnsync(frame));
  }

  /** invlpg exits; kvm_mmu_invalidate_gva syncs the address in the current and every previous root, and flushes it. */
  invlpg(v: Vcpu, vpn: number): void {
    const s = this.cpus[v.id]!;
    for (const root of s.roots.all()) {
      const pt = this.leafTable(root, vpn);
      if (pt >= 0 && this.pages.unsync[pt]) this.pages.clearEntry(pt, x64Index(vpn, 1));
    }
    this.exits.exit(v, INVLPG, this.c.invlpgHandler);
    v.tlb.invalidate(vpn);
    v.walker!.flushPcid(v.tlb.pcid);
  }

  private leafTable(root: number, vpn: number): number {
    let sp = root;
    for (let level = 4; level > 1 && sp >= 0; level--) sp = this.pages.entry(sp, x64Index(vpn, level));
    return sp;
  }

  /** The guest frees a page directory: nothing reaches KVM (the frame's shadow pages go when their frame is written). */
  pgdFree(): void {}

  /** Translations of the current root that the guest's tables no longer give (synced pages only: an unsync page may lag until its sync). */
  staleTranslations(): number {
    const pages = this.pages;
    let stale = 0;
    for (const sp of pages.pagesAt(1)) {
      if (pages.unsync[sp]) continue;
      const gfn = pages.gfn[sp]!;
      for (const i of pages.presentEntries(sp)) {
        const e = pages.entry(sp, i);
        const pte = this.mem.readEntry(gfn, i);
        if ((pte & PTE_P) === 0 || pte >>> PAGE_SHIFT !== spteFrame(e)) stale++;
      }
    }
    return stale;
  }

  registerParaState(): void {
    throw new Error('no para_state in KVM of today');
  }

  attachSmp(): void {
    throw new Error('the shadow MMU of today runs one vCPU in this model');
  }
}
