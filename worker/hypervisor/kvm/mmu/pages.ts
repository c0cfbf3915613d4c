/**
 * The shadow pages of KVM's shadow MMU of today for a 64-bit guest (arch/x86/kvm/mmu/
 * mmu.c, mmu_internal.h: struct kvm_mmu_page): each shadows one guest page table at one
 * level (its role: level 4, the PML4, a root when a cr3 points at it, down to level 1),
 * 512 entries. They are found in a hash by (gfn, level) (kvm_mmu_find_shadow_page); a
 * root's root_count says how many vCPU roots hold it (the current one and the cached
 * previous ones): a page with root_count 0 stays hashed, with its children, until it is
 * zapped. A page is zapped by write flooding (three emulated writes to it with no use of
 * it between: detect_write_flooding), by reclaim when fewer than KVM_MIN_FREE_MMU_PAGES
 * are free (kvm_mmu_zap_oldest_mmu_pages, oldest first, skipping roots in use, until
 * KVM_REFILL_PAGES are), or when the guest reuses its frame as a table of another level.
 * Zapping a root in use marks it invalid (role.invalid): it can no longer be switched to,
 * and is freed once no vCPU holds it (KVM_REQ_MMU_FREE_OBSOLETE_ROOTS). KVM does not zap
 * children recursively: they are unlinked and stay.
 *
 * A guest frame shadowed at level 2 or above is write-tracked (every store to it is
 * emulated: account_shadowed); one shadowed at level 1 only is write-protected until its
 * first store makes its pages unsync (mmu_try_to_unsync_pages), after which the guest
 * writes it freely until the next sync re-reads it (kvm_sync_page).
 *
 * Entries: -1 not present; at levels 2..4 the child page; at level 1 (frame << 1) |
 * writable. KVM never sets the global bit in a shadow PTE.
 */
import { newGroup, type MmuStats } from '../../../../shared/stats.js';
import { PageHash } from '../shadow/page-hash.js';
import { SpteBlocks } from '../spte-blocks.js';
import { ActiveList } from '../active-list.js';

export const ENTRIES = 512;
export const NONE = -1;
/** KVM_MIN_FREE_MMU_PAGES, KVM_REFILL_PAGES (arch/x86/include/asm/kvm_host.h). */
export const KVM_MIN_FREE_MMU_PAGES = 5;
export const KVM_REFILL_PAGES = 25;

export const SPTE_WRITABLE = 1;
export const makeSpte = (frame: number, writable: boolean): number => (frame << 1) | (writable ? SPTE_WRITABLE : 0);
export const spteFrame = (e: number): number => e >>> 1;

export class ShadowPages64 {
  readonly capacity: number;
  /** Guest frame of each page, -1 if free. */
  readonly gfn: Int32Array;
  readonly level: Uint8Array;
  readonly rootCount: Int32Array;
  /** role.invalid: zapped while a root held it. */
  readonly invalid: Uint8Array;
  /** sp->unsync (level-1 pages). */
  readonly unsync: Uint8Array;
  /** sp->write_flooding_count. */
  readonly flooding: Uint8Array;
  /** The pages' entries (spte-blocks.ts). */
  private readonly entries: SpteBlocks;
  /** Indices of entries that may be present, per page (to clear only what is used). */
  private readonly present: (number[] | undefined)[];
  private readonly presentCount: Int32Array;
  /** parent_ptes: parent * 512 + index. */
  private readonly parents: (number[] | undefined)[];
  private readonly parentCount: Int32Array;
  private readonly hash: PageHash;
  /** active_mmu_pages (active-list.ts). */
  private readonly active: ActiveList;
  private readonly freeStack: Int32Array;
  private nFree: number;
  /** Pages that are unsync, per guest frame count (is the frame written freely?). */
  private readonly unsyncOf = new Map<number, number>();
  readonly stat: MmuStats;

  constructor(capacity: number, stat: MmuStats = newGroup('mmu')) {
    this.capacity = capacity;
    this.stat = stat;
    this.gfn = new Int32Array(capacity).fill(NONE);
    this.level = new Uint8Array(capacity);
    this.rootCount = new Int32Array(capacity);
    this.invalid = new Uint8Array(capacity);
    this.unsync = new Uint8Array(capacity);
    this.flooding = new Uint8Array(capacity);
    this.entries = new SpteBlocks(capacity, ENTRIES);
    this.present = new Array<number[] | undefined>(capacity);
    this.presentCount = new Int32Array(capacity);
    this.parents = new Array<number[] | undefined>(capacity);
    this.parentCount = new Int32Array(capacity);
    this.hash = new PageHash(capacity);
    this.active = new ActiveList(capacity);
    this.freeStack = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeStack[i] = capacity - 1 - i;
    this.nFree = capacity;
  }

  get freePages(): number {
    return this.nFree;
  }

  entry(sp: number, index: number): number {
    return this.entries.get(sp * ENTRIES + index);
  }

  /** kvm_mmu_find_shadow_page: the valid page shadowing `gfn` at `level`, or -1. */
  lookup(gfn: number, level: number): number {
    return this.hash.get(gfn * 4 + level - 1);
  }

  /** Is `gfn` write-tracked (shadowed at level 2 or above: every store emulated)? */
  isTracked(gfn: number): boolean {
    return this.lookup(gfn, 2) >= 0 || this.lookup(gfn, 3) >= 0 || this.lookup(gfn, 4) >= 0;
  }

  /** Is `gfn` shadowed at level 1 (its stores fault unless its page is unsync)? */
  leafOf(gfn: number): number {
    return this.lookup(gfn, 1);
  }

  /** Are `gfn`'s level-1 pages unsync (its stores go through)? */
  isUnsync(gfn: number): boolean {
    return (this.unsyncOf.get(gfn) ?? 0) > 0;
  }

  /** kvm_mmu_alloc_shadow_page for (gfn, level), at the head of the active list. */
  create(gfn: number, level: number): number {
    if (this.nFree === 0) throw new Error(`shadow page pool of ${this.capacity} pages exhausted: every page is a root in use`);
    const sp = this.freeStack[--this.nFree]!;
    this.gfn[sp] = gfn;
    this.level[sp] = level;
    this.rootCount[sp] = 0;
    this.invalid[sp] = 0;
    this.unsync[sp] = 0;
    this.flooding[sp] = 0;
    this.presentCount[sp] = 0;
    this.hash.set(gfn * 4 + level - 1, sp);
    this.active.pushHead(sp);
    this.stat.pagesCreated++;
    return sp;
  }

  /** The hardware walk of shadow tables from `root`: the level-1 entry for the 4 indices, or -1. */
  translate(root: number, i4: number, i3: number, i2: number, i1: number): number {
    let sp = this.entry(root, i4);
    if (sp < 0) return NONE;
    sp = this.entry(sp, i3);
    if (sp < 0) return NONE;
    sp = this.entry(sp, i2);
    if (sp < 0) return NONE;
    return this.entry(sp, i1);
  }

  /** Point entry `index` of `parent` at `child`. */
  link(parent: number, index: number, child: number): void {
    const at = parent * ENTRIES + index;
    const old = this.entry(parent, index);
    if (old === child) return;
    if (old >= 0) this.removeParent(old, at);
    else this.notePresent(parent, index);
    this.entries.set(at, child);
    (this.parents[child] ??= [])[this.parentCount[child]!++] = at;
  }

  setPte(sp: number, index: number, value: number): void {
    if (this.entry(sp, index) < 0) this.notePresent(sp, index);
    this.entries.set(sp * ENTRIES + index, value);
  }

  /** Drop entry `index` of `sp` (an upper entry's child stays, unlinked). */
  clearEntry(sp: number, index: number): void {
    const at = sp * ENTRIES + index;
    const old = this.entry(sp, index);
    if (old < 0) return;
    if (this.level[sp]! > 1) this.removeParent(old, at);
    this.entries.set(at, NONE);
  }

  /** How many entries point at `sp` (the pages holding them: parentPage(sp, 0 ..), read without a list made). */
  parentLinks(sp: number): number {
    return this.parentCount[sp]!;
  }

  parentPage(sp: number, i: number): number {
    return Math.floor(this.parents[sp]![i]! / ENTRIES);
  }

  /**
   * The length of `sp`'s list of entries that may be present; presentIndex(sp, k) is the
   * k-th index in it, whose entry may have gone since (entry() < 0). Read without a list made.
   */
  presentLength(sp: number): number {
    return this.present[sp] === undefined ? 0 : this.presentCount[sp]!;
  }

  presentIndex(sp: number, k: number): number {
    return this.present[sp]![k]!;
  }

  /** The present entries of `sp` (their indices). */
  presentEntries(sp: number): readonly number[] {
    const list = this.present[sp];
    if (list === undefined) return [];
    return list.slice(0, this.presentCount[sp]).filter((i) => this.entry(sp, i) >= 0);
  }

  /** kvm_unsync_page: a level-1 page let go unsync. */
  markUnsync(sp: number): void {
    if (this.unsync[sp]) return;
    this.unsync[sp] = 1;
    const g = this.gfn[sp]!;
    this.unsyncOf.set(g, (this.unsyncOf.get(g) ?? 0) + 1);
  }

  /** The page is synced and write-protected again. */
  markSynced(sp: number): void {
    if (!this.unsync[sp]) return;
    this.unsync[sp] = 0;
    const g = this.gfn[sp]!;
    const n = (this.unsyncOf.get(g) ?? 1) - 1;
    if (n > 0) this.unsyncOf.set(g, n);
    else this.unsyncOf.delete(g);
  }

  /**
   * kvm_mmu_prepare_zap_page + commit: unlinked from its parents, its children unlinked,
   * unhashed. A root in use stays allocated, invalid, until its last holder lets go.
   */
  zap(sp: number): void {
    const ps = this.parents[sp];
    const n = this.parentCount[sp]!;
    for (let i = 0; i < n; i++) this.entries.set(ps![i]!, NONE);
    this.parentCount[sp] = 0;
    this.clearAll(sp);
    this.markSynced(sp);
    this.hash.delete(this.gfn[sp]! * 4 + this.level[sp]! - 1);
    this.stat.pagesZapped++;
    if (this.rootCount[sp] === 0) this.free(sp);
    else this.invalid[sp] = 1;
  }

  /** A root holder lets go of `sp`: freed if it was invalid and no one holds it. Returns whether it was. */
  unpin(sp: number): boolean {
    if (this.rootCount[sp]! <= 0) throw new Error(`root_count of shadow page ${sp} below 0`);
    if (--this.rootCount[sp]! === 0 && this.invalid[sp]) {
      this.free(sp);
      return true;
    }
    return false;
  }

  /**
   * make_mmu_pages_available: below KVM_MIN_FREE_MMU_PAGES free, zap the oldest pages
   * that no root holds until KVM_REFILL_PAGES are free. Returns the pages zapped.
   */
  makeAvailable(): number {
    if (this.nFree >= KVM_MIN_FREE_MMU_PAGES) return 0;
    let zapped = 0;
    let sp = this.active.tail;
    while (this.nFree < KVM_REFILL_PAGES && sp !== NONE) {
      const before = this.active.prev[sp]!;
      if (this.rootCount[sp] === 0) {
        this.zap(sp);
        this.stat.pagesEvicted++;
        zapped++;
      }
      sp = before;
    }
    return zapped;
  }

  /** Pages in use at `level` (the checker's). */
  *pagesAt(level: number): Generator<number> {
    for (let sp = 0; sp < this.capacity; sp++) if (this.gfn[sp]! >= 0 && this.level[sp] === level && !this.invalid[sp]) yield sp;
  }

  private notePresent(sp: number, index: number): void {
    let n = this.presentCount[sp]!;
    if (n === ENTRIES) n = this.compactPresent(sp);
    (this.present[sp] ??= [])[n] = index;
    this.presentCount[sp] = n + 1;
  }

  private compactPresent(sp: number): number {
    let n = 0;
    const list = this.present[sp]!;
    for (let i = 0; i < ENTRIES; i++) if (this.entry(sp, i) >= 0) list[n++] = i;
    this.presentCount[sp] = n;
    return n;
  }

  private clearAll(sp: number): void {
    const n = this.presentCount[sp]!;
    const list = this.present[sp];
    const upper = this.level[sp]! > 1;
    for (let i = 0; i < n; i++) {
      const idx = list![i]!;
      const e = this.entry(sp, idx);
      if (e < 0) continue;
      if (upper) this.removeParent(e, sp * ENTRIES + idx);
      this.entries.set(sp * ENTRIES + idx, NONE);
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
    this.gfn[sp] = NONE;
    this.invalid[sp] = 0;
    this.active.unlink(sp);
    this.freeStack[this.nFree++] = sp;
  }
}
