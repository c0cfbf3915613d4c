/**
 * The shadow pages of one shard of KVM's MMU (drivers/kvm/mmu.c of 2.6.20: the pool, the
 * hash, the active list, parent links), as one vCPU builds them. A bounded pool
 * (KVM_NUM_MMU_PAGES), found by a hash keyed by guest frame and role (level, quadrant:
 * spte.ts) with as many buckets as the pool has pages (`gfn % KVM_NUM_MMU_PAGES`); the model
 * keeps the map in a table of its own and counts the chain entries a lookup walks
 * (`probes`), which the handlers charge. A shadowed guest frame is write-protected: a write
 * traps and is emulated (`pteWrite`), dropping the stale shadow entries, or zapping every
 * shadow page of the frame when writes flood it. The active list is FIFO by creation: a
 * hash hit moves nothing; eviction takes the tail; a zapped root goes back to the head.
 * 'cached' (kvm-trunk) keeps shadow pages across cr3 loads; 'discard' (kvm-upstream, before
 * the caching series) releases at every cr3 load every table that maps anything not global
 * (releaseNonGlobal: kvm-2's kvm_mmu_flush_tlb skips `page->global` pages). With several
 * vCPUs each has its own shard (coherence.ts); counters go to the vCPU's `mmu` statistics.
 */
import { PageHash } from './page-hash.js';
import { SpteBlocks } from '../spte-blocks.js';
import { ActiveList } from '../active-list.js';
import { newGroup, type MmuStats } from '../../../../shared/stats.js';
import { doubled } from '../../../../shared/doubled.js';
import { LEVEL_PD, LEVEL_PT, SPTE_ENTRIES as ENTRIES, SPTE_NONE as NONE, rootQuadrant, shadowPdIndex, shadowPtIndex } from './spte.js';

/** The hash key of a role: the frame, and its level's quadrant (4..7 a directory's, 0..1 a page table's). */
const keyOf = (gfn: number, level: number, quadrant: number): number => gfn * 8 + (level === LEVEL_PD ? 4 : 0) + quadrant;

/** KVM_MIN_FREE_MMU_PAGES and KVM_REFILL_PAGES of early-2007 KVM (kvm.h). */
export const KVM_MIN_FREE_MMU_PAGES = 5;
export const KVM_REFILL_PAGES = 25;
/** KVM_NUM_MMU_PAGES of early-2007 KVM (kvm.h). */
export const KVM_NUM_MMU_PAGES = 256;

export class ShadowPoolExhausted extends Error {
  readonly code = 'ESHADOWPOOL';
}

export class ShadowPages {
  readonly capacity: number;
  /** Guest frame shadowed by each shadow page, or -1 if the page is free. */
  readonly gfn: Int32Array;
  readonly level: Uint8Array;
  /** role.quadrant: a directory's 1 GiB (0..3), a page table's 2 MiB half (0..1). */
  readonly quadrant: Uint8Array;
  /** Every entry set in the page was global (a kernel page table; kvm-2's `page->global`). */
  readonly allGlobal: Uint8Array;
  /** Pins: vCPUs using the page as their root, and cr3-cache entries holding it. */
  readonly rootCount: Int32Array;
  /** The part of rootCount that comes from cr3-cache entries (kvm-paravirt). */
  private readonly cachePins: Int32Array;
  /** The pages' entries (spte-blocks.ts). */
  private readonly entries: SpteBlocks;
  /** Entries that may be present, per page (stale ones are skipped), to clear only what is used. */
  private readonly presentList: (number[] | undefined)[];
  private readonly presentCount: Int32Array;
  /** Parent links of each page: parentPage * 1024 + index (KVM's parent_pte), the first parentCount of each list. */
  private readonly parents: (number[] | undefined)[];
  private readonly parentCount: Int32Array;
  /** (gfn, level, quadrant) -> shadow page, -1 if none: KVM's mmu_page_hash, sized by the pool (page-hash.ts). */
  private readonly hash: PageHash;
  /** Shadow pages of each guest frame (any role): is it write-protected? */
  private readonly ofGfn: PageHash;
  /** Pages in each of mmu_page_hash's chains (bucket gfn % capacity). */
  private readonly chain: Int32Array;
  /** Chain entries walked by lookups since the handler last charged them (drainProbes). */
  probes = 0;
  /** active_mmu_pages (active-list.ts). */
  private readonly active: ActiveList;
  private readonly freeStack: Int32Array;
  private nFree: number;

  /** Faults, pages created, zapped and evicted, writes emulated (shared with the checker's counts). */
  readonly stat: MmuStats;
  /** With several vCPUs: guest frames whose shadowing may have changed since clearChanged() (a shard tells the others). */
  changedGfns = new Int32Array(0);
  nChanged = 0;
  /** Note changed frames (several vCPUs). A frame may be noted twice in a quantum: the publisher skips what it already told. */
  private trackChanges = false;
  /** With several vCPUs: shadow pages of each guest frame over the shards this replica runs (shared by them; coherence.ts). */
  frameUse: Uint16Array | null = null;

  constructor(capacity: number, stat: MmuStats = newGroup('mmu')) {
    this.capacity = capacity;
    this.stat = stat;
    this.gfn = new Int32Array(capacity).fill(NONE);
    this.level = new Uint8Array(capacity);
    this.quadrant = new Uint8Array(capacity);
    this.allGlobal = new Uint8Array(capacity);
    this.rootCount = new Int32Array(capacity);
    this.cachePins = new Int32Array(capacity);
    this.entries = new SpteBlocks(capacity, ENTRIES);
    this.presentList = new Array<number[] | undefined>(capacity); // made at a page's first entry
    this.presentCount = new Int32Array(capacity);
    this.parents = new Array<number[] | undefined>(capacity); // made at a page's first parent
    this.parentCount = new Int32Array(capacity);
    this.hash = new PageHash(capacity);
    this.ofGfn = new PageHash(capacity);
    this.chain = new Int32Array(Math.max(1, capacity));
    this.active = new ActiveList(capacity);
    this.freeStack = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeStack[i] = capacity - 1 - i;
    this.nFree = capacity;
  }

  /** Entry `at` (page * 1024 + index) of the shard's pages. */
  entry(at: number): number {
    return this.entries.get(at);
  }

  get freePages(): number {
    return this.nFree;
  }

  get usedPages(): number {
    return this.capacity - this.nFree;
  }

  /**
   * kvm_mmu_get_page's search of `gfn`'s bucket for the role (level, quadrant): the page,
   * or -1. The chain entries walked are counted: the whole chain for a miss, half of it
   * (the expected position) for a hit.
   */
  lookup(gfn: number, level: number, quadrant: number): number {
    const sp = this.hash.get(keyOf(gfn, level, quadrant));
    const n = this.capacity > 0 ? this.chain[gfn % this.capacity]! : 0;
    this.probes += sp < 0 ? n : (n + 1) / 2;
    return sp;
  }

  /** The same, without walking a chain (the model's own bookkeeping). */
  find(gfn: number, level: number, quadrant: number): number {
    return this.hash.get(keyOf(gfn, level, quadrant));
  }

  /** The chain entries walked since the last call (for the handler to charge). */
  drainProbes(): number {
    const p = this.probes;
    this.probes = 0;
    return p;
  }

  /** Is guest frame `gfn` shadowed at any level, hence write-protected? */
  isShadowed(gfn: number): boolean {
    return this.ofGfn.get(gfn) > 0;
  }

  /**
   * kvm_mmu_get_page's allocation, when lookup() found no shadow page for (gfn, level): a
   * free page takes the role, enters the hash and the head of the active list.
   */
  create(gfn: number, level: number, quadrant: number): number {
    const key = keyOf(gfn, level, quadrant);
    if (this.nFree === 0) {
      throw new ShadowPoolExhausted(`shadow page pool of ${this.capacity} pages exhausted: every page is pinned`);
    }
    const sp = this.freeStack[--this.nFree]!;
    this.gfn[sp] = gfn;
    this.level[sp] = level;
    this.quadrant[sp] = quadrant;
    this.allGlobal[sp] = 1;
    this.rootCount[sp] = 0;
    this.cachePins[sp] = 0;
    this.presentCount[sp] = 0;
    this.hash.set(key, sp);
    this.ofGfn.set(gfn, Math.max(0, this.ofGfn.get(gfn)) + 1);
    if (this.capacity > 0) this.chain[gfn % this.capacity]!++;
    if (this.frameUse !== null) this.frameUse[gfn]!++;
    if (this.trackChanges) this.noteChanged(gfn);
    this.active.pushHead(sp);
    this.stat.pagesCreated++;
    return sp;
  }

  pin(sp: number): void {
    this.rootCount[sp]!++;
  }

  /** A cr3-cache entry holds `sp` as its host_cr3: one pin more, counted as the cache's. */
  pinForCache(sp: number): void {
    this.rootCount[sp]!++;
    this.cachePins[sp]!++;
  }

  /** A cr3-cache entry let go of `sp`. */
  unpinForCache(sp: number): void {
    this.unpin(sp);
    this.cachePins[sp]!--;
  }

  /** Does a cr3-cache entry hold `sp`? */
  cachePinned(sp: number): boolean {
    return this.cachePins[sp]! > 0;
  }

  unpin(sp: number): void {
    if (this.rootCount[sp]! <= 0) throw new Error(`unpin of shadow page ${sp} that is not pinned`);
    this.rootCount[sp]!--;
  }

  /** The hardware walk of the PAE shadow from the four roots `roots`: the level-1 spte for `vpn`, or -1. */
  translate(roots: Int32Array, vpn: number): number {
    const root = roots[rootQuadrant(vpn)]!;
    if (root < 0) return NONE;
    const child = this.entry(root * ENTRIES + shadowPdIndex(vpn));
    if (child < 0) return NONE;
    return this.entry(child * ENTRIES + shadowPtIndex(vpn));
  }

  /** The shadow page table that maps `vpn` under the roots `roots`, or -1. */
  tableOf(roots: Int32Array, vpn: number): number {
    const root = roots[rootQuadrant(vpn)]!;
    return root < 0 ? NONE : this.entry(root * ENTRIES + shadowPdIndex(vpn));
  }

  /** Point entry `index` of directory page `pd` at page table page `pt`. */
  link(pd: number, index: number, pt: number): void {
    const at = pd * ENTRIES + index;
    const old = this.entry(at);
    if (old === pt) return;
    if (old >= 0) this.removeParent(old, pd * ENTRIES + index);
    this.entries.set(at, pt);
    this.notePresent(pd, index);
    (this.parents[pt] ??= [])[this.parentCount[pt]!++] = pd * ENTRIES + index;
  }

  /** Set level-1 entry `index` of `pt` (a non-global one makes the page not all-global). */
  setPte(pt: number, index: number, value: number, global: boolean): void {
    const at = pt * ENTRIES + index;
    if (this.entry(at) < 0) this.notePresent(pt, index);
    this.entries.set(at, value);
    if (!global) this.allGlobal[pt] = 0;
  }

  /** Drop one entry of a shadow page (either level). */
  clearEntry(sp: number, index: number): void {
    const at = sp * ENTRIES + index;
    const old = this.entry(at);
    if (old < 0) return;
    if (this.level[sp] === LEVEL_PD) this.removeParent(old, at);
    this.entries.set(at, NONE);
  }

  /**
   * kvm_mmu_zap_page: unlink from parents, unlink children, free. A pinned page (a root
   * in use or held by the cr3 cache) cannot be freed: it keeps its hash entry, loses
   * its children and moves to the head of the active list.
   */
  zap(sp: number): void {
    const ps = this.parents[sp];
    const n = this.parentCount[sp]!;
    for (let i = 0; i < n; i++) this.entries.set(ps![i]!, NONE);
    this.parentCount[sp] = 0;
    this.clearAll(sp);
    this.stat.pagesZapped++;
    if (this.rootCount[sp] === 0) this.free(sp);
    else {
      this.active.unlink(sp);
      this.active.pushHead(sp);
    }
  }

  /**
   * kvm_mmu_free_some_pages: when fewer than KVM_MIN_FREE_MMU_PAGES are free, zap from the
   * tail of the active list until KVM_REFILL_PAGES are. Returns how many pages were zapped.
   */
  freeSomePages(): number {
    if (this.nFree >= KVM_MIN_FREE_MMU_PAGES) return 0;
    let zapped = 0;
    let budget = this.capacity;
    while (this.nFree < KVM_REFILL_PAGES && this.active.tail !== NONE && budget-- > 0) {
      const sp = this.active.tail;
      const wasFree = this.rootCount[sp] === 0;
      this.zap(sp);
      if (wasFree) this.stat.pagesEvicted++;
      zapped++;
    }
    return zapped;
  }

  /**
   * The 'discard' behaviour at a cr3 load (kvm-2's kvm_mmu_flush_tlb): every shadow page
   * table that maps something not global is released, its parent entries cleared; the
   * kernel's all-global tables and the roots stay. Returns how many were released.
   */
  releaseNonGlobal(): number {
    let n = 0;
    let sp = this.active.head;
    while (sp !== NONE) {
      const next = this.active.next[sp]!;
      if (this.level[sp] === LEVEL_PT && this.allGlobal[sp] === 0 && this.rootCount[sp] === 0) {
        this.zap(sp);
        n++;
      }
      sp = next;
    }
    return n;
  }

  /**
   * kvm_mmu_pte_write: the guest wrote entry `index` of its page-table frame `gfn` and the
   * write trapped. Drops the shadow entry derived from the old value, or, when the writing
   * vCPU's detector found the writes `flooded` (shadow-vcpu.ts), zaps the frame's shadow
   * pages. With `skipCachePinned`, shadow pages pinned by the cr3 cache are left untouched
   * (the hazard of the posted paravirt patch). Returns how many shadow pages were zapped.
   */
  pteWrite(gfn: number, index: number, flooded: boolean, skipCachePinned = false): number {
    this.stat.ptWritesEmulated++;
    return this.applyPteWrite(gfn, index, flooded, skipCachePinned);
  }

  /**
   * Another vCPU's emulated write to frame `gfn` (its detector decided `flooded`): the
   * same drop or zap in this shard. Returns whether a shadow page of the frame was here.
   */
  remotePteWrite(gfn: number, index: number, flooded: boolean, skipCachePinned: boolean): boolean {
    if (!this.isShadowed(gfn)) return false;
    this.applyPteWrite(gfn, index, flooded, skipCachePinned);
    return true;
  }

  /**
   * kvm_mmu_pre_write for guest entry `index` (0..1023) of `gfn`: it walks the frame's
   * bucket and visits every shadow page of the frame, all quadrants and levels; flooded, it
   * zaps each; else it drops the shadow entries the write made stale: the guest PTE's in
   * its half's table, or the two shadow PDEs of a guest PDE in its quadrant's directory.
   * (2.6.20 itself cleared entry index & 511 in every page of the frame, right only for a
   * PTE; the fixes are the -rt tree's two-PDE drop and fce0657ff9f1's quadrant filter. The
   * model drops what the write made stale, so that the guest's translations stay correct,
   * as the published runs' did.)
   */
  private applyPteWrite(gfn: number, index: number, flooded: boolean, skipCachePinned: boolean): number {
    let zapped = 0;
    if (this.capacity > 0) this.probes += this.chain[gfn % this.capacity]!;
    for (let k = 0; k < 8; k++) {
      if (k === 2 || k === 3) continue; // page tables have two quadrants
      const sp = this.hash.get(gfn * 8 + k);
      if (sp < 0) continue;
      // The posted patch: a root pinned by the cr3 cache cannot be zapped, and is left as it is.
      if (skipCachePinned && this.cachePins[sp]! > 0) continue;
      if (flooded) {
        this.zap(sp);
        zapped++;
      } else if (this.level[sp] === LEVEL_PT) {
        if (this.quadrant[sp] === index >>> 9) this.clearEntry(sp, index & (ENTRIES - 1));
      } else if (this.quadrant[sp] === index >>> 8) {
        this.clearEntry(sp, (index & 255) << 1);
        this.clearEntry(sp, ((index & 255) << 1) | 1);
      }
    }
    return zapped;
  }

  /** Shadow pages in use at level `level` (for the checker). */
  *pagesAt(level: number): Generator<number> {
    for (let sp = 0; sp < this.capacity; sp++) if (this.gfn[sp]! >= 0 && this.level[sp] === level) yield sp;
  }

  /** Start noting which guest frames begin or stop being shadowed. */
  trackShadowed(): void {
    this.trackChanges = true;
    this.changedGfns = new Int32Array(64);
    this.nChanged = 0;
  }

  clearChanged(): void {
    this.nChanged = 0;
  }

  private noteChanged(gfn: number): void {
    if (this.nChanged === this.changedGfns.length) this.changedGfns = doubled(this.changedGfns);
    this.changedGfns[this.nChanged++] = gfn;
  }

  private notePresent(sp: number, index: number): void {
    let n = this.presentCount[sp]!;
    if (n === ENTRIES) n = this.compactPresent(sp);
    (this.presentList[sp] ??= [])[n] = index;
    this.presentCount[sp] = n + 1;
  }

  /** Rebuild a page's present list from its entries (when stale entries filled it up). */
  private compactPresent(sp: number): number {
    let n = 0;
    const base = sp * ENTRIES;
    const list = this.presentList[sp]!;
    for (let i = 0; i < ENTRIES; i++) if (this.entry(base + i) >= 0) list[n++] = i;
    this.presentCount[sp] = n;
    return n;
  }

  private clearAll(sp: number): void {
    const base = sp * ENTRIES;
    const n = this.presentCount[sp]!;
    const isPd = this.level[sp] === LEVEL_PD;
    const list = this.presentList[sp];
    for (let i = 0; i < n; i++) {
      const at = base + list![i]!;
      const e = this.entry(at);
      if (e < 0) continue;
      if (isPd) this.removeParent(e, at);
      this.entries.set(at, NONE);
    }
    this.presentCount[sp] = 0;
    this.entries.release(sp);
  }

  private removeParent(child: number, link: number): void {
    const ps = this.parents[child];
    const n = this.parentCount[child]!;
    for (let i = n - 1; i >= 0; i--) {
      if (ps![i] !== link) continue;
      ps![i] = ps![n - 1]!;
      this.parentCount[child] = n - 1;
      return;
    }
  }

  private free(sp: number): void {
    const gfn = this.gfn[sp]!;
    if (this.trackChanges) this.noteChanged(gfn);
    this.hash.delete(keyOf(gfn, this.level[sp]!, this.quadrant[sp]!));
    const left = this.ofGfn.get(gfn) - 1;
    if (left > 0) this.ofGfn.set(gfn, left);
    else this.ofGfn.delete(gfn);
    if (this.capacity > 0) this.chain[gfn % this.capacity]!--;
    if (this.frameUse !== null) this.frameUse[gfn]!--;
    this.gfn[sp] = NONE;
    this.active.unlink(sp);
    this.freeStack[this.nFree++] = sp;
  }
}
