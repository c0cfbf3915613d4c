/**
 * The shadow pages of one shard of KVM's MMU (mmu.c of early 2007: the pool, the hash,
 * the active list, parent links), as one vCPU builds them.
 *
 * Shadow pages live in a bounded pool (KVM_NUM_MMU_PAGES) and are found by a hash keyed
 * by guest frame and role (`hash`, here direct-indexed: kvm->mmu_page_hash). A guest
 * frame that is shadowed is write-protected: a guest write to it traps and is emulated
 * (`pteWrite`), which drops the stale shadow entry, or zaps the whole shadow page when
 * writes flood it (the fork detector). Entries are encoded as spte.ts says. Two
 * behaviours of the same structure: 'cached' (kvm-trunk) keeps shadow pages across cr3
 * loads; 'discard' (kvm-upstream) empties the pool on every one (zapAll, a virtual TLB).
 *
 * With several vCPUs each has its own shard (see coherence.ts); the counters go to the
 * vCPU's `mmu` statistics.
 */
import { pdIndex, ptIndex } from '../../../machine/paging.js';
import { PageHash } from './page-hash.js';
import { newGroup, type MmuStats } from '../../../../shared/stats.js';
import { doubled } from '../../../../shared/doubled.js';
import { LEVEL_PD, LEVEL_PT, SPTE_ENTRIES as ENTRIES, SPTE_NONE as NONE } from './spte.js';

/** Entries per block (64): a page's entries are held a block at a time. */
const BLOCK_SHIFT = 6;
const BLOCK_MASK = (1 << BLOCK_SHIFT) - 1;
const BLOCKS_PER_PAGE = ENTRIES >> BLOCK_SHIFT;
/** Blocks per chunk of storage (64 x 256 bytes = 16 KiB). */
const CHUNK_SHIFT = 6;
const CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;

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
  /** Pins: vCPUs using the page as their root, and cr3-cache entries holding it. */
  readonly rootCount: Int32Array;
  /** The part of rootCount that comes from cr3-cache entries (kvm-paravirt). */
  private readonly cachePins: Int32Array;
  /**
   * Block of each 64-entry part of each page, -1 while the part holds no entry: a shadow
   * page, like the guest table it shadows, uses few of its 1,024 entries, so only the
   * parts written hold words (in `chunks`, added as needed, never copied).
   */
  private readonly blockOf: Int32Array;
  private readonly chunks: Int32Array[] = [];
  private nBlocks = 0;
  private freeBlocks = new Int32Array(16);
  private nFreeBlocks = 0;
  /** Entries that may be present, per page (stale ones are skipped), to clear only what is used. */
  private readonly presentList: (number[] | undefined)[];
  private readonly presentCount: Int32Array;
  /** Parent links of each page: parentPage * 1024 + index (KVM's parent_pte), the first parentCount of each list. */
  private readonly parents: (number[] | undefined)[];
  private readonly parentCount: Int32Array;
  /** (gfn, level) -> shadow page, -1 if none: KVM's mmu_page_hash, sized by the pool (page-hash.ts). */
  private readonly hash: PageHash;
  /** active_mmu_pages: a list, newest at head; eviction takes the tail. */
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private head = NONE;
  private tail = NONE;
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
    this.rootCount = new Int32Array(capacity);
    this.cachePins = new Int32Array(capacity);
    this.blockOf = new Int32Array(capacity * BLOCKS_PER_PAGE).fill(NONE);
    this.presentList = new Array<number[] | undefined>(capacity); // made at a page's first entry
    this.presentCount = new Int32Array(capacity);
    this.parents = new Array<number[] | undefined>(capacity); // made at a page's first parent
    this.parentCount = new Int32Array(capacity);
    this.hash = new PageHash(capacity);
    this.prev = new Int32Array(capacity).fill(NONE);
    this.next = new Int32Array(capacity).fill(NONE);
    this.freeStack = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeStack[i] = capacity - 1 - i;
    this.nFree = capacity;
  }

  /** Entry `at` (page * 1024 + index) of the shard's pages. */
  entry(at: number): number {
    const b = this.blockOf[at >>> BLOCK_SHIFT]!;
    return b < 0 ? NONE : this.chunks[b >>> CHUNK_SHIFT]![((b & CHUNK_MASK) << BLOCK_SHIFT) | (at & BLOCK_MASK)]!;
  }

  private put(at: number, value: number): void {
    let b = this.blockOf[at >>> BLOCK_SHIFT]!;
    if (b < 0) {
      if (value === NONE) return;
      b = this.blockOf[at >>> BLOCK_SHIFT] = this.takeBlock();
    }
    this.chunks[b >>> CHUNK_SHIFT]![((b & CHUNK_MASK) << BLOCK_SHIFT) | (at & BLOCK_MASK)] = value;
  }

  /** A block of NONE entries. */
  private takeBlock(): number {
    if (this.nFreeBlocks > 0) return this.freeBlocks[--this.nFreeBlocks]!;
    const b = this.nBlocks++;
    if (b >>> CHUNK_SHIFT === this.chunks.length) this.chunks.push(new Int32Array(1 << (CHUNK_SHIFT + BLOCK_SHIFT)).fill(NONE));
    return b;
  }

  /** Page `sp` holds no entry any more: its blocks go back (as NONE). */
  private releaseBlocks(sp: number): void {
    const at = sp * BLOCKS_PER_PAGE;
    for (let i = 0; i < BLOCKS_PER_PAGE; i++) {
      const b = this.blockOf[at + i]!;
      if (b < 0) continue;
      const base = (b & CHUNK_MASK) << BLOCK_SHIFT;
      this.chunks[b >>> CHUNK_SHIFT]!.fill(NONE, base, base + BLOCK_MASK + 1);
      this.blockOf[at + i] = NONE;
      if (this.nFreeBlocks === this.freeBlocks.length) this.freeBlocks = doubled(this.freeBlocks);
      this.freeBlocks[this.nFreeBlocks++] = b;
    }
  }

  get freePages(): number {
    return this.nFree;
  }

  get usedPages(): number {
    return this.capacity - this.nFree;
  }

  lookup(gfn: number, level: number): number {
    return this.hash.get(gfn * 2 + level - 1);
  }

  /** Is guest frame `gfn` shadowed at any level, hence write-protected? */
  isShadowed(gfn: number): boolean {
    return this.hash.get(gfn * 2) >= 0 || this.hash.get(gfn * 2 + 1) >= 0;
  }

  /**
   * kvm_mmu_get_page's allocation, when lookup() found no shadow page for (gfn, level): a
   * free page takes the role, enters the hash and the head of the active list.
   */
  create(gfn: number, level: number): number {
    const key = gfn * 2 + level - 1;
    if (this.nFree === 0) {
      throw new ShadowPoolExhausted(`shadow page pool of ${this.capacity} pages exhausted: every page is pinned`);
    }
    const sp = this.freeStack[--this.nFree]!;
    this.gfn[sp] = gfn;
    this.level[sp] = level;
    this.rootCount[sp] = 0;
    this.cachePins[sp] = 0;
    this.presentCount[sp] = 0;
    this.hash.set(key, sp);
    if (this.frameUse !== null) this.frameUse[gfn]!++;
    if (this.trackChanges) this.noteChanged(gfn);
    this.pushHead(sp);
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

  /** The hardware walk of shadow tables from `root`: the level-1 spte for `vpn`, or -1. */
  translate(root: number, vpn: number): number {
    const child = this.entry(root * ENTRIES + pdIndex(vpn));
    if (child < 0) return NONE;
    return this.entry(child * ENTRIES + ptIndex(vpn));
  }

  /** The page table page directory page `pd`'s entry `index` points at, or -1. */
  childOf(pd: number, index: number): number {
    return this.entry(pd * ENTRIES + index);
  }

  /** Point entry `index` of directory page `pd` at page table page `pt`. */
  link(pd: number, index: number, pt: number): void {
    const at = pd * ENTRIES + index;
    const old = this.entry(at);
    if (old === pt) return;
    if (old >= 0) this.removeParent(old, pd * ENTRIES + index);
    this.put(at, pt);
    this.notePresent(pd, index);
    (this.parents[pt] ??= [])[this.parentCount[pt]!++] = pd * ENTRIES + index;
  }

  /** Set level-1 entry `index` of `pt`. */
  setPte(pt: number, index: number, value: number): void {
    const at = pt * ENTRIES + index;
    if (this.entry(at) < 0) this.notePresent(pt, index);
    this.put(at, value);
  }

  /** Drop one entry of a shadow page (either level). */
  clearEntry(sp: number, index: number): void {
    const at = sp * ENTRIES + index;
    const old = this.entry(at);
    if (old < 0) return;
    if (this.level[sp] === LEVEL_PD) this.removeParent(old, at);
    this.put(at, NONE);
  }

  /**
   * kvm_mmu_zap_page: unlink from parents, unlink children, free. A pinned page (a root
   * in use or held by the cr3 cache) cannot be freed: it keeps its hash entry, loses
   * its children and moves to the head of the active list.
   */
  zap(sp: number): void {
    const ps = this.parents[sp];
    const n = this.parentCount[sp]!;
    for (let i = 0; i < n; i++) this.put(ps![i]!, NONE);
    this.parentCount[sp] = 0;
    this.clearAll(sp);
    this.stat.pagesZapped++;
    if (this.rootCount[sp] === 0) this.free(sp);
    else {
      this.unlinkList(sp);
      this.pushHead(sp);
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
    while (this.nFree < KVM_REFILL_PAGES && this.tail !== NONE && budget-- > 0) {
      const sp = this.tail;
      const wasFree = this.rootCount[sp] === 0;
      this.zap(sp);
      if (wasFree) this.stat.pagesEvicted++;
      zapped++;
    }
    return zapped;
  }

  /** The 'discard' behaviour: every shadow page goes (pins are dropped by the caller first). */
  zapAll(): number {
    let n = 0;
    while (this.head !== NONE) {
      const sp = this.head;
      this.parentCount[sp] = 0;
      this.clearAll(sp);
      this.rootCount[sp] = 0;
      this.free(sp);
      n++;
    }
    this.stat.pagesZapped += n;
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

  private applyPteWrite(gfn: number, index: number, flooded: boolean, skipCachePinned: boolean): number {
    let zapped = 0;
    for (let level = LEVEL_PT; level <= LEVEL_PD; level++) {
      const sp = this.hash.get(gfn * 2 + level - 1);
      if (sp < 0) continue;
      // The posted patch: a root pinned by the cr3 cache cannot be zapped, and is left as it is.
      if (skipCachePinned && this.cachePins[sp]! > 0) continue;
      if (flooded) {
        this.zap(sp);
        zapped++;
      } else this.clearEntry(sp, index);
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
      this.put(at, NONE);
    }
    this.presentCount[sp] = 0;
    this.releaseBlocks(sp);
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
    if (this.trackChanges) this.noteChanged(this.gfn[sp]!);
    this.hash.delete(this.gfn[sp]! * 2 + this.level[sp]! - 1);
    if (this.frameUse !== null) this.frameUse[this.gfn[sp]!]!--;
    this.gfn[sp] = NONE;
    this.unlinkList(sp);
    this.freeStack[this.nFree++] = sp;
  }

  private pushHead(sp: number): void {
    this.prev[sp] = NONE;
    this.next[sp] = this.head;
    if (this.head !== NONE) this.prev[this.head] = sp;
    this.head = sp;
    if (this.tail === NONE) this.tail = sp;
  }

  private unlinkList(sp: number): void {
    const p = this.prev[sp]!;
    const n = this.next[sp]!;
    if (p !== NONE) this.next[p] = n;
    else this.head = n;
    if (n !== NONE) this.prev[n] = p;
    else this.tail = p;
    this.prev[sp] = NONE;
    this.next[sp] = NONE;
  }
}
