/**
 * The translation checker: compares every translation a shard's shadow page tables hold
 * with a walk of the guest's own page tables (the invariant KVM's mmu audit code, the
 * AUDIT option of mmu.c, checks). For each shadow root (a quadrant of a guest directory),
 * the guest frame it shadows is read as a page directory: a shadow PDE must point at the
 * shadow of the right half of the page table the guest PDE names, and each present shadow
 * PTE must map the frame the guest PTE maps. Anything else is a stale translation: the
 * guest could reach memory its own tables no longer map.
 */
import type { GuestMemory } from '../../../machine/memory.js';
import { PAGE_SHIFT, PTE_P } from '../../../machine/paging.js';
import type { ShadowPages } from './pages.js';
import { LEVEL_PD, SPTE_ENTRIES, spteFrame } from './spte.js';

/**
 * How many shadow translations, over all roots, disagree with the guest's tables. A root
 * shadows its own frame, or with `directoryOf` the frame it gives (kvm-upstream's one set
 * of roots shadows whichever directory is loaded).
 */
export function countStaleTranslations(pages: ShadowPages, mem: GuestMemory, directoryOf: ((root: number) => number) | null = null): number {
  let stale = 0;
  for (const root of pages.pagesAt(LEVEL_PD)) {
    const pd = directoryOf !== null ? directoryOf(root) : pages.gfn[root]!;
    const q = pages.quadrant[root]!;
    for (let i = 0; i < SPTE_ENTRIES; i++) {
      const pt = pages.entry(root * SPTE_ENTRIES + i);
      if (pt < 0) continue;
      const pdi = q * 256 + (i >>> 1);
      const half = i & 1;
      const pde = mem.readEntry(pd, pdi);
      const ptFrame = pde >>> PAGE_SHIFT;
      const pdeOk = (pde & PTE_P) !== 0 && ptFrame === pages.gfn[pt] && pages.quadrant[pt] === half;
      for (let j = 0; j < SPTE_ENTRIES; j++) {
        const e = pages.entry(pt * SPTE_ENTRIES + j);
        if (e < 0) continue;
        if (!pdeOk) {
          stale++;
          continue;
        }
        const pte = mem.readEntry(ptFrame, half * SPTE_ENTRIES + j);
        if ((pte & PTE_P) === 0 || pte >>> PAGE_SHIFT !== spteFrame(e)) stale++;
      }
    }
  }
  return stale;
}
