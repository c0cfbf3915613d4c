/**
 * The shadow MMU of KVM at 2.6.20 (drivers/kvm/mmu.c and paging_tmpl.h for 32-bit
 * guests), as an MMU strategy of the VMX exit layer:
 *  - the guest's two-level tables are shadowed with PAE tables (spte.ts): a cr3 has four
 *    root pages, one per 1 GiB quadrant, and a guest page table up to two;
 *  - a TLB miss walks the shadow tables; a missing or read-only entry is a shadow page
 *    fault (an EXCEPTION_NMI exit with #PF): paging32_page_fault walks the guest's tables
 *    and builds the missing shadow entries;
 *  - every mov to cr3 exits (CR_ACCESS), the same value again too: paging_new_cr3 unpins
 *    the four roots (mmu_free_roots), makes room (kvm_mmu_free_some_pages), and finds or
 *    builds the four of the new cr3 (mmu_alloc_roots: four hash lookups); with the
 *    paravirt patch the roots are then entered in the cr3 cache (cr3-cache.ts); mov from
 *    cr3 exits too;
 *  - guest page tables that are shadowed are write-protected: a store traps and is
 *    emulated (kvm_mmu_pre_write), and invlpg exits.
 * Every hash lookup walks its bucket's chain, each step charged `hashProbe`.
 *
 * Two flavours: 'cached' (kvm-trunk, kvm-paravirt) keeps shadow pages across cr3 loads;
 * 'discard' (kvm-upstream, kvm-2's MMU before the caching series) keeps one set of roots
 * and at every cr3 load releases the shadow page tables that map anything not global,
 * keeping the kernel's; it write-protects nothing, and invlpg drops the one shadow entry
 * (a virtual TLB). With the paravirt patch, what protects a freed page directory still
 * pinned in the cr3 cache is `pinnedRootFix`. Each vCPU has its own shard of shadow pages
 * (coherence.ts keeps them one MMU).
 */
import type { Costs } from '../../../../shared/costs.js';
import { EXIT_REASON } from '../../../../shared/exits.js';
import type { PinnedRootFix } from '../../../../shared/modes.js';
import type { StatsRegistry } from '../../../../shared/stats.js';
import type { GuestMemory } from '../../../machine/memory.js';
import { PAGE_SHIFT, PTE_D, PTE_G, PTE_RW, pdIndex, walk } from '../../../machine/paging.js';
import type { Vcpu } from '../../../machine/vcpu.js';
import type { RecordBus } from '../../../smp/bus.js';
import type { ParaState } from '../../kvm-para.js';
import { guestPageFault } from '../../platform.js';
import type { MmuStrategy } from '../../platform.js';
import { FLUSH_ALL, FLUSH_NONE, FLUSH_USER, type VmExits } from '../vmexit.js';
import { countStaleTranslations } from './audit.js';
import { ShardCoherence } from './coherence.js';
import { Cr3CacheHost } from './cr3-cache.js';
import { ShadowPages } from './pages.js';
import { ShadowVcpu } from './shadow-vcpu.js';
import { LEVEL_PD, LEVEL_PT, makeSpte, ptHalf, rootQuadrant, shadowPdIndex, shadowPtIndex, SPTE_GLOBAL, SPTE_WRITABLE } from './spte.js';

/** kvm-upstream's one set of roots (kvm-2 reused a single shadow root for every cr3): kept under a frame no guest table uses. */
const DISCARD_ROOT_GFN = 0;

const { EXCEPTION_NMI, INVLPG, CR_ACCESS, VMCALL } = EXIT_REASON;

export interface ShadowOptions {
  readonly flavour: 'discard' | 'cached';
  /** The paravirt patch's host side (the cr3 cache, the pinned-root fixes). */
  readonly paravirt: boolean;
  readonly pinnedRootFix: PinnedRootFix;
  /** Shadow pages per shard (KVM_NUM_MMU_PAGES). */
  readonly mmuPages: number;
  /** The vCPUs this replica runs (all if absent): another replica's vCPU gets a shard here only as big as its boot needs (the root of swapper_pg_dir), let go once the replica knows the vCPU is not its own. */
  readonly local?: readonly number[];
}

/** Shadow pages a vCPU's boot builds (its root of swapper_pg_dir is one), with room to spare. */
const BOOT_POOL = 8;

export class ShadowMmu implements MmuStrategy {
  private readonly cpus: ShadowVcpu[];
  private readonly discard: boolean;
  private readonly fix: PinnedRootFix;
  /** The patch's host side of the cr3 cache (kvm-paravirt), or null. */
  private readonly cache: Cr3CacheHost | null;
  /** Several vCPUs: what keeps the shards one MMU (null with one vCPU). */
  private coherence: ShardCoherence | null = null;

  constructor(
    private readonly mem: GuestMemory,
    private readonly c: Costs,
    private readonly exits: VmExits,
    vcpus: readonly Vcpu[],
    stats: StatsRegistry,
    o: ShadowOptions,
  ) {
    this.discard = o.flavour === 'discard';
    this.fix = o.pinnedRootFix;
    this.cache = o.paravirt ? new Cr3CacheHost(c) : null;
    const local = o.local === undefined ? null : new Set(o.local);
    const pool = (id: number) => (local === null || local.has(id) ? o.mmuPages : Math.min(o.mmuPages, BOOT_POOL));
    this.cpus = vcpus.map((v) => new ShadowVcpu(v, new ShadowPages(pool(v.id), stats.vcpu(v.id).mmu)));
  }

  /** KVM's state of vCPU `v` (tests look at it). */
  state(v: Vcpu): ShadowVcpu {
    return this.cpus[v.id]!;
  }

  registerParaState(v: Vcpu, para: ParaState): void {
    this.cpus[v.id]!.para = para;
  }

  attachSmp(bus: RecordBus): void {
    this.coherence = new ShardCoherence(bus, this.mem, this.cpus, this.cache, this.cache !== null && this.fix === 'none', this.discard);
  }

  /** kvm_mmu_free_some_pages before work that may allocate shadow pages; returns the handler cycles it cost. */
  private makeRoom(s: ShadowVcpu): number {
    return s.pages.freeSomePages() * this.c.shadowPageZap;
  }

  /** The hash chains walked since the last charge, as handler cycles. */
  private probeCycles(s: ShadowVcpu): number {
    return s.pages.drainProbes() * this.c.hashProbe;
  }

  tlbMiss(v: Vcpu, vpn: number, write: boolean): void {
    const s = this.cpus[v.id]!;
    const pages = s.pages;
    let spte = pages.translate(s.roots, vpn);
    if (spte < 0 || (write && (spte & SPTE_WRITABLE) === 0)) {
      this.shadowPageFault(s, vpn, write);
      spte = pages.translate(s.roots, vpn);
    }
    // The hardware walk of the shadow tables, then the TLB fill.
    v.clock += this.c.tlbWalk;
    v.tlb.insert(vpn, (spte & SPTE_GLOBAL) !== 0);
  }

  /** EXCEPTION_NMI exit with #PF: paging32_page_fault builds the missing shadow entries. */
  private shadowPageFault(s: ShadowVcpu, vpn: number, write: boolean): void {
    const v = s.v;
    const pages = s.pages;
    pages.stat.shadowFaults++;
    const zapCycles = this.makeRoom(s);
    let handler = this.c.shadowFaultHandler + zapCycles;
    const pte = walk(this.mem, v.cr3, vpn, write);
    if (pte === 0) guestPageFault(v, vpn);
    const ptFrame = this.mem.readEntry(v.cr3, pdIndex(vpn)) >>> PAGE_SHIFT;
    // FNAME(fetch): the shadow table of the guest table's half that maps vpn.
    const half = ptHalf(vpn);
    let pt = pages.lookup(ptFrame, LEVEL_PT, half);
    if (pt < 0) {
      pt = pages.create(ptFrame, LEVEL_PT, half);
      handler += this.c.shadowPageAlloc;
    }
    pages.link(s.roots[rootQuadrant(vpn)]!, shadowPdIndex(vpn), pt);
    // A clean page is mapped read-only so that the first write traps and sets the guest dirty bit.
    const writable = (pte & PTE_RW) !== 0 && (write || (pte & PTE_D) !== 0);
    const global = (pte & PTE_G) !== 0;
    pages.setPte(pt, shadowPtIndex(vpn), makeSpte(pte >>> PAGE_SHIFT, writable, global), global);
    handler += this.probeCycles(s);
    this.exits.exit(v, EXCEPTION_NMI, handler, zapCycles > 0 ? FLUSH_ALL : FLUSH_NONE);
  }

  /** CR_ACCESS exit of a mov to cr3 that is not a CR3-target value: kvm_set_cr3 -> new_cr3. */
  loadCr3(v: Vcpu, pdFrame: number, _pcid = 0, _noflush = false): void {
    this.newRoots(v, pdFrame, false);
  }

  /**
   * A mov to cr4 that changes PGE exits (PGE is in KVM_GUEST_CR4_MASK) to set_cr4, which
   * calls kvm_mmu_reset_context (kvm_main.c, mmu.c of 2.6.20): mmu_free_roots and
   * init_kvm_mmu, whose mmu_alloc_roots loads the current cr3's root again. With the
   * paravirt patch mmu_free_roots advances cr3_cache_idx, so the root is cached again in
   * the next entry, as after a missed cr3 load.
   */
  writeCr4(v: Vcpu): void {
    this.newRoots(v, v.cr3, true);
  }

  /**
   * The CR_ACCESS exit that frees the roots and allocates those of `pdFrame` (paging_new_cr3).
   * What the guest expects of the TLB afterwards: its non-global entries gone after a cr3
   * load, all of them after a PGE change (`global`), all if shadow pages were zapped.
   */
  private newRoots(v: Vcpu, pdFrame: number, global: boolean): void {
    const s = this.cpus[v.id]!;
    const pages = s.pages;
    let handler = this.c.crAccessHandler;
    const roots = s.roots;
    // mmu_free_roots: the four roots' root_count dropped.
    for (let q = 0; q < 4; q++) if (roots[q]! >= 0) pages.unpin(roots[q]!);
    const zapBefore = pages.stat.pagesZapped;
    if (this.discard) handler += pages.releaseNonGlobal() * this.c.shadowPageZap;
    handler += this.makeRoom(s);
    const zapped = pages.stat.pagesZapped > zapBefore;
    // mmu_alloc_roots: the four PAE directories of the new cr3, by hash lookup, built if missing.
    const gfn = this.discard ? DISCARD_ROOT_GFN : pdFrame;
    for (let q = 0; q < 4; q++) {
      let root = pages.lookup(gfn, LEVEL_PD, q);
      if (root < 0) {
        root = pages.create(gfn, LEVEL_PD, q);
        handler += this.c.shadowPageAlloc;
      }
      pages.pin(root);
      roots[q] = root;
    }
    v.cr3 = pdFrame;
    if (this.cache !== null) handler += this.cache.fill(s, pdFrame, roots);
    handler += this.probeCycles(s);
    this.exits.exit(v, CR_ACCESS, handler, zapped || global ? FLUSH_ALL : FLUSH_USER);
  }

  loadCachedCr3(v: Vcpu, idx: number, pdFrame: number): void {
    this.cache!.load(this.cpus[v.id]!, idx, pdFrame);
  }

  /** mov from cr3 exits too (CPU_BASED_CR3_STORE_EXITING). */
  readCr3(v: Vcpu): void {
    this.exits.exit(v, CR_ACCESS, this.c.crAccessHandler);
  }

  /** A guest store to a page-table entry: a plain store, or (the frame shadowed here or elsewhere) a trap and its emulation. */
  ptWrite(v: Vcpu, frame: number, index: number): void {
    if (this.discard) {
      v.clock += this.c.ptWrite;
      return;
    }
    const s = this.cpus[v.id]!;
    const pages = s.pages;
    const coh = this.coherence;
    const others = coh !== null && coh.othersShadow(v.id, frame);
    if (!pages.isShadowed(frame) && !others) {
      v.clock += this.c.ptWrite;
      return;
    }
    let handler = this.c.ptWriteEmulate;
    if (this.cache !== null && this.fix === 'unpin-on-write') {
      // The fix: a write to a root pinned by the cr3 cache first drops it from every cache.
      const root = pages.find(frame, LEVEL_PD, 0);
      if (root >= 0 && pages.cachePinned(root)) handler += this.cache.drop(s, root);
      if (others) coh.sendDropRoot(s, frame);
    }
    const flooded = s.floods(frame);
    const zapped = pages.pteWrite(frame, index, flooded, this.cache !== null && this.fix === 'none');
    if (others) coh.sendPtWrite(s, frame, index, flooded);
    handler += this.probeCycles(s);
    this.exits.exit(v, EXCEPTION_NMI, handler + zapped * this.c.shadowPageZap, FLUSH_ALL);
  }

  ptWriteCycles(): number {
    return this.c.ptWrite;
  }

  isWriteProtected(v: Vcpu, frame: number): boolean {
    if (this.discard) return false;
    const coh = this.coherence;
    return this.cpus[v.id]!.pages.isShadowed(frame) || (coh !== null && coh.othersShadow(v.id, frame));
  }

  /** The other fix: pgd_free makes a hypercall, and the host forgets the directory's cache entries. */
  pgdFree(v: Vcpu, pdFrame: number): void {
    if (this.cache === null || this.fix !== 'hypercall') return;
    const s = this.cpus[v.id]!;
    const root = s.pages.find(pdFrame, LEVEL_PD, 0);
    const handler = this.c.pvHypercall + (root >= 0 ? this.cache.drop(s, root) : 0);
    this.coherence?.sendDropRoot(s, pdFrame);
    this.exits.exit(v, VMCALL, handler);
  }

  /** The 2007 modes run no workload that faults (config.ts refuses pagefault there). */
  guestFault(v: Vcpu, vpn: number): void {
    guestPageFault(v, vpn);
  }

  staleTranslations(v: Vcpu): number {
    // kvm-upstream's roots shadow whichever directory is loaded.
    return countStaleTranslations(this.cpus[v.id]!.pages, this.mem, this.discard ? () => v.cr3 : null);
  }

  invlpg(v: Vcpu, vpn: number): void {
    const s = this.cpus[v.id]!;
    if (this.discard && s.rootHpa >= 0) {
      const pt = s.pages.tableOf(s.roots, vpn);
      if (pt >= 0) s.pages.clearEntry(pt, shadowPtIndex(vpn));
    }
    this.exits.exit(v, INVLPG, this.c.invlpgHandler);
    if (!this.exits.exitFlush) v.tlb.invalidate(vpn);
  }
}
