/**
 * The translation checker: compares every translation a shard's shadow page tables hold
 * with a walk of the guest's own page tables (the invariant KVM's mmu audit code, the
 * AUDIT option of mmu.c, checks). For each shadow root, the guest frame it shadows is
 * read as a page directory: a shadow PDE must point at the shadow of the page table the
 * guest PDE names, and each present shadow PTE must map the frame the guest PTE maps.
 * Anything else is a stale translation: the guest could reach memory its own tables no
 * longer map.
 */
import type { GuestMemory } from '../../../machine/memory.js';
import { PAGE_SHIFT, PTE_P } from '../../../machine/paging.js';
import type { ShadowPages } from './pages.js';
import { LEVEL_PD, SPTE_ENTRIES, spteFrame } from './spte.js';

/** How many shadow translations, over all roots, disagree with the guest's tables. */
export function countStaleTranslations(pages: ShadowPages, mem: GuestMemory): number {
  let stale = 0;
  for (const root of pages.pagesAt(LEVEL_PD)) {
    const pd = pages.gfn[root]!;
    for (let pdi = 0; pdi < SPTE_ENTRIES; pdi++) {
      const pt = pages.entry(root * SPTE_ENTRIES + pdi);
      if (pt < 0) continue;
      const pde = mem.readEntry(pd, pdi);
      const ptFrame = pde >>> PAGE_SHIFT;
      const pdeOk = (pde & PTE_P) !== 0 && ptFrame === pages.gfn[pt];
      for (let pti = 0; pti < SPTE_ENTRIES; pti++) {
        const e = pages.entry(pt * SPTE_ENTRIES + pti);
        if (e < 0) continue;
        if (!pdeOk) {
          stale++;
          continue;
        }
        const pte = mem.readEntry(ptFrame, pti);
        if ((pte & PTE_P) === 0 || pte >>> PAGE_SHIFT !== spteFrame(e)) stale++;
      }
    }
  }
  return stale;
}
