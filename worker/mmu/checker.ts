/**
 * The translation checker: compares every translation the shadow page tables hold with
 * a walk of the guest's own page tables (the invariant KVM's mmu audit code, the
 * AUDIT option of mmu.c, checks). For each shadow root, the guest frame it shadows is
 * read as a page directory: a shadow PDE must point at the shadow of the page table the
 * guest PDE names, and each present shadow PTE must map the frame the guest PTE maps.
 * Anything else is a stale translation: the guest could reach memory its own tables no
 * longer map.
 */
import { PAGE_SHIFT, PTE_P, type GuestMemory } from '../memory.js';
import { LEVEL_PD, type ShadowMmu } from './shadow.js';

/** How many shadow translations, over all roots, disagree with the guest's tables. */
export function countStaleTranslations(mmu: ShadowMmu, mem: GuestMemory): number {
  let stale = 0;
  const spte = mmu.spte;
  for (const root of mmu.pagesAt(LEVEL_PD)) {
    const pd = mmu.gfn[root]!;
    for (let pdi = 0; pdi < 1024; pdi++) {
      const pt = spte[root * 1024 + pdi]!;
      if (pt < 0) continue;
      const pde = mem.readEntry(pd, pdi);
      const ptFrame = pde >>> PAGE_SHIFT;
      const pdeOk = (pde & PTE_P) !== 0 && ptFrame === mmu.gfn[pt];
      for (let pti = 0; pti < 1024; pti++) {
        const e = spte[pt * 1024 + pti]!;
        if (e < 0) continue;
        if (!pdeOk) {
          stale++;
          continue;
        }
        const pte = mem.readEntry(ptFrame, pti);
        if ((pte & PTE_P) === 0 || pte >>> PAGE_SHIFT !== e >>> 2) stale++;
      }
    }
  }
  return stale;
}
