/**
 * A vCPU's roots in KVM's shadow MMU since 2018 (struct kvm_mmu: root and
 * prev_roots[KVM_MMU_NUM_PREV_ROOTS], each a struct kvm_mmu_root_info of the guest's pgd
 * and the root's shadow page), and fast_pgd_switch's search of them (arch/x86/kvm/mmu/
 * mmu.c of v5.18 and later):
 *  - the current root serves a cr3 of its own pgd;
 *  - else, with a current root, cached_root_find_and_keep_current swaps the current root
 *    with prev_roots[0], [1], ... until one serves: a true LRU, the old current root
 *    becoming prev_roots[0]; when none serves, the root left in the current slot (the old
 *    least recently used) is freed (its root_count dropped) and the load misses;
 *  - without one, cached_root_find_without_current takes a serving previous root and
 *    bubbles the rest up, the last slot left empty.
 * A root serves when its pgd (the cr3 value without the no-flush bit: the page table's
 * address with the PCID in its low 12 bits) is the new one and its shadow page is still
 * valid (is_root_usable). `prevRoots` (N) may be 0: only the current root is kept.
 */
import type { ShadowPages64 } from './pages.js';

/** The key of a root: what is_root_usable compares (the PML4 frame and the PCID). */
export const rootKey = (frame: number, pcid: number): number => frame * 4096 + pcid;

export class RootCache {
  /** The current root's key and shadow page (-1: invalid, to be loaded before the next entry). */
  key = -1;
  sp = -1;
  /** The previous roots, most recently used first (sp -1: empty). */
  readonly prevKey: Float64Array;
  readonly prevSp: Int32Array;
  /**
   * The roots the last switchTo, freePcid or freeInvalid let go of, in the order KVM drops
   * their root_count: freed[0 .. nFreed) (the caller drops them; no callback is made per cr3 load).
   */
  readonly freed: Int32Array;
  nFreed = 0;

  constructor(readonly n: number) {
    this.prevKey = new Float64Array(n).fill(-1);
    this.prevSp = new Int32Array(n).fill(-1);
    this.freed = new Int32Array(n + 1);
  }

  private usable(pages: ShadowPages64, key: number, sp: number, want: number): boolean {
    return key === want && sp >= 0 && pages.invalid[sp] === 0;
  }

  /**
   * fast_pgd_switch to `want`: true when a cached root serves it (it is now the current
   * one), false when the load missed (the current root is invalid; a root freed from the
   * cache is in `freed` for its root_count to be dropped).
   */
  switchTo(pages: ShadowPages64, want: number): boolean {
    this.nFreed = 0;
    if (this.sp >= 0) {
      if (this.usable(pages, this.key, this.sp, want)) return true;
      for (let i = 0; i < this.n; i++) {
        const k = this.prevKey[i]!;
        const s = this.prevSp[i]!;
        this.prevKey[i] = this.key;
        this.prevSp[i] = this.sp;
        this.key = k;
        this.sp = s;
        if (this.usable(pages, k, s, want)) return true;
      }
      // The least recently used root, now in the current slot, is freed.
      if (this.sp >= 0) this.freed[this.nFreed++] = this.sp;
      this.key = -1;
      this.sp = -1;
      return false;
    }
    for (let i = 0; i < this.n; i++) {
      if (!this.usable(pages, this.prevKey[i]!, this.prevSp[i]!, want)) continue;
      this.key = this.prevKey[i]!;
      this.sp = this.prevSp[i]!;
      for (let j = i; j < this.n - 1; j++) {
        this.prevKey[j] = this.prevKey[j + 1]!;
        this.prevSp[j] = this.prevSp[j + 1]!;
      }
      this.prevKey[this.n - 1] = -1;
      this.prevSp[this.n - 1] = -1;
      return true;
    }
    return false;
  }

  /** kvm_mmu_load's new root for `key` (the current slot was invalid). */
  setCurrent(key: number, sp: number): void {
    this.key = key;
    this.sp = sp;
  }

  /** PVM's direct switch: the current root and prev_roots[0] trade places. */
  swapWithFirst(): void {
    const k = this.prevKey[0]!;
    const s = this.prevSp[0]!;
    this.prevKey[0] = this.key;
    this.prevSp[0] = this.sp;
    this.key = k;
    this.sp = s;
  }

  /** kvm_invalidate_pcid's prev_roots freed: the roots of PCID `pcid` but `except` leave the cache (into `freed`); returns whether the current one went. */
  freePcid(pcid: number, except: number): boolean {
    return this.freeWhere(null, pcid, except);
  }

  /** KVM_REQ_MMU_FREE_OBSOLETE_ROOTS: the roots whose shadow page is invalid leave the cache (into `freed`); returns whether the current one went. */
  freeInvalid(pages: ShadowPages64): boolean {
    return this.freeWhere(pages, -1, -1);
  }

  /** The roots that are invalid in `pages`, or without `pages` of PCID `pcid` but `except`, freed: the previous ones first, in order, then the current one. */
  private freeWhere(pages: ShadowPages64 | null, pcid: number, except: number): boolean {
    this.nFreed = 0;
    for (let i = 0; i < this.n; i++) {
      const s = this.prevSp[i]!;
      if (s < 0 || !this.drops(pages, pcid, except, this.prevKey[i]!, s)) continue;
      this.freed[this.nFreed++] = s;
      this.prevSp[i] = -1;
      this.prevKey[i] = -1;
    }
    if (this.sp >= 0 && this.drops(pages, pcid, except, this.key, this.sp)) {
      this.freed[this.nFreed++] = this.sp;
      this.sp = -1;
      this.key = -1;
      return true;
    }
    return false;
  }

  private drops(pages: ShadowPages64 | null, pcid: number, except: number, key: number, sp: number): boolean {
    return pages !== null ? pages.invalid[sp] === 1 : sp !== except && key % 4096 === pcid;
  }

  /** Every valid root's shadow page (current first). */
  *all(): Generator<number> {
    if (this.sp >= 0) yield this.sp;
    for (let i = 0; i < this.n; i++) if (this.prevSp[i]! >= 0) yield this.prevSp[i]!;
  }
}
