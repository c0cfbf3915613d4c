/**
 * Unsync shadow pages and their sync (arch/x86/kvm/mmu/mmu.c: kvm_unsync_page,
 * mmu_sync_children, kvm_sync_page). A level-1 page the guest wrote is let go unsync: the
 * guest stores to its table without exits, and its shadow entries may lag. At a sync
 * point (kvm_mmu_sync_roots: a root loaded, a cr3 write that flushes, a guest TLB flush)
 * every unsync page the root reaches is read again from the guest's table: entries the
 * guest no longer gives are dropped, and the page is write-protected again.
 */
import type { GuestMemory } from '../../../machine/memory.js';
import { PAGE_SHIFT, PTE_P, PTE_RW } from '../../../machine/paging.js';
import { SPTE_WRITABLE, spteFrame, type ShadowPages64 } from './pages.js';

export class UnsyncPages {
  /** The unsync pages (a few at a time). */
  private readonly list: number[] = [];

  constructor(
    private readonly pages: ShadowPages64,
    private readonly mem: GuestMemory,
  ) {}

  /** kvm_unsync_page. */
  add(sp: number): void {
    this.pages.markUnsync(sp);
    this.list.push(sp);
  }

  /** The pages of the list that are no longer unsync (zapped) leave it. */
  prune(): void {
    const list = this.list;
    for (let i = list.length - 1; i >= 0; i--) {
      if (this.pages.unsync[list[i]!]) continue;
      list[i] = list[list.length - 1]!;
      list.pop();
    }
  }

  /** mmu_sync_children from `root`: each unsync page it reaches synced. Returns how many. */
  syncReachable(root: number): number {
    const list = this.list;
    let n = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      const sp = list[i]!;
      if (!this.reaches(root, sp, 0)) continue;
      this.syncPage(sp);
      list[i] = list[list.length - 1]!;
      list.pop();
      n++;
    }
    return n;
  }

  /** Does `root` reach `sp` (up through its parents: PDs, PDPTs, roots)? */
  private reaches(root: number, sp: number, depth: number): boolean {
    if (sp === root) return true;
    if (depth > 3) return false;
    const pages = this.pages;
    for (let i = 0, n = pages.parentLinks(sp); i < n; i++) if (this.reaches(root, pages.parentPage(sp, i), depth + 1)) return true;
    return false;
  }

  /** kvm_sync_page: the guest's PTEs read again; entries they no longer give dropped; the page write-protected again. */
  private syncPage(sp: number): void {
    const pages = this.pages;
    const gfn = pages.gfn[sp]!;
    // Syncing clears entries, never adds or moves one in the list: it is read in place.
    for (let k = 0, n = pages.presentLength(sp); k < n; k++) {
      const i = pages.presentIndex(sp, k);
      const e = pages.entry(sp, i);
      if (e < 0) continue;
      const pte = this.mem.readEntry(gfn, i);
      if ((pte & PTE_P) === 0 || pte >>> PAGE_SHIFT !== spteFrame(e) || ((e & SPTE_WRITABLE) !== 0 && (pte & PTE_RW) === 0)) pages.clearEntry(sp, i);
    }
    pages.markSynced(sp);
  }
}
