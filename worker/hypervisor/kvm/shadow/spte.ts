/**
 * Shadow page-table entries, in one place: what the hardware walks in place of the
 * guest's tables (mmu.c's spte bits, reduced). Each shadow page shadows one guest
 * page-table frame at one level (its role): a guest page directory (level 2; a root when
 * a cr3 points at it) or a guest page table (level 1), 1024 entries each.
 *
 * Encoding in a shard's `spte` array: SPTE_NONE (-1) = not present. A level-2 entry
 * holds the index of the child shadow page. A level-1 entry holds
 * (frame << 2) | writable << 1 | global.
 */
export const LEVEL_PT = 1;
export const LEVEL_PD = 2;
export const SPTE_ENTRIES = 1024;
export const SPTE_NONE = -1;

export const SPTE_GLOBAL = 1;
export const SPTE_WRITABLE = 2;

/** A level-1 entry mapping guest frame `frame`. */
export function makeSpte(frame: number, writable: boolean, global: boolean): number {
  return (frame << 2) | (writable ? SPTE_WRITABLE : 0) | (global ? SPTE_GLOBAL : 0);
}

/** The guest frame a level-1 entry maps. */
export function spteFrame(e: number): number {
  return e >>> 2;
}
